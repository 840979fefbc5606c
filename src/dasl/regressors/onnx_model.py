"""dasl regressors in ONNX: export from a model file, and inference with ONNX Runtime.

The ONNX graph is the network alone (``input``: ``(N, C, 120, 120)`` float32, ``output``: ``(N, 62)``
whitened parameters, dynamic N); the model's metadata (:class:`~dasl.nets.model_file.ModelMeta`) travels
in the file's metadata. Batching and the landmark-map passes run around it exactly as for the PyTorch
backend (:class:`~dasl.regressors.network.NetworkRegressor`). A model file or checkpoint asked for on the
ONNX backend is exported once and cached (:mod:`dasl.nets.onnx_runtime`). Once exported, inference needs
no PyTorch (not imported: a faster start).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from dasl.errors import BadInputError, require
from dasl.fileio import atomic_path
from dasl.morphable.model import MorphableModel
from dasl.nets.model_file import ModelMeta
from dasl.nets.onnx_runtime import OnnxNet, export_network, opened_export
from dasl.regressors.network import NetworkRegressor

META_KEY = "dasl_meta"


def export_onnx(model: str | Path, out: str | Path, morphable: MorphableModel) -> Path:
    """Write the regressor of a dasl model file or checkpoint as ONNX with its metadata (needs PyTorch)."""
    require("torch", f"exporting {Path(model).name} to ONNX (the first run of a model without a shipped 8-bit file)")
    from dasl.regressors.dasl_model import DaslRegressor

    regressor = DaslRegressor(model, morphable)
    out = Path(out)
    with atomic_path(out) as tmp:
        export_network(regressor.net, regressor.meta.in_channels, tmp, {META_KEY: regressor.meta.to_json()})
    return out


class OnnxRegressor(NetworkRegressor):
    """A dasl regressor run by ONNX Runtime from an exported ``.onnx`` file."""

    def open(self, path: Path) -> ModelMeta:
        self.net = OnnxNet(path, "ONNX model")
        try:
            meta = json.loads(self.net.metadata[META_KEY])
        except (KeyError, ValueError) as exc:
            raise BadInputError(path, f"not a dasl ONNX model (no readable {META_KEY} metadata)") from exc
        return ModelMeta.from_dict(meta, path)

    def forward(self, inputs: np.ndarray) -> np.ndarray:
        return self.net(inputs)


def load_onnx_regressor(path: Path, morphable: MorphableModel, name: str) -> OnnxRegressor:
    """An ONNX file as it is, or a dasl model file / checkpoint through its cached export."""
    if path.suffix == ".onnx":
        return OnnxRegressor(path, morphable, name)
    build = lambda tmp: export_onnx(path, tmp, morphable)  # noqa: E731
    return opened_export(path, "regressor", build, lambda exported: OnnxRegressor(exported, morphable, name))
