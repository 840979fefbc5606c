"""dasl regressors in ONNX: export from a model file, and inference with ONNX Runtime.

The ONNX graph is the network alone (``input``: ``(N, C, 120, 120)`` float32, ``output``: ``(N, 62)``
whitened parameters, dynamic N); the model's metadata (backbone, channels, whitening) travels in the
file's metadata. The landmark-map iteration runs in numpy around it, exactly as the torch backend does.
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
from dasl.regressors.base import Regressor


def export_onnx(model: str | Path, out: str | Path, morphable: MorphableModel, opset: int = 17) -> Path:
    """Write the regressor of a dasl model (name or path) as ONNX with its metadata."""
    import onnx

    from dasl.regressors.dasl_model import DaslRegressor, resolve_model_path

    regressor = DaslRegressor(resolve_model_path(str(model)), morphable)
    channels = int(regressor.meta["in_channels"])
    dummy = torch.zeros(1, channels, 120, 120)
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
        entry.key, entry.value = "dasl_meta", json.dumps(regressor.meta)
        onnx.save(graph, str(tmp))
    return out


class OnnxRegressor(Regressor):
    def __init__(self, path: str | Path, morphable: MorphableModel, passes: int = 2, batch_size: int = 64) -> None:
        import onnxruntime as ort

        path = Path(path)
        if not path.is_file():
            raise MissingFileError(path, "ONNX model")
        try:
            options = ort.SessionOptions()
            options.log_severity_level = 3
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map["dasl_meta"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BadInputError(path, f"not a dasl ONNX model ({exc})") from exc
        self.meta, self.name = meta, meta.get("name", path.stem)
        self.morphable = morphable
        self.uses_landmarks = int(meta["in_channels"]) == 4
        self.passes, self.batch_size = passes, batch_size

    def _run(self, x: np.ndarray) -> np.ndarray:
        return self.session.run(["output"], {"input": x.astype(np.float32)})[0]

    def predict_whitened(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        from dasl.data.sample import normalise_images
        from dasl.geometry.flm import landmark_map
        from dasl.morphable.landmarks import to_subset18
        from dasl.nets.inputs import own_points18

        out = []
        for s in range(0, len(crops), self.batch_size):
            images = normalise_images(np.ascontiguousarray(crops[s : s + self.batch_size])).numpy()
            if not self.uses_landmarks:
                out.append(self._run(images))
                continue
            if landmarks is not None:
                points = to_subset18(np.asarray(landmarks[s : s + self.batch_size], np.float64))
                out.append(self._run(np.concatenate([images, landmark_map(points)[:, None]], 1)))
                continue
            empty = np.full((len(images), 1, 120, 120), -1.0, np.float32)
            pred = self._run(np.concatenate([images, empty], 1))
            for _ in range(self.passes - 1):
                own = own_points18(pred, self.morphable)
                pred = self._run(np.concatenate([images, landmark_map(own)[:, None]], 1))
            out.append(pred)
        return np.concatenate(out) if out else np.zeros((0, 62), np.float32)

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        from dasl.regressors.dasl_model import raw_params

        return raw_params(self.predict_whitened(crops, landmarks), self.morphable)


def load_onnx_regressor(model: str | Path, morphable: MorphableModel) -> OnnxRegressor:
    """An ONNX file as it is, or a dasl model (name or path) exported to a temporary ONNX file first."""
    path = Path(str(model))
    if path.suffix == ".onnx":
        return OnnxRegressor(path, morphable)
    tmp = Path(tempfile.mkdtemp(prefix="dasl-onnx-")) / "model.onnx"
    export_onnx(model, tmp, morphable)
    return OnnxRegressor(tmp, morphable)
