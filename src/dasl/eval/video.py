"""Video at camera speed, measured: test clips with known motion, and the tracker scored on them.

**Clips** (:func:`make_clip`): a photo seen by a virtual camera that pans, zooms and turns in-plane
(each frame is the photo through a similarity transform ``M_t``, 640x480), so the true landmark
trajectory is known up to the model's error on the first frame: ``g_t = M_t M_0^-1 (p_0)`` with ``p_0``
the prediction on frame 0 (detect-every-frame). With ``leave`` the face also moves out of the frame and
back in the middle of the clip.

**Scores** (:func:`score`), per pipeline: frames per second (the tracker and the JSON record of each
frame, nothing else), NME of the predicted 68 landmarks against ``g_t`` (% of sqrt(w h) of ``g_t``'s
box, frames where the face is inside the frame), and jitter: the frame-to-frame change of the landmarks
minus the true change, ``|(p_t - p_{t-1}) - (g_t - g_{t-1})|`` averaged over landmarks, in % of the same
size.

**End to end** (:func:`end_to_end`): the clip written to an MP4 file and run through ``dasl reconstruct``'s
video path (:func:`dasl.videos.process_video`: decoding, tracking, smoothing, JSON lines, and with
``overlay`` the drawn video encoded), wall frames per second.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from dasl.api import Reconstructor
from dasl.errors import BadInputError
from dasl.eval.metrics import box_size, nme
from dasl.tracking import FaceTracker
from dasl.videos import process_video

FRAME_SIZE = (640, 480)


@dataclass
class Clip:
    """``frames`` ``(T, H, W, 3)`` RGB uint8 and ``motion`` ``(T, 2, 3)``: photo pixels -> frame pixels
    (0-based, OpenCV's convention)."""

    frames: np.ndarray
    motion: np.ndarray

    def follow(self, photo_points: np.ndarray) -> np.ndarray:
        """Photo-pixel points ``(K, 2)`` in every frame ``(T, K, 2)``."""
        return np.einsum("tij,kj->tki", self.motion[:, :, :2], photo_points) + self.motion[:, None, :, 2]

    def from_frame(self, t: int, points: np.ndarray) -> np.ndarray:
        """Frame ``t``'s pixel points ``(K, 2)`` back in the photo."""
        a, b = self.motion[t, :, :2], self.motion[t, :, 2]
        return (points - b) @ np.linalg.inv(a).T


def make_clip(
    photo: np.ndarray,
    face_centre: np.ndarray,
    face_side: float,
    frames: int = 300,
    size: tuple[int, int] = FRAME_SIZE,
    leave: bool = False,
    target_side: float = 170.0,
    motion_share: float = 1.0,
) -> Clip:
    """A clip of ``photo`` whose face (centre ``face_centre``, photo pixels; side ``face_side``) is panned
    over the frame on a Lissajous path, zoomed between 0.75 and 1.3 times ``target_side`` pixels and turned
    by up to 20 degrees; ``leave``: frames 40-60% of the clip carry it out of the left edge and back.
    ``motion_share``: the share of the full motion the clip covers (less: slower motion per frame)."""
    width, height = size
    u = np.linspace(0.0, 1.0, frames)
    t = motion_share * u
    cx = width / 2 + 0.28 * width * np.sin(2 * np.pi * 1.0 * t)
    cy = height / 2 + 0.22 * height * np.sin(2 * np.pi * 1.5 * t + 0.6)
    if leave:
        away = np.clip(1 - np.abs(u - 0.5) / 0.1, 0, 1)  # 0 outside frames 40-60%, 1 at the middle
        cx = cx - away * (cx + 1.2 * target_side)
    zoom = (0.75 + 0.55 * (0.5 + 0.5 * np.sin(2 * np.pi * 0.8 * t))) * target_side / face_side
    angle = np.radians(20.0 * np.sin(2 * np.pi * 0.6 * t))
    motion = np.zeros((frames, 2, 3))
    out = np.zeros((frames, height, width, 3), np.uint8)
    for k in range(frames):
        c, s = np.cos(angle[k]) * zoom[k], np.sin(angle[k]) * zoom[k]
        a = np.array([[c, -s], [s, c]])
        motion[k, :, :2] = a
        motion[k, :, 2] = np.array([cx[k], cy[k]]) - a @ face_centre
        out[k] = cv2.warpAffine(photo, motion[k], size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
    return Clip(out, motion)


def make_scene_clip(
    photo: np.ndarray,
    face_centre: np.ndarray,
    face_side: float,
    path: np.ndarray,
    target_side: float = 150.0,
    size: tuple[int, int] = FRAME_SIZE,
    seed: int = 0,
) -> Clip:
    """A clip of the photo pasted, upright and unscaled over time, on a background of smooth moving noise:
    the face's centre at ``path[t]`` (frame pixels; NaN: no face in frame ``t``, the background only), its
    side ``target_side`` pixels. Unlike :func:`make_clip` nothing of the photo shows where the photo is not
    (no mirrored copies at the frame's edges), so a face that leaves is gone. Frames without a face have
    NaN motion."""
    width, height = size
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(30, 220, (height // 24 + 2, width // 12 + 2, 3)).astype(np.float32)
    field = cv2.resize(coarse, (2 * width, height + 48), interpolation=cv2.INTER_CUBIC)
    scale = target_side / face_side
    frames = np.zeros((len(path), height, width, 3), np.uint8)
    motion = np.full((len(path), 2, 3), np.nan)
    for k, centre in enumerate(np.asarray(path, dtype=np.float64)):
        shift = int(k * 3) % width  # the background pans 3 px a frame
        frame = np.clip(field[24 : 24 + height, shift : shift + width], 0, 255).astype(np.uint8)
        if np.isfinite(centre).all():
            m = np.array(
                [[scale, 0, centre[0] - scale * face_centre[0]], [0, scale, centre[1] - scale * face_centre[1]]]
            )
            frame = cv2.warpAffine(
                photo, m, size, dst=frame.copy(), flags=cv2.INTER_AREA, borderMode=cv2.BORDER_TRANSPARENT
            )
            motion[k] = m
        frames[k] = frame
    return Clip(frames, motion)


@dataclass
class VideoScore:
    model: str
    name: str
    fps: float
    nme: float
    jitter: float
    frames_with_face: int
    tracks: int


def run_tracker(tracker: FaceTracker, clip: Clip) -> tuple[list[np.ndarray | None], float, set[int]]:
    """The first face's 68 landmarks (or None) per frame, the frames per second and the track ids seen.
    The timed part is the tracker and the JSON record of each frame."""
    marks: list[np.ndarray | None] = []
    ids: set[int] = set()
    started = time.perf_counter()
    for frame in clip.frames:
        faces = tracker(frame)
        json.dumps({"faces": [f.to_dict() for f in faces]})
        marks.append(faces[0].face.landmarks_2d if faces else None)
        ids.update(f.track for f in faces)
    return marks, len(clip.frames) / (time.perf_counter() - started), ids


def score(
    model: str, name: str, marks: list[np.ndarray | None], truth: np.ndarray, fps: float, ids: set[int]
) -> VideoScore:
    """NME and jitter of per-frame landmarks against the true trajectory ``(T, 68, 2)`` (frames where the
    true face box lies inside the frame and a face was found)."""
    width, height = FRAME_SIZE
    inside = (truth.min(1) >= 0).all(1) & (truth[..., 0].max(1) < width) & (truth[..., 1].max(1) < height)
    size = box_size(truth)
    errors, jitter = [], []
    for k, p in enumerate(marks):
        if p is None or not inside[k]:
            continue
        errors.append(float(nme(p[None], truth[k][None], size[k : k + 1])[0]))
        if k and marks[k - 1] is not None and inside[k - 1]:
            step = (p - marks[k - 1]) - (truth[k] - truth[k - 1])
            jitter.append(float(nme(step[None], np.zeros_like(step)[None], size[k : k + 1])[0]))
    return VideoScore(model, name, fps, float(np.mean(errors)), float(np.mean(jitter)), len(errors), len(ids))


def pipelines(detect_every: int, smooth: float) -> dict[str, dict]:
    """The pipelines compared: detect every frame or track, each without and with smoothing; and tracking
    where tracked faces start from their last frame instead of the regressor's pass (``from_last``)."""
    return {
        "detect every frame": {"follow": False, "smooth": 1.0},
        "detect every frame + smoothing": {"follow": False, "smooth": smooth},
        f"tracking (detect every {detect_every}), from the last frame": {
            "detect_every": detect_every,
            "smooth": 1.0,
            "from_last": True,
        },
        f"tracking (detect every {detect_every})": {"detect_every": detect_every, "smooth": 1.0},
        f"tracking (detect every {detect_every}) + smoothing": {"detect_every": detect_every, "smooth": smooth},
    }


def video_benchmark(
    models: list[str],
    photo: np.ndarray,
    source: Path,
    frames: int,
    detect_every: int,
    smooth: float,
    shared,
    progress: Callable[[str], None] = lambda _: None,
    outputs: list[tuple[str, ...]] = (("json",), ("json", "overlay")),
) -> tuple[list[VideoScore], list[EndToEnd]]:
    """Every model through every pipeline on a clip of ``photo`` (its first face). Each model's true
    trajectory comes from its first pipeline (detect every frame) on frame 0; each model's clip also goes
    through ``dasl reconstruct``'s video path once per output set in ``outputs`` (tracking + smoothing)."""
    out, whole = [], []
    for name in models:
        rec = Reconstructor(model=name, shared=shared)
        faces = rec.reconstruct(photo)
        if not faces:
            raise BadInputError(source, "no face found for the clip")
        marks = faces[0].landmarks_2d
        clip = make_clip(photo, (marks.min(0) + marks.max(0)) / 2, float(np.ptp(marks, axis=0).max()), frames)
        truth = None
        for pipeline, options in pipelines(detect_every, smooth).items():
            progress(f"{name}: {pipeline}")
            rec.detect(clip.frames[0])  # warm-up
            found, fps, ids = run_tracker(FaceTracker(rec, **options), clip)
            if truth is None:
                if found[0] is None:
                    raise BadInputError(source, "no face found in the clip's first frame")
                truth = clip.follow(clip.from_frame(0, found[0]))
            out.append(score(name, pipeline, found, truth, fps, ids))
        progress(f"{name}: dasl reconstruct on the clip")
        whole += end_to_end(rec, name, clip, detect_every, smooth, list(outputs))
    return out, whole


def write_clip(clip: Clip, path: Path, fps: float = 30.0) -> Path:
    """The clip as an MP4 file (OpenCV's ``mp4v``)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, FRAME_SIZE)
    for frame in clip.frames:
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    return path


@dataclass
class EndToEnd:
    model: str
    outputs: str
    fps: float
    frames: int


def end_to_end(
    rec: Reconstructor, model: str, clip: Clip, detect_every: int, smooth: float, outputs: list[tuple[str, ...]]
) -> list[EndToEnd]:
    """Wall frames per second of the video path of ``dasl reconstruct`` on the clip, for each output set."""
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        video = write_clip(clip, Path(tmp) / "clip.mp4")
        for kinds in outputs:
            started = time.perf_counter()
            process_video(rec, video, Path(tmp) / "out", Path("clip"), kinds, smooth, detect_every, False)
            fps = len(clip.frames) / (time.perf_counter() - started)
            out.append(EndToEnd(model, "+".join(kinds), fps, len(clip.frames)))
    return out
