"""dasl regressors in ONNX: export from a model file, and inference with ONNX Runtime.

The ONNX graph is the network alone (``input``: ``(N, C, 120, 120)`` float32, ``output``: ``(N, 62)``
whitened parameters, dynamic N); the model's metadata (:class:`~dasl.nets.model_file.ModelMeta`) travels
in the file's metadata. Batching and the landmark-map passes run around it exactly as for the PyTorch
backend (:class:`~dasl.regressors.network.NetworkRegressor`).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch

from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path
from dasl.morphable.model import MorphableModel
from dasl.nets.model_file import ModelMeta
from dasl.regressors.dasl_model import DaslRegressor
from dasl.regressors.network import NetworkRegressor

META_KEY = "dasl_meta"


def export_onnx(model: str | Path, out: str | Path, morphable: MorphableModel, opset: int = 17) -> Path:
    """Write the regressor of a dasl model file or checkpoint as ONNX with its metadata."""
    import onnx

    regressor = DaslRegressor(model, morphable)
    dummy = torch.zeros(1, regressor.meta.in_channels, 120, 120)
    out = Path(out)
    with atomic_path(out) as tmp:
        torch.onnx.export(
            regressor.net,
            (dummy,),
            str(tmp),
            input_names=["input"],
            output_names=["output"],
            dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
            opset_version=opset,
            dynamo=False,
        )
        graph = onnx.load(str(tmp))
        entry = graph.metadata_props.add()
        entry.key, entry.value = META_KEY, regressor.meta.to_json()
        onnx.save(graph, str(tmp))
    return out


class OnnxRegressor(NetworkRegressor):
    """A dasl regressor run by ONNX Runtime from an exported ``.onnx`` file."""

    def open(self, path: Path) -> ModelMeta:
        import onnxruntime as ort

        if not path.is_file():
            raise MissingFileError(path, "ONNX model")
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map[META_KEY])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BadInputError(path, f"not a dasl ONNX model ({exc})") from exc
        return ModelMeta.from_dict(meta, path)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        x = inputs.numpy().astype(np.float32, copy=False)
        return torch.from_numpy(self.session.run(["output"], {"input": x})[0])


def load_onnx_regressor(path: Path, morphable: MorphableModel, name: str) -> OnnxRegressor:
    """An ONNX file as it is, or a dasl model file / checkpoint exported to a temporary ONNX file first."""
    if path.suffix == ".onnx":
        return OnnxRegressor(path, morphable, name)
    tmp = Path(tempfile.mkdtemp(prefix="dasl-onnx-")) / "model.onnx"
    export_onnx(path, tmp, morphable)
    return OnnxRegressor(tmp, morphable, name)
