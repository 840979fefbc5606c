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


def test_the_default_runs_its_shipped_8bit_networks_and_they_agree_with_float32(shared, aflw):
    """The shipped 8-bit files match the shipped weights (their recorded digest), the default runs them on
    ``backend="auto"``, and their landmarks stay near float32's (measured on these crops: mean 0.1-0.2 px;
    held-out NME of the default 1.746 / 3.052 against 1.739 / 3.064, docs/product.md)."""
    from dasl.geometry.frames import crop_landmarks
    from dasl.landmarkers.dasl_net import SHIPPED_FILE
    from dasl.nets.quantize import shipped_int8
    from dasl.paths import WEIGHTS_DIR
    from dasl.regressors.base import SHIPPED
    from dasl.stages import load_stages

    assert shipped_int8(SHIPPED_FILE) is not None
    assert shipped_int8(WEIGHTS_DIR / SHIPPED["dasl-light"]) is not None
    fast, exact = load_stages("default", shared), load_stages("default", shared, backend="onnx")
    assert fast.landmarker.int8 and not exact.landmarker.int8
    crops = aflw.stored_crops([0, 7, 300, 1200, 1999])
    a, b = fast.landmarker.crop_landmarks(crops), exact.landmarker.crop_landmarks(crops)
    assert np.linalg.norm(a - b, axis=-1).mean() < 0.5
    pa, pb = fast.predict(crops), exact.predict(crops)
    gap = np.linalg.norm((crop_landmarks(fast.morphable, pa) - crop_landmarks(exact.morphable, pb))[..., :2], axis=-1)
    assert np.median(gap.mean(1)) < 0.5  # frame 300, one of the benchmark's outlier faces (NME 47%): 2 px


def test_an_8bit_file_is_ignored_once_its_weights_change(tmp_path):
    import shutil

    from dasl.landmarkers.dasl_net import SHIPPED_FILE
    from dasl.nets.quantize import int8_path, shipped_int8

    weights = tmp_path / "dasl_landmarks.safetensors"
    shutil.copy(SHIPPED_FILE, weights)
    shutil.copy(int8_path(SHIPPED_FILE), int8_path(weights))
    assert shipped_int8(weights) == int8_path(weights)
    weights.write_bytes(weights.read_bytes() + b" ")  # other weights: the 8-bit file is not theirs
    assert shipped_int8(weights) is None
