"""Videos to files (``dasl reconstruct clip.mp4``): faces tracked frame by frame (:mod:`dasl.tracking`),
``<stem>.jsonl`` (a line per frame, every face with its track id) and, with ``overlay``, ``<stem>_overlay.mp4``.
Every file is written under a temporary name and renamed; a video that breaks off early keeps its frames
under ``<stem>.partial.jsonl``."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from functools import cache
from pathlib import Path

import cv2
from tqdm import tqdm

from dasl.api import Reconstructor
from dasl.errors import BadInputError
from dasl.export import images as pictures
from dasl.fileio import atomic_path, bar_disabled
from dasl.tracking import FaceTracker


@cache
def overlay_codec() -> str:
    """The overlay video's codec: H.264 (``avc1``, what browsers play) where this OpenCV build can encode it,
    else MPEG-4 Part 2 (``mp4v``: desktop players; the pip builds of OpenCV carry no H.264 encoder)."""
    saved = os.dup(2)  # OpenCV and FFmpeg write the expected failure of the probe to stderr: not news
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            with tempfile.TemporaryDirectory() as tmp:
                probe = cv2.VideoWriter(str(Path(tmp) / "probe.mp4"), cv2.VideoWriter_fourcc(*"avc1"), 10, (64, 48))
                works = probe.isOpened()
                probe.release()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    return "avc1" if works else "mp4v"


class TruncatedVideoError(BadInputError):
    """A video ended before the frames its header announces; the frames read were written."""


def process_video(
    rec: Reconstructor,
    path: Path,
    out: Path,
    stem: Path,
    kinds: Iterable[str],
    smooth: float,
    detect_every: int,
    progress: bool,
) -> int:
    """JSON lines (one per frame, faces with their track ids) and, when ``overlay`` is asked for, an overlay
    video; faces are tracked by their landmarks (:class:`dasl.tracking.FaceTracker`). Returns the number
    of faces over all frames (face-frames). A video that breaks off early keeps the frames read in
    ``<stem>.partial.jsonl`` (not the done marker: a rerun tries it again) and raises
    :class:`TruncatedVideoError` afterwards."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise BadInputError(path, "not a readable video")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    base = out / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    tracker = FaceTracker(rec, detect_every=detect_every, smooth=smooth)
    draw = "overlay" in set(kinds)
    count, frames = 0, 0
    jsonl = base.with_name(f"{base.name}.jsonl")
    with ExitStack() as stack:
        lines = stack.enter_context(open(stack.enter_context(atomic_path(jsonl)), "w"))
        video_path = stack.enter_context(atomic_path(base.with_name(f"{base.name}_overlay.mp4"))) if draw else None
        writer = None
        bar = tqdm(total=total or None, desc=path.name, disable=bar_disabled(progress), leave=False)
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)  # a tenth of the time of a reversed-stride copy
            faces = tracker(rgb)
            count += len(faces)
            lines.write(json.dumps({"frame": frames, "faces": [f.to_dict() for f in faces]}) + "\n")
            if draw:
                drawn = pictures.overlay(
                    rgb,
                    [(f.face.mesh_vertices, f.face.region.triangles) for f in faces],
                    [f.face.landmarks_2d for f in faces],
                )
                if writer is None:
                    fourcc = cv2.VideoWriter_fourcc(*overlay_codec())
                    writer = cv2.VideoWriter(str(video_path), fourcc, fps, (rgb.shape[1], rgb.shape[0]))
                writer.write(cv2.cvtColor(drawn, cv2.COLOR_RGB2BGR))
            frames += 1
            bar.update(1)
        bar.close()
        if writer is not None:
            writer.release()
        capture.release()
        if frames == 0:
            raise BadInputError(path, "the video has no readable frame")
    if total and frames < total:  # not done: the frames read go to a name a rerun does not take for done
        partial = base.with_name(f"{base.name}.partial.jsonl")
        os.replace(jsonl, partial)
        raise TruncatedVideoError(
            path, f"the video breaks off after {frames} of its {total} frames; those frames are in {partial}"
        )
    return count
