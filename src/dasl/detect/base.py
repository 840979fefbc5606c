"""The interface of face detectors and 2D landmarkers, and what a detection carries.

Boxes are ``(N, 5)`` ``[x0, y0, x1, y1, score]`` and landmarks ``(N, 68, 2)``, both in 0-based pixels of
the image they were found in (dlib's, OpenCV's and the public API's frame; ``docs/conventions.md``).
Images are RGB uint8 ``(H, W, 3)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple, TypeVar

import numpy as np

from dasl.geometry.crop import roi_from_box
from dasl.geometry.frames import boxes_pixels_to_image
from dasl.geometry.turns import turn_boxes, turn_image, turned_size, unturn_points

#: when a detector searches the photo turned by a quarter, a half and three quarters too: ``"never"``,
#: ``"fallback"`` (only when the upright photo's faces leave it unsure; each detector says when) or
#: ``"always"`` (faces lying down beside upright ones)
TURN_SEARCHES = ("never", "fallback", "always")

Found = TypeVar("Found")


def search_turned(image: np.ndarray, k: int, search: Callable[[np.ndarray], Found]) -> Found:
    """``search`` run on the photo turned by ``k`` quarter turns (:mod:`dasl.geometry.turns`); its result (a
    dataclass with ``boxes`` ``(N, >=4)`` and ``keypoints`` ``(N, K, 2)``, 0-based pixels) back in the
    photo's pixels."""
    h, w = image.shape[:2]
    found = search(turn_image(image, k))
    boxes = turn_boxes(found.boxes, -k, *turned_size(k, w, h))
    return replace(found, boxes=boxes, keypoints=unturn_points(found.keypoints, k, w, h))


class RoiCalibration(NamedTuple):
    """How a detector's box maps to dasl's crop ROI (:func:`~dasl.geometry.crop.roi_from_box`): side =
    ``scale`` times the box's mean side, centre moved by ``dx`` and ``dy`` box sides."""

    scale: float
    dx: float
    dy: float

    def rois(self, boxes: np.ndarray) -> np.ndarray:
        """Crop ROIs ``(N, 4)`` from boxes ``(N, >=4)``, both in the image frame (1-based)."""
        b = np.asarray(boxes, dtype=np.float64)
        side = ((b[:, 2] - b[:, 0]) + (b[:, 3] - b[:, 1])) / 2
        shifted = b[:, :4] + np.stack([self.dx * side, np.zeros_like(side), self.dx * side, np.zeros_like(side)], 1)
        return roi_from_box(shifted, scale=self.scale, shift=self.dy)


@dataclass
class Detections:
    """The faces one detector found in one image: ``boxes`` ``(N, 5)`` (0-based pixels, best first), the
    name of the ``detector`` that found them and its ROI ``calibration``; where the detector gives them,
    ``keypoints`` ``(N, 5, 2)`` (0-based pixels: the eye on the image's left in an upright face, the other
    eye, the nose tip, the mouth's left and right corner) and ``turns`` ``(N,)``, the quarter turns that
    bring each face upright (:mod:`dasl.geometry.turns`; none given: all upright)."""

    boxes: np.ndarray
    detector: str
    calibration: RoiCalibration
    keypoints: np.ndarray | None = None
    turns: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.turns is None:
            self.turns = np.zeros(len(self.boxes), dtype=int)

    def __len__(self) -> int:
        return len(self.boxes)

    def rois(self, size: tuple[int, int] | None = None) -> np.ndarray:
        """The crop ROI ``(N, 4)`` of every box, in the image frame (1-based) of the photo turned by the
        face's :attr:`turns` (``size``: the photo's ``(width, height)``, needed when a face is turned)."""
        boxes = self.boxes[:, :4]
        if self.turns.any():
            if size is None:
                raise ValueError("the ROIs of turned faces need the photo's size")
            boxes = np.stack([turn_boxes(b[None], int(k), *size)[0] for b, k in zip(boxes, self.turns, strict=True)])
        return self.calibration.rois(boxes_pixels_to_image(boxes))

    def take(self, index: np.ndarray) -> Detections:
        """The detections ``index`` (indices or a mask) only."""
        return Detections(
            self.boxes[index],
            self.detector,
            self.calibration,
            None if self.keypoints is None else self.keypoints[index],
            self.turns[index],
        )


class FaceDetector(ABC):
    name: str
    #: whether :func:`dasl.detect.find_faces` enlarges small photos for this detector (dlib's need faces of
    #: about 80 pixels)
    enlarge_small: bool = True
    #: whether a search costs little beside the networks (MTCNN: milliseconds): video then searches in step
    #: with its frames instead of in a thread whose result comes frames later (:mod:`dasl.tracking`)
    fast: bool = False

    def upright(self) -> FaceDetector:
        """This detector without searches of the photo turned by quarter turns (video follows upright
        faces)."""
        return self

    @abstractmethod
    def detect(self, image: np.ndarray) -> Detections:
        """The faces in ``image`` at its own size (:func:`dasl.detect.find_faces` resizes photos first)."""


class BoxLandmarker(ABC):
    name: str

    @abstractmethod
    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """68 landmarks ``(N, 68, 2)`` for the faces in ``boxes`` ``(N, >=4)`` (0-based pixels)."""
