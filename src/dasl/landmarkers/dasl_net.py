"""dasl's own 2D landmark detector at inference: 68 crop-frame landmarks of 120x120 crops with their
certainty, the source of a 4-channel regressor's landmark map and of the default pipeline's fit
(:mod:`dasl.nets.landmark_net` for the network, its training in :mod:`dasl.train.landmark_loop`; the
2DASL trainer draws its detector maps with this same class, so training and inference see one map).

The network sees each crop zoomed about its centre (:attr:`DaslLandmarker.zoom`), answers 68 heatmaps
decoded by soft-argmax (:mod:`dasl.nets.heatmaps`), and the points are mapped back to the crop."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dasl.errors import MissingFileError, OptionError, require
from dasl.fileio import atomic_path
from dasl.geometry.crop import unzoom_points, zoom_crops
from dasl.geometry.frames import mirror_x
from dasl.landmarkers.base import Landmarker, LandmarkEstimate
from dasl.morphable.landmarks import FLIP_68
from dasl.nets.heatmaps import heatmap_spread, soft_argmax
from dasl.nets.inputs import normalise_images
from dasl.nets.model_file import LANDMARK_FORMAT, LandmarkMeta, read_file_meta
from dasl.nets.onnx_runtime import OnnxNet, export_network, opened_export
from dasl.nets.quantize import shipped_int8
from dasl.paths import WEIGHTS_DIR

SHIPPED_NAME = "dasl-landmarks"
SHIPPED_FILE = WEIGHTS_DIR / "dasl_landmarks.safetensors"


def landmark_file(name: str | Path = SHIPPED_NAME) -> Path:
    """The shipped detector's file by name, or a path to a landmark detector file."""
    path = SHIPPED_FILE if str(name) == SHIPPED_NAME else Path(name)
    if not path.is_file():
        hint = "reinstall dasl, or train one (docs/training.md)" if path == SHIPPED_FILE else ""
        raise MissingFileError(path, "landmark detector file", hint)
    return path


#: the zoom a detector file that records none (trained on crops as they are) sees each crop at, about its
#: centre (the face 5% larger): chosen on held-out faces against 1.0 and 1.1 (``python
#: scripts/detector_tta.py``, docs/experiments.md). Files trained on zoomed crops record their own
#: (:attr:`LandmarkMeta.zoom`; the shipped detector's is 1.12).
ZOOM = 1.05


def _torch_net(path: Path):
    """The detector of ``path`` in PyTorch, batch norm folded (inference only), and its record."""
    require("torch", f"the landmark detector {path.name} in PyTorch (or its first export to ONNX)")
    from dasl.nets.fold import fold_batchnorm
    from dasl.nets.landmark_net import load_landmark_net

    net, meta = load_landmark_net(path)
    fold_batchnorm(net)
    return net, meta


def _numpy_call(net):
    """A PyTorch network as a NumPy function, like :class:`~dasl.nets.onnx_runtime.OnnxNet`."""
    import torch

    def call(images: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            return net(torch.from_numpy(images)).numpy()

    return call


def export_landmarks(path: Path, out: Path) -> Path:
    """The detector of the file ``path`` as ONNX at ``out`` (needs PyTorch)."""
    with atomic_path(Path(out)) as tmp:
        export_network(_torch_net(path)[0], 3, tmp)
    return Path(out)


class DaslLandmarker(Landmarker):
    """68 landmarks of crops (3DDFA protocol, RGB uint8 ``(N, 120, 120, 3)``), in the crop frame.

    ``flip``: average with the landmarks of the mirrored crop, mirrored back and relabelled (twice the
    network's time). ``zoom``: the network sees the crop zoomed by this factor about its centre, and its
    landmarks (and heatmap spreads) are mapped back to the crop (None: the zoom the detector was trained
    at, :attr:`LandmarkMeta.zoom`, or :data:`ZOOM` for a file that does not say).
    ``backend``: ``"torch"`` or ``"onnx"`` (the network exported once and cached,
    :mod:`dasl.nets.onnx_runtime`; the same landmarks to 1e-3 px, in a third of the time at batch 1; a
    model file already exported runs without importing PyTorch). ``int8``: the file's shipped 8-bit network
    where one matches it (:mod:`dasl.nets.quantize`; about twice as fast again; :attr:`int8` says whether it
    runs)."""

    def __init__(
        self,
        model: str | Path = SHIPPED_NAME,
        batch_size: int = 64,
        flip: bool = False,
        backend: str = "torch",
        zoom: float | None = None,
        int8: bool = False,
    ) -> None:
        path = landmark_file(model)
        quantised = shipped_int8(path) if int8 and path.suffix == ".safetensors" else None
        self.int8 = quantised is not None
        if quantised is not None:
            self.meta = LandmarkMeta.from_dict(read_file_meta(path, LANDMARK_FORMAT, "dasl landmark detector file"))
            self.net = OnnxNet(quantised, "8-bit landmark detector")
        elif backend == "onnx":
            if path.suffix == ".pt":  # a training checkpoint: its record is inside the pickle
                self.meta = _torch_net(path)[1]
            else:
                self.meta = LandmarkMeta.from_dict(read_file_meta(path, LANDMARK_FORMAT, "dasl landmark detector file"))
            self.net = opened_export(path, "landmarks", lambda tmp: export_landmarks(path, tmp), OnnxNet)
        elif backend == "torch":
            net, self.meta = _torch_net(path)
            self.net = _numpy_call(net)
        else:
            raise OptionError(f"unknown backend {backend!r}; use torch or onnx")
        self.name = self.meta.name or path.stem
        self.batch_size, self.flip = batch_size, flip
        self.zoom = zoom if zoom is not None else self.meta.zoom or ZOOM

    def _run(self, crops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self.zoom != 1.0:
            crops = zoom_crops(np.ascontiguousarray(crops), self.zoom)
        points, prob = soft_argmax(self.net(normalise_images(crops)))
        spread = heatmap_spread(prob, points).astype(np.float64) / self.zoom
        return unzoom_points(points, self.zoom), spread

    def _locate(self, crops: np.ndarray) -> LandmarkEstimate:
        if not self.flip:
            return LandmarkEstimate(*self._run(crops))
        points, spread = self._run(np.concatenate([crops, crops[:, :, ::-1]]))
        n = len(crops)
        back = mirror_x(points[n:], FLIP_68)
        return LandmarkEstimate(
            (points[:n] + back) / 2, (spread[:n] + spread[n:, FLIP_68]) / 2, np.linalg.norm(points[:n] - back, axis=-1)
        )

    def locate(self, crops: np.ndarray) -> LandmarkEstimate:
        """The landmarks of ``crops`` with their uncertainties (batches of ``batch_size``)."""
        crops = np.asarray(crops)
        parts = [self._locate(crops[s : s + self.batch_size]) for s in range(0, len(crops), self.batch_size)]
        return LandmarkEstimate.concatenate(parts) if parts else LandmarkEstimate.empty(self.flip)
