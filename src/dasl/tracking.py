"""Faces followed through a video by their landmarks, with stable identities and temporal smoothing.

Per frame (:class:`FaceTracker`):

1. every tracked face is cropped where its landmarks of the previous frame say (the landmark ROI rule,
   as training crops are cut), moved on by the face's motion since the frame before (constant velocity),
   its side averaged over frames (``side_weight``), so the face detector is not needed to follow it;
2. the detector runs on the first frame, every ``detect_every`` frames and on any frame where a track was
   lost. The periodic runs, while every track is sound, search at ``periodic_resolution`` of the full
   resolution (0.5: faces of at least about 80 pixels in a 640x480 frame, in a quarter of the time; the
   first frame and the frames after a loss search at full resolution). With ``background`` (the default)
   a periodic search runs in a thread beside the networks and its detections are matched against the
   tracks ``detect_every // 2`` frames later (a new face appears that much later, its crop cut where the
   search found it and refined around its first landmarks; such late detections never re-seed a track),
   which hides the search's time (50 ms at half resolution on a 640x480 frame, against about 30 ms for a
   frame's networks). A detection that no track covers (IoU of the crop ROIs below ``min_iou``) starts a
   new track with a refinement crop around its first landmarks (as :meth:`dasl.Reconstructor.reconstruct`
   does); one that a track covers by less than ``reseed_iou`` re-seeds that track's crop the same way (so
   a drifting track is pulled back); one that covers its track's crop by ``reseed_iou`` or more leaves
   the track's crop as it is (no extra pass);
3. a face is kept while its crop passes the **confidence test**: at least ``min_inside`` of the crop ROI
   lies inside the frame, and the regressor's disagreement
   (:class:`~dasl.stages.crops.CropResult`: the default's regressor and landmark detector, or a
   mirror-averaged model's two predictions, their 68 landmarks' mean distance in crop pixels) is at
   most ``max_disagreement`` (``None``: the stages' own threshold,
   :attr:`~dasl.stages.crops.CropStages.max_disagreement`, measured on held-out faces and background
   crops by ``scripts/confidence_threshold.py``); a face that fails it ends its track. On tracked crops
   the landmark detector's mirror averaging (the default model's ``+detflip``) stays on unless
   ``mirror_tracked = False``: off, tracking ran 1.3x faster but its NME on the test clip rose from 0.75
   to 0.85 against 0.72 for detecting every frame (the bound is 0.1; docs/product.md#video); crops from
   detections always keep it;
4. two tracks on one face (ROI IoU above ``merge_iou``) become the older one;
5. with ``from_last = True`` a tracked face's crop (not a detection's) starts from the face's parameters
   of the last frame (:meth:`dasl.Reconstructor.regress` with ``start``): the default model then fits its
   detector's landmarks from there and skips the regressor's pass (which then runs on detection frames
   only). Off by default: on ``dasl benchmark video`` it is faster (40.0 against 29.5 frames / s) but
   less accurate (NME 1.13 against 0.76, the same jitter 0.303);
6. with ``follow = False`` every frame's faces come from detections instead (the detect-every-frame
   pipeline), matched to the tracks by ROI overlap for their ids and smoothing;
7. each track's photo-frame parameters are smoothed over time (exponential moving average, weight
   ``smooth`` for the new frame; 1 = off), and the faces come out with their track id.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from dasl.api import Face, Reconstructor
from dasl.detect.base import Detections
from dasl.errors import OptionError
from dasl.geometry.boxes import box_iou
from dasl.geometry.params import affine_params, image_to_crop_params


@dataclass
class TrackedFace:
    """A face of one frame: its ``track`` id, whether its crop came from a detection this frame, and the
    confidence test's ``disagreement`` (crop pixels, NaN where the regressor cannot tell)."""

    track: int
    face: Face
    detected: bool
    disagreement: float

    def to_dict(self) -> dict:
        return {"track": self.track, "detected": self.detected, **self.face.to_dict()}


@dataclass
class _Track:
    id: int
    roi: np.ndarray  # where to crop in the next frame (image frame)
    smoothed: np.ndarray | None = None  # photo-frame parameters
    age: int = 0
    centre: np.ndarray | None = None  # of the last landmark ROI
    side: float = 0.0  # the crop side, averaged over frames
    last: np.ndarray | None = None  # photo-frame parameters of the last frame, unsmoothed
    velocity: np.ndarray = field(default_factory=lambda: np.zeros(2))  # of the crop centre, pixels / frame

    def moved_on(self) -> np.ndarray:
        """The last frame's parameters moved by the velocity (photo model frame: y up)."""
        return affine_params(self.last, np.eye(3), np.array([self.velocity[0], -self.velocity[1], 0.0]))

    def advance(self, landmark_roi: np.ndarray, side_weight: float) -> None:
        """The next frame's crop from this frame's landmark ROI: its centre moved on by the centre's motion
        since the last frame (constant velocity), its side averaged over time (weight ``side_weight`` for
        the new side): a crop cut from the landmarks of the last crop would otherwise feed the model's
        size error back into the next crop, and drift."""
        centre = (landmark_roi[:2] + landmark_roi[2:]) / 2
        side = float(landmark_roi[2] - landmark_roi[0])
        self.velocity = np.zeros(2) if self.centre is None else centre - self.centre
        self.side = side if self.centre is None else side_weight * side + (1 - side_weight) * self.side
        self.centre = centre
        ahead = centre + self.velocity
        self.roi = np.round(np.concatenate([ahead - self.side / 2, ahead + self.side / 2]))


@cache
def _search_thread() -> ThreadPoolExecutor:
    """The one thread of the process that runs trackers' periodic face searches (one search at a time)."""
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="dasl-detect")


@dataclass
class FaceTracker:
    """Follows the faces of consecutive frames (see the module docstring); call it on each frame."""

    rec: Reconstructor
    detect_every: int = 10
    smooth: float = 0.5
    max_disagreement: float | None = None
    min_inside: float = 0.3
    min_iou: float = 0.3
    merge_iou: float = 0.5
    side_weight: float = 0.3
    periodic_resolution: float = 0.5
    reseed_iou: float = 0.5
    #: the landmark detector's mirror averaging on tracked crops (step 3 of the module docstring)
    mirror_tracked: bool = True
    #: periodic detections in a thread beside the networks, their result used a few frames on (step 2);
    #: ``None``: only for a slow detector (dlib's), a fast one (MTCNN) searches in step with the frames
    background: bool | None = None
    #: False: crop every face from a detection on every frame (tracks only keep ids and smoothing)
    follow: bool = True
    #: tracked faces start from their last frame's parameters (step 5 of the module docstring)
    from_last: bool = False
    frame_index: int = 0
    tracks: list[_Track] = field(default_factory=list)
    _next_id: int = 0
    _lost: bool = False
    _pending: tuple[int, Future] | None = None

    def __post_init__(self) -> None:
        if not 0.0 < self.smooth <= 1.0:  # NaN fails too
            raise OptionError(f"smooth must be above 0 and at most 1 (the new frame's weight), not {self.smooth}")
        if self.detect_every < 1:
            raise OptionError(f"detect_every must be at least 1, not {self.detect_every}")
        if self.background is None:
            self.background = not self.rec.detector.fast

    def __call__(self, frame: np.ndarray) -> list[TrackedFace]:
        height, width = frame.shape[:2]
        periodic = self.follow and self.frame_index % max(1, self.detect_every) == 0
        full = not self.follow or not self.tracks or self._lost
        found, fresh = self._detections(frame, full, periodic)
        self.frame_index += 1
        self._lost = False
        # candidates: (crop ROI, its track or None, cropped from a detection, box)
        candidates: list[tuple[np.ndarray, _Track | None, bool, np.ndarray]] = []
        if self.follow:
            candidates = [(t.roi, t, False, np.array([*t.roi, 1.0])) for t in self.tracks]
        if found is not None:
            found = found.take(found.turns == 0)  # faces are followed upright (a lying face: photos only)
            for roi, box in zip(found.rois(), found.boxes, strict=True):
                overlaps = [box_iou(roi, t.roi) for t in self.tracks]
                best = int(np.argmax(overlaps)) if overlaps else -1
                covered = best >= 0 and overlaps[best] >= self.min_iou
                if covered and self.follow and (overlaps[best] >= self.reseed_iou or not fresh):
                    continue  # the face of a sound track (or a search of frames ago): its own crop stays
                if covered:
                    # the face of a track that drifted: the detection re-seeds its crop, same id
                    candidates = [c for c in candidates if c[1] is not self.tracks[best]]
                    candidates.append((roi, self.tracks[best], True, box))
                else:
                    candidates.append((roi, None, True, box))
        if not candidates:
            self.tracks = []
            return []
        rois = np.stack([c[0] for c in candidates])
        refine = np.array([c[2] for c in candidates])
        if refine.any():  # crops from detections: a second crop around their first landmarks
            rois[refine] = self.rec.refined_rois(frame, rois[refine])
        params, disagreement, doubt, sure = self._regress(frame, rois, candidates, refine)
        keep = [self._passes(roi, d, width, height) and ok for roi, d, ok in zip(rois, disagreement, sure, strict=True)]
        if any(not k and c[1] is not None for k, c in zip(keep, candidates, strict=True)):
            self._lost = True  # detect on the next frame: the face may have moved elsewhere
        faces = self.rec.faces(params, rois, np.stack([c[3] for c in candidates]), height)
        for face, d, u in zip(faces, disagreement, doubt, strict=True):
            face.disagreement, face.doubt = float(d), float(u)
        out, tracks, taken = [], [], set()
        for i in np.argsort([c[1].age if c[1] is not None else -1 for c in candidates], kind="stable")[::-1]:
            owner = candidates[i][1]
            if not keep[i] or id(owner) in taken or any(box_iou(rois[i], t.roi) > self.merge_iou for t in tracks):
                continue
            track = owner or self._new_track(rois[i])
            taken.add(id(track))
            track.last = faces[i].image_params
            face = self._smoothed(track, faces[i])
            track.advance(self.rec.landmark_rois(params[i : i + 1], rois[i : i + 1])[0], self.side_weight)
            track.age += 1
            tracks.append(track)
            out.append(TrackedFace(track.id, face, bool(candidates[i][2]), float(disagreement[i])))
        self.tracks = tracks
        return sorted(out, key=lambda f: f.track)

    def _detections(self, frame: np.ndarray, full: bool, periodic: bool) -> tuple[Detections | None, bool]:
        """This frame's detections to match against the tracks, if any, and whether they are of this frame:
        a full-resolution search now (``full``), or a periodic search's result. With ``background`` a
        periodic search runs in a thread beside the networks (dlib releases the GIL) on a copy of its
        frame, and its result is taken ``detect_every // 2`` frames later (always then: the same frames get
        the same detections on every run); it can start new tracks but, being of an earlier frame, never
        re-seeds one. Without ``background`` it runs now."""
        if full:
            if self._pending is not None:  # one search at a time on the detector
                self._pending[1].result()
                self._pending = None
            return self.rec.detect(frame, 1.0, upright=True), True
        found = None
        if self._pending is not None and self.frame_index >= self._pending[0]:
            found = self._pending[1].result()
            self._pending = None
        if periodic and self._pending is None:
            if not self.background:
                return self.rec.detect(frame, self.periodic_resolution, upright=True), True
            due = self.frame_index + max(1, self.detect_every // 2)
            search = _search_thread().submit(self.rec.detect, frame.copy(), self.periodic_resolution, True)
            self._pending = (due, search)
        return found, False

    def _regress(
        self, frame: np.ndarray, rois: np.ndarray, candidates, detected: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Parameters, disagreement, the landmark source's doubt and whether that doubt lets the crop hold a
        face, for every candidate crop: with ``from_last``, tracked faces from their last frame (moved on by the track's
        velocity, as its crop was); the others by the regressor. Tracked crops run with the landmark
        detector's mirror averaging ``mirror_tracked``, crops from detections (``detected``) as the model
        says."""
        later = np.array(
            [self.from_last and not c[2] and c[1] is not None and c[1].last is not None for c in candidates]
        )
        params, disagreement, doubt = np.zeros((len(rois), 62)), np.full(len(rois), np.nan), np.full(len(rois), np.nan)
        sure = np.ones(len(rois), dtype=bool)

        def run(mask: np.ndarray, starts: np.ndarray | None = None) -> None:
            if mask.any():
                result = self.rec.regress(frame, rois[mask], starts)
                params[mask], disagreement[mask], doubt[mask] = result.params, result.disagreement, result.doubt
                sure[mask] = self.rec.stages.doubt_passes(result)

        with self.rec.stages.mirroring(self.mirror_tracked):
            if later.any():
                run(later, np.stack([c[1].moved_on() for c, k in zip(candidates, later, strict=True) if k]))
            run(~later & ~detected)
        run(detected)
        return params, disagreement, doubt, sure

    def _passes(self, roi: np.ndarray, disagreement: float, width: int, height: int) -> bool:
        area = max((roi[2] - roi[0]) * (roi[3] - roi[1]), 1e-9)
        x0, y0, x1, y1 = max(roi[0], 1.0), max(roi[1], 1.0), min(roi[2], width), min(roi[3], height)
        inside = max(0.0, x1 - x0) * max(0.0, y1 - y0) / area
        limit = self.rec.stages.max_disagreement if self.max_disagreement is None else self.max_disagreement
        return inside >= self.min_inside and not disagreement > limit

    def _new_track(self, roi: np.ndarray) -> _Track:
        self._next_id += 1
        return _Track(self._next_id - 1, roi)

    def _smoothed(self, track: _Track, face: Face) -> Face:
        current = face.image_params
        if track.smoothed is None or self.smooth >= 1.0:
            track.smoothed = current
            return face
        track.smoothed = self.smooth * current + (1 - self.smooth) * track.smoothed
        params = image_to_crop_params(track.smoothed[None], face.roi[None], face.image_height)[0]
        return dataclasses.replace(face, params=params)
