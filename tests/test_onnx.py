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


def test_onnx_landmarker_matches_torch_and_is_cached(shared, tmp_path, monkeypatch):
    """The landmark detector on ONNX Runtime gives PyTorch's landmarks; its export is made once per weights
    file in the cache folder and reused."""
    from dasl.landmarkers import DaslLandmarker
    from dasl.nets import onnx_runtime

    monkeypatch.setenv(onnx_runtime.CACHE_VAR, str(tmp_path / "cache"))
    folder = shared.path("aflw_wild") / "crops"
    crops = np.stack([read_rgb(p) for p in sorted(folder.glob("*.jpg"))[:6]])
    on_torch, on_onnx = DaslLandmarker(), DaslLandmarker(backend="onnx")
    assert np.abs(on_torch.crop_landmarks(crops) - on_onnx.crop_landmarks(crops)).max() < 1e-3
    exported = sorted((tmp_path / "cache" / "onnx").glob("landmarks-*.onnx"))
    assert len(exported) == 1
    stamp = exported[0].stat().st_mtime_ns
    DaslLandmarker(backend="onnx")  # a second load: the same file, not exported again
    assert [p.stat().st_mtime_ns for p in (tmp_path / "cache" / "onnx").glob("*.onnx")] == [stamp]


def test_onnx_cache_keys_on_the_weights(tiny_model, bfm, tmp_path, monkeypatch):
    """Another weights file is another export, with its own metadata."""
    from dasl.nets import onnx_runtime
    from dasl.nets.model_file import load_model_file, save_model_file
    from dasl.regressors.onnx_model import load_onnx_regressor

    monkeypatch.setenv(onnx_runtime.CACHE_VAR, str(tmp_path / "cache"))
    first = load_onnx_regressor(tiny_model, bfm, "tiny")
    state, meta = load_model_file(tiny_model)
    other = save_model_file(tmp_path / "other.safetensors", state, meta.replace(name="other"))
    second = load_onnx_regressor(other, bfm, "other")
    assert len(list((tmp_path / "cache" / "onnx").glob("regressor-*.onnx"))) == 2
    assert first.meta.name == "tiny" and second.meta.name == "other"


def test_a_damaged_cached_export_is_made_again(tiny_model, bfm, tmp_path, monkeypatch):
    """An export cut short (a full disk, a killed process) was named as unreadable and stayed so: it is now
    removed and exported again, and the regressor works."""
    from dasl.nets import onnx_runtime
    from dasl.regressors.onnx_model import load_onnx_regressor

    monkeypatch.setenv(onnx_runtime.CACHE_VAR, str(tmp_path / "cache"))
    load_onnx_regressor(tiny_model, bfm, "tiny")
    (cached,) = (tmp_path / "cache" / "onnx").glob("regressor-*.onnx")
    cached.write_bytes(cached.read_bytes()[:1000])
    again = load_onnx_regressor(tiny_model, bfm, "tiny")
    assert cached.stat().st_size > 1000 and again.predict(np.zeros((1, 120, 120, 3), np.uint8)).shape == (1, 62)
