"""dlib's face detectors (HOG, MMOD CNN) and 68-point shape predictor (Kazemi & Sullivan 2014).

The model files come from the ``face-recognition-models`` package, found by path without importing it
(its import breaks on recent setuptools). dlib works in 0-based pixels, and so do the results here.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

from dasl.detect.base import BoxLandmarker, Detections, FaceDetector, RoiCalibration
from dasl.errors import DaslError, MissingFileError


class MissingDependencyError(DaslError):
    pass


def _dlib():
    try:
        import dlib
    except ImportError as exc:
        raise MissingDependencyError("dlib is not installed: pip install dlib-bin face-recognition-models") from exc
    return dlib


@cache
def model_file(name: str) -> Path:
    """Path of a model file shipped by ``face-recognition-models``."""
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError("face-recognition-models is not installed: pip install face-recognition-models")
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / name
    if not path.is_file():
        raise MissingFileError(path, f"dlib model file {name}")
    return path


class DlibLandmarker(BoxLandmarker):
    name = "dlib68"

    def __init__(self) -> None:
        dlib = _dlib()
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))

    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        img = np.ascontiguousarray(image)
        out = np.zeros((len(boxes), 68, 2))
        for i, b in enumerate(np.asarray(boxes, dtype=np.float64)):
            rect = self._dlib.rectangle(*(int(round(v)) for v in b[:4]))
            shape = self._predictor(img, rect)
            out[i] = [(p.x, p.y) for p in shape.parts()]
        return out


class DlibDetector(FaceDetector):
    """``kind="hog"`` (fast, frontal) or ``"mmod"`` (CNN, more poses, slower). ``upsample`` doubles the
    image that many times first (finds smaller faces); ``calibration`` maps its boxes to crop ROIs."""

    def __init__(self, kind: str, upsample: int, calibration: RoiCalibration) -> None:
        dlib = _dlib()
        self.kind, self.upsample, self.calibration = kind, upsample, calibration
        self.name = f"dlib-{kind}"
        if kind == "hog":
            self._detector = dlib.get_frontal_face_detector()
        elif kind == "mmod":
            self._detector = dlib.cnn_face_detection_model_v1(str(model_file("mmod_human_face_detector.dat")))
        else:
            raise ValueError(f"unknown dlib detector {kind!r}")

    def detect(self, image: np.ndarray) -> Detections:
        img = np.ascontiguousarray(image)
        if self.kind == "hog":
            rects, scores, _ = self._detector.run(img, self.upsample, 0.0)
            boxes = [(r.left(), r.top(), r.right(), r.bottom(), s) for r, s in zip(rects, scores, strict=True)]
        else:
            boxes = [
                (d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence)
                for d in self._detector(img, self.upsample)
            ]
        out = np.array(boxes, dtype=np.float64).reshape(-1, 5)
        return Detections(out[np.argsort(-out[:, 4])], self.name, self.calibration)
