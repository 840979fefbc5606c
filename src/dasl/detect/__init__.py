"""Face detectors and 2D landmarkers: the registry by name, ROI calibration, and finding faces in a photo.

Detector names: ``mtcnn`` (:mod:`dasl.detect.mtcnn`: three small networks on ONNX Runtime, any pose the
upright photo shows, and the photo turned by quarter turns where the upright photo shows no face),
``mtcnn-turns`` (the turned photo searched always: faces lying down beside upright ones, four times the
search), ``blazeface`` and ``blazeface-turns`` (:mod:`dasl.detect.blazeface`: MediaPipe's short- and
full-range BlazeFace on ONNX Runtime, the same two turn searches), ``dlib-hog`` (fast, frontal),
``dlib-mmod`` (CNN, more poses, slower), the cascade ``dlib``: HOG, then MMOD on photos where HOG finds
nothing (:data:`CASCADES`), and ``faceboxes``, the 3DDFA_V2
peer's detector (:mod:`dasl.detect.faceboxes`, PyTorch; baselines only). Every detection carries the ROI
calibration of the detector that found it (:class:`~dasl.detect.base.Detections`). Frames: 0-based
pixels (:mod:`dasl.detect.base`).
"""

from __future__ import annotations

import cv2
import numpy as np

from dasl.detect.base import BoxLandmarker, Detections, FaceDetector, RoiCalibration
from dasl.detect.blazeface import BlazeFaceDetector
from dasl.detect.dlib_models import DlibDetector, DlibLandmarker
from dasl.detect.mtcnn import MtcnnDetector
from dasl.errors import OptionError
from dasl.geometry.frames import resize_pixels

#: base detectors: name -> (kind, its setting: dlib's times the image is doubled before detection, MTCNN's
#: and BlazeFace's turn search, :data:`dasl.detect.base.TURN_SEARCHES`)
BASE_DETECTORS = {
    "mtcnn": ("mtcnn", "fallback"),
    "mtcnn-turns": ("mtcnn", "always"),
    "blazeface": ("blazeface", "fallback"),
    "blazeface-turns": ("blazeface", "always"),
    "dlib-hog": ("hog", 1),
    "dlib-mmod": ("mmod", 0),
    "faceboxes": ("faceboxes", None),
}
#: cascades: name -> the base detectors tried in order (the first that finds a face wins)
CASCADES = {"dlib": ("dlib-hog", "dlib-mmod")}
DETECTOR_NAMES = (*BASE_DETECTORS, *CASCADES)
#: the detector of :class:`dasl.Reconstructor` and ``dasl reconstruct`` unless one is named
DEFAULT_DETECTOR = "mtcnn"
#: each base detector's box -> crop ROI map: medians of ``roi_from_landmarks(annotation)`` against the
#: detector's box over HELEN/AFW photos (dlib's: 302 photos; MTCNN's: the 1,206 of 1,207 where it finds the
#: face; BlazeFace's: all 1,207, ``python scripts/detector_calibration.py blazeface``; docs/product.md)
ROI_CALIBRATION = {
    "mtcnn": RoiCalibration(1.299, 0.013, 0.148),
    "mtcnn-turns": RoiCalibration(1.299, 0.013, 0.148),
    "blazeface": RoiCalibration(1.376, -0.011, 0.037),
    "blazeface-turns": RoiCalibration(1.376, -0.011, 0.037),
    "dlib-hog": RoiCalibration(1.457, 0.003, 0.078),
    "dlib-mmod": RoiCalibration(1.415, 0.046, 0.153),
    "faceboxes": RoiCalibration(1.58, 0.0, 0.14),  # 3DDFA_V2's own rule for FaceBoxes' boxes
}
#: photos are searched for faces at a long side within these bounds (resized for detection only); dlib's
#: detectors need faces of about 80 pixels, so they see small photos enlarged, MTCNN sees them as they are
DETECT_MIN_SIDE, DETECT_MAX_SIDE = 640, 1600


def _check(name: str) -> str:
    if name not in DETECTOR_NAMES:
        raise OptionError(f"unknown detector {name!r}; known: {', '.join(DETECTOR_NAMES)}")
    return name


def calibration(name: str) -> RoiCalibration:
    """The ROI calibration of a detector by name; a cascade's is its first detector's (what boxes given
    by hand to a cascade's user are taken to look like)."""
    return ROI_CALIBRATION[CASCADES.get(_check(name), (name,))[0]]


def boxes_to_rois(boxes: np.ndarray, detector_name: str) -> np.ndarray:
    """Crop ROIs ``(N, 4)`` from boxes ``(N, >=4)`` (both in the image frame) with the calibration of the
    detector ``detector_name`` (an unknown name is an error)."""
    return calibration(detector_name).rois(boxes)


class CascadeDetector(FaceDetector):
    """The first detector of a list that finds anything; its detections keep their finder's name and
    calibration. Each detector is built when first needed (``make``: name -> detector), so a cascade
    whose first detector finds the faces never loads the later ones (dlib's MMOD: 0.2 s)."""

    def __init__(self, name: str, parts: list[str], make=None) -> None:
        self.name, self.parts, self._make = name, parts, make or _base_detector
        self._built: dict[str, FaceDetector] = {}

    def detector(self, part: str) -> FaceDetector:
        if part not in self._built:
            self._built[part] = self._make(part)
        return self._built[part]

    def upright(self) -> CascadeDetector:
        upright = CascadeDetector(self.name, self.parts, lambda part: self.detector(part).upright())
        return upright

    def detect(self, image: np.ndarray) -> Detections:
        found = None
        for part in self.parts:
            found = self.detector(part).detect(image)
            if len(found):
                break
        return found


def _base_detector(name: str) -> FaceDetector:
    kind, setting = BASE_DETECTORS[name]
    if kind == "faceboxes":  # the peer's detector: PyTorch, imported only when asked for
        from dasl.detect.faceboxes import FaceBoxesDetector

        return FaceBoxesDetector()
    if kind == "blazeface":
        detector = BlazeFaceDetector(ROI_CALIBRATION[name], turns=setting)
        detector.name = name
        return detector
    if kind == "mtcnn":
        detector = MtcnnDetector(ROI_CALIBRATION[name], turns=setting)
        detector.name = name
        return detector
    return DlibDetector(kind, setting, ROI_CALIBRATION[name])


def make_detector(name: str = DEFAULT_DETECTOR) -> FaceDetector:
    """A detector by name (see the module docstring); an unknown name is an error."""
    if _check(name) in CASCADES:
        return CascadeDetector(name, list(CASCADES[name]))
    return _base_detector(name)


def find_faces(detector: FaceDetector, image: np.ndarray, resolution: float = 1.0) -> Detections:
    """The faces of a photo RGB uint8 ``(H, W, 3)``: detected at a long side between
    :data:`DETECT_MIN_SIDE` and :data:`DETECT_MAX_SIDE` pixels, times ``resolution`` (0.5: faces at least
    twice as large as the smallest found at 1, in about a quarter of the time), boxes in the photo's own
    0-based pixels."""
    h, w = image.shape[:2]
    side = max(h, w)
    enlarge = DETECT_MIN_SIDE / side if detector.enlarge_small else 1.0
    scale = min(max(1.0, enlarge), DETECT_MAX_SIDE / side) * resolution
    work = (
        image if scale == 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    )
    found = detector.detect(work)
    if scale == 1.0:
        return found
    boxes = found.boxes.copy()
    boxes[:, :4] = resize_pixels(boxes[:, :4].reshape(-1, 2, 2), 1.0 / scale).reshape(-1, 4)
    keypoints = None if found.keypoints is None else resize_pixels(found.keypoints, 1.0 / scale)
    return Detections(boxes, found.detector, found.calibration, keypoints, found.turns)


__all__ = [
    "BASE_DETECTORS",
    "CASCADES",
    "DEFAULT_DETECTOR",
    "DETECTOR_NAMES",
    "ROI_CALIBRATION",
    "CascadeDetector",
    "Detections",
    "DlibLandmarker",
    "FaceDetector",
    "BoxLandmarker",
    "RoiCalibration",
    "boxes_to_rois",
    "calibration",
    "find_faces",
    "make_detector",
]
