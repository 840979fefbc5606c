"""The landmark stage: 2D landmark sources on 120x120 crops, by name (:class:`~dasl.landmarkers.base.Landmarker`).

Sources: ``dasl-landmarks`` (dasl's own detector, :mod:`dasl.landmarkers.dasl_net`; or a path to a detector
file or training checkpoint), ``dlib`` (dlib's 68-point predictor, :mod:`dasl.landmarkers.dlib68`). Given
points need no source (:meth:`~dasl.landmarkers.base.LandmarkEstimate.given`). Adding a source is a module
here and its line in :func:`make_landmarker`.
"""

from __future__ import annotations

from pathlib import Path

from dasl.landmarkers.base import Landmarker, LandmarkEstimate
from dasl.landmarkers.dasl_net import SHIPPED_NAME, DaslLandmarker
from dasl.landmarkers.dlib68 import DlibCropLandmarker

#: the sources by name (a path is read as a dasl landmark detector file)
LANDMARK_SOURCES = (SHIPPED_NAME, "dlib")


def make_landmarker(
    name: str | Path = SHIPPED_NAME, backend: str = "onnx", flip: bool = False, int8: bool = False
) -> Landmarker:
    """A landmark source by name or detector file (see the module docstring); ``int8``: a detector file's
    shipped 8-bit network where it matches the file (:mod:`dasl.nets.quantize`)."""
    if str(name) == "dlib":
        return DlibCropLandmarker()
    return DaslLandmarker(name, backend=backend, flip=flip, int8=int8)


__all__ = ["LANDMARK_SOURCES", "DaslLandmarker", "LandmarkEstimate", "Landmarker", "make_landmarker"]
