"""dasl's own 2D landmark detector at inference: 68 crop-frame landmarks of 120x120 crops, the source of
a 4-channel regressor's landmark map (:mod:`dasl.nets.landmark_net` for the network, its training in
:mod:`dasl.train.landmark_loop`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dasl.errors import MissingFileError, OptionError
from dasl.geometry.frames import mirror_x
from dasl.morphable.landmarks import FLIP_68
from dasl.nets.fold import fold_batchnorm
from dasl.nets.inputs import normalise_images
from dasl.nets.landmark_net import load_landmark_net, soft_argmax
from dasl.nets.onnx_runtime import OnnxNet, cached_export, export_network
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


class DaslLandmarker:
    """68 landmarks of crops (3DDFA protocol, RGB uint8 ``(N, 120, 120, 3)``), in the crop frame.

    ``flip``: average with the landmarks of the mirrored crop, mirrored back and relabelled (twice the
    network's time). ``backend``: ``"torch"`` or ``"onnx"`` (the network exported once and cached,
    :mod:`dasl.nets.onnx_runtime`; the same landmarks to 1e-3 px, in a third of the time at batch 1)."""

    def __init__(
        self, model: str | Path = SHIPPED_NAME, batch_size: int = 64, flip: bool = False, backend: str = "torch"
    ) -> None:
        path = landmark_file(model)
        net, self.meta = load_landmark_net(path)
        fold_batchnorm(net)  # inference only: batch norm folded into the convolutions
        if backend == "onnx":
            self.net = OnnxNet(cached_export(path, "landmarks", lambda tmp: export_network(net, 3, tmp)))
        elif backend == "torch":
            self.net = net
        else:
            raise OptionError(f"unknown backend {backend!r}; use torch or onnx")
        self.name = self.meta.name or path.stem
        self.batch_size, self.flip = batch_size, flip

    @torch.inference_mode()
    def _landmarks(self, crops: np.ndarray) -> np.ndarray:
        images = normalise_images(np.ascontiguousarray(crops))
        return soft_argmax(self.net(images))[0].double().numpy()

    def crop_landmarks(self, crops: np.ndarray) -> np.ndarray:
        out = []
        for s in range(0, len(crops), self.batch_size):
            part = crops[s : s + self.batch_size]
            if self.flip:
                both = self._landmarks(np.concatenate([part, part[:, :, ::-1]]))
                out.append((both[: len(part)] + mirror_x(both[len(part) :], FLIP_68)) / 2)
            else:
                out.append(self._landmarks(part))
        return np.concatenate(out) if out else np.zeros((0, 68, 2))
