"""dasl's own regressors in PyTorch, from a model file (:mod:`dasl.nets.model_file`) or a training
checkpoint."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import torch

from dasl.checkpoint import load_checkpoint
from dasl.errors import BadInputError
from dasl.nets.backbones import build_regressor
from dasl.nets.fold import fold_batchnorm
from dasl.nets.landmark_net import save_landmark_file
from dasl.nets.model_file import LandmarkMeta, ModelMeta, load_model_file, save_model_file
from dasl.regressors.base import run_of_checkpoint
from dasl.regressors.network import NetworkRegressor


def load_weights(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelMeta]:
    """A regressor's weights and metadata from a model file (``.safetensors``) or a training checkpoint."""
    path = Path(path)
    if path.suffix == ".safetensors":
        return load_model_file(path)
    checkpoint = load_checkpoint(path)
    return checkpoint["regressor"], ModelMeta.from_dict(checkpoint["meta"], path)


def export_model_file(checkpoint: str | Path, out: str | Path, name: str = "", half: bool = False) -> Path:
    """A model file from a training checkpoint, its metadata completed with where it came from (``name``
    defaults to the checkpoint's run). A landmark detector's checkpoint gives a landmark detector file
    (:func:`dasl.nets.landmark_net.save_landmark_file`)."""
    checkpoint = Path(checkpoint)
    state = load_checkpoint(checkpoint)
    provenance = {
        "name": name or run_of_checkpoint(checkpoint) or checkpoint.stem,
        "source": str(checkpoint),
        "step": state["global_step"],
        "epoch": state["epoch"],
    }
    if "landmarker" in state:
        meta = dataclasses.replace(LandmarkMeta.from_dict(state["meta"]), **provenance)
        return save_landmark_file(out, state["landmarker"], meta, half=half)
    meta = ModelMeta.from_dict(state["meta"], checkpoint).replace(**provenance)
    return save_model_file(out, state["regressor"], meta, half=half)


class DaslRegressor(NetworkRegressor):
    """A dasl regressor run by PyTorch, from a model file or a training checkpoint."""

    def open(self, path: Path) -> ModelMeta:
        state, meta = load_weights(path)
        self.net = build_regressor(meta.backbone, meta.in_channels)
        try:
            self.net.load_state_dict(state)
        except RuntimeError as exc:
            raise BadInputError(path, f"weights do not fit backbone {meta.backbone} ({exc})") from exc
        fold_batchnorm(self.net)  # eval mode, batch norm folded into the convolutions (inference only)
        return meta

    @torch.inference_mode()
    def forward(self, inputs: np.ndarray) -> np.ndarray:
        return self.net(torch.from_numpy(np.ascontiguousarray(inputs, dtype=np.float32))).numpy()
