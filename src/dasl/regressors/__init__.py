"""Parameter regressors behind one interface, loaded from a model string (:mod:`dasl.regressors.spec`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dasl.detect.dasl_landmarks import DaslLandmarker
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.regressors.base import Regressor
from dasl.regressors.flip import FlipAveraged, can_mirror
from dasl.regressors.map_source import DetectorFit, DetectorMap
from dasl.regressors.onnx_model import load_onnx_regressor
from dasl.regressors.spec import PEER_MB05, PEERS, SHIPPED, Backend, ModelSpec, parse_model


def load_regressor(
    model: str | Path | ModelSpec,
    shared: SharedData | str | Path | None = None,
    backend: Backend = "auto",
    flip: bool | None = False,
) -> Regressor:
    """The regressor a model string (or a parsed :class:`ModelSpec`) names, on ``backend``. ``flip`` is the
    mirror averaging when the string has no ``+flip`` suffix: off by default here (a benchmark row is what
    its name says), ``None`` for "on where the model can be mirrored" (what :class:`dasl.Reconstructor`
    does). A ``+det`` spec (``map_source = "detector"``) draws the map from dasl's landmark detector.
    PyTorch is imported only for the torch backend (and for a first ONNX export)."""
    spec = model if isinstance(model, ModelSpec) else parse_model(model, backend, flip)
    shared = shared if isinstance(shared, SharedData) else SharedData.find(shared)
    if spec.kind == "peer":
        from dasl.regressors.peer_3ddfa_v2 import Peer3DDFAv2

        regressor: Regressor = Peer3DDFAv2(shared)
    elif spec.backend == "onnx":
        regressor = load_onnx_regressor(spec.path, load_bfm(shared), spec.name)
    else:
        from dasl.regressors.dasl_model import DaslRegressor

        regressor = DaslRegressor(spec.path, load_bfm(shared), spec.name)
    use_flip = can_mirror(regressor) if spec.mirror is None else spec.mirror
    if use_flip:
        regressor = FlipAveraged(regressor)
    if spec.map_source == "detector":
        landmarker = DaslLandmarker(backend=spec.backend, flip=spec.detector_flip)
        regressor = DetectorFit(regressor, landmarker) if spec.fit else DetectorMap(regressor, landmarker)
    regressor.name = replace(spec, flip=use_flip).label
    return regressor


__all__ = [
    "PEERS",
    "PEER_MB05",
    "SHIPPED",
    "FlipAveraged",
    "ModelSpec",
    "Regressor",
    "can_mirror",
    "load_regressor",
    "parse_model",
]
