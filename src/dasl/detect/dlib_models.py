"""dlib's face detectors (HOG, MMOD CNN) and 68-point shape predictor (Kazemi & Sullivan 2014).

The model files come from the ``face-recognition-models`` package, found by path without importing it
(its import breaks on recent setuptools). dlib works in 0-based pixels; results here are in the image
frame (1-based).
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path

import numpy as np

from dasl.detect import FaceDetector, Landmarker
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


class DlibLandmarker(Landmarker):
    name = "dlib68"

    def __init__(self) -> None:
        dlib = _dlib()
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(model_file("shape_predictor_68_face_landmarks.dat")))

    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        img = np.ascontiguousarray(image)
        out = np.zeros((len(boxes), 68, 2))
        for i, b in enumerate(np.asarray(boxes, dtype=np.float64)):
            rect = self._dlib.rectangle(
                int(round(b[0] - 1)), int(round(b[1] - 1)), int(round(b[2] - 1)), int(round(b[3] - 1))
            )
            shape = self._predictor(img, rect)
            out[i] = [(p.x + 1.0, p.y + 1.0) for p in shape.parts()]
        return out


class DlibDetector(FaceDetector):
    """``kind="hog"`` (fast, frontal) or ``"mmod"`` (CNN, more poses, slower). ``upsample`` doubles the
    image that many times first (finds smaller faces)."""

    def __init__(self, kind: str = "hog", upsample: int = 1) -> None:
        dlib = _dlib()
        self.kind, self.upsample = kind, upsample
        self.name = f"dlib-{kind}"
        if kind == "hog":
            self._detector = dlib.get_frontal_face_detector()
        elif kind == "mmod":
            self._detector = dlib.cnn_face_detection_model_v1(str(model_file("mmod_human_face_detector.dat")))
        else:
            raise ValueError(f"unknown dlib detector {kind!r}")

    def detect(self, image: np.ndarray) -> np.ndarray:
        img = np.ascontiguousarray(image)
        if self.kind == "hog":
            rects, scores, _ = self._detector.run(img, self.upsample, 0.0)
            boxes = [(r.left(), r.top(), r.right(), r.bottom(), s) for r, s in zip(rects, scores, strict=True)]
        else:
            boxes = [
                (d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence)
                for d in self._detector(img, self.upsample)
            ]
        if not boxes:
            return np.zeros((0, 5))
        out = np.array(boxes, dtype=np.float64)
        out[:, :4] += 1.0  # 0-based pixels -> image frame
        return out[np.argsort(-out[:, 4])]
