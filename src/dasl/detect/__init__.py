"""Face detectors and 2D landmarkers behind one small interface.

Boxes are ``(N, 5)`` ``[x0, y0, x1, y1, score]`` and landmarks ``(N, 68, 2)``, both in the image frame
(1-based pixels, see ``docs/conventions.md``). Images are RGB uint8 ``(H, W, 3)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class FaceDetector(ABC):
    name: str

    @abstractmethod
    def detect(self, image: np.ndarray) -> np.ndarray:
        """Face boxes ``(N, 5)`` with scores, best first."""


class Landmarker(ABC):
    name: str

    @abstractmethod
    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """68 landmarks ``(N, 68, 2)`` for the faces in ``boxes`` ``(N, >=4)``."""


#: how a detector's box maps to dasl's crop ROI (``dasl.geometry.crop.roi_from_box``): side = ``scale``
#: times the box's mean side, centre moved by ``shift`` box sides; medians over 302 HELEN/AFW photos
#: of ``roi_from_landmarks(annotation)`` against each detector's box (docs/product.md)
ROI_CALIBRATION = {
    "dlib-hog": (1.457, 0.003, 0.078),
    "dlib-mmod": (1.415, 0.046, 0.153),
}


class CascadeDetector(FaceDetector):
    """The first detector of a list that finds anything, its boxes tagged with its calibration."""

    def __init__(self, detectors: list[FaceDetector]) -> None:
        self.detectors = detectors
        self.name = "+".join(d.name for d in detectors)
        self.last: FaceDetector | None = None

    def detect(self, image: np.ndarray) -> np.ndarray:
        for detector in self.detectors:
            boxes = detector.detect(image)
            if len(boxes):
                self.last = detector
                return boxes
        self.last = self.detectors[-1]
        return np.zeros((0, 5))


def make_detector(name: str = "dlib") -> FaceDetector:
    """``dlib-hog`` (fast, frontal), ``dlib-mmod`` (CNN, more poses, slower) or ``dlib``: HOG, then MMOD
    on photos where HOG finds nothing."""
    from dasl.detect.dlib_models import DlibDetector

    if name == "dlib-hog":
        return DlibDetector("hog", upsample=1)
    if name == "dlib-mmod":
        return DlibDetector("mmod", upsample=0)
    if name == "dlib":
        return CascadeDetector([DlibDetector("hog", upsample=1), DlibDetector("mmod", upsample=0)])
    raise ValueError(f"unknown detector {name!r}; known: dlib, dlib-hog, dlib-mmod")


def boxes_to_rois(boxes: np.ndarray, detector_name: str) -> np.ndarray:
    """Crop ROIs ``(N, 4)`` (image frame) from detector boxes with that detector's calibration."""
    from dasl.geometry.crop import roi_from_box

    scale, dx, dy = ROI_CALIBRATION.get(detector_name, ROI_CALIBRATION["dlib-hog"])
    b = np.asarray(boxes, dtype=np.float64)
    side = ((b[:, 2] - b[:, 0]) + (b[:, 3] - b[:, 1])) / 2
    shifted = b[:, :4] + np.stack([dx * side, np.zeros_like(side), dx * side, np.zeros_like(side)], 1)
    return roi_from_box(shifted, scale=scale, shift=dy)
