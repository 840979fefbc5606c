import numpy as np

from dasl.data.images import read_rgb
from dasl.regressors.dasl_model import DaslRegressor
from dasl.regressors.onnx_model import OnnxRegressor, export_onnx


def test_onnx_backend_matches_torch(tiny_model, bfm, tmp_path, shared):
    path = export_onnx(tiny_model, tmp_path / "tiny.onnx", bfm)
    torch_model, onnx_model = DaslRegressor(tiny_model, bfm), OnnxRegressor(path, bfm)
    folder = shared.path("aflw_wild") / "crops"
    crops = np.stack([read_rgb(p) for p in sorted(folder.glob("*.jpg"))[:8]])
    marks = np.tile(np.linspace(30, 90, 68)[:, None], (len(crops), 1, 2))
    for landmarks in (None, marks):
        a = torch_model.predict_whitened(crops, landmarks)
        b = onnx_model.predict_whitened(crops, landmarks)
        assert np.abs(a - b).max() < 1e-4
