"""dasl's own regressors: model files, training checkpoints, and the shipped models by name.

A **model file** (``.safetensors``) holds the regressor's weights and, as metadata, its backbone, input
channels and the whitening statistics its outputs are relative to; ``dasl export-model`` writes one from
a training checkpoint. The package ships its trained models as model files in ``dasl/weights/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import complete_depth_row
from dasl.nets.backbones import build_regressor
from dasl.nets.inputs import predict_whitened
from dasl.regressors.base import Regressor

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
#: shipped models: name -> file in ``dasl/weights``
SHIPPED = {
    "default": "dasl_light.safetensors",
    "dasl-light": "dasl_light.safetensors",
    "dasl-resnet50": "dasl_resnet50.safetensors",
}
FORMAT = "dasl-model-1"


def save_model_file(path: str | Path, state: dict[str, torch.Tensor], meta: dict, half: bool = False) -> Path:
    """Write weights ``state`` and ``meta`` (backbone, in_channels, param_mean, param_std, ...) as a
    model file; ``half`` stores floating-point weights as float16 (they are used as float32)."""
    from safetensors.torch import save_file

    tensors = {}
    for key, value in state.items():
        value = value.detach().cpu().contiguous()
        if half and value.is_floating_point() and not key.endswith(("running_mean", "running_var")):
            value = value.half()
        tensors[key] = value
    metadata = {"format": FORMAT, "meta": json.dumps(meta)}
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata=metadata)
    return path


def load_model_file(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load_file, safe_open

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "dasl model file")
    try:
        with safe_open(str(path), framework="pt") as fh:
            metadata = fh.metadata() or {}
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable model file ({exc})") from exc
    if metadata.get("format") != FORMAT:
        raise BadInputError(path, "not a dasl model file")
    return {k: v.float() for k, v in state.items()}, json.loads(metadata["meta"])


def raw_params(whitened: np.ndarray, morphable: MorphableModel) -> np.ndarray:
    """Raw parameters ``(N, 62)`` of a dasl network's whitened output, the third row of ``f*R`` rebuilt
    from the first two (:func:`~dasl.morphable.pose.complete_depth_row`: stage 1 does not learn it from its
    2D-weighted errors; see docs/models.md). Every backend of a dasl model decodes its output here."""
    return complete_depth_row(morphable.unwhiten(np.asarray(whitened, np.float64)))


def resolve_model_path(name: str | Path) -> Path:
    """A shipped model's name, or a path to a model file or training checkpoint."""
    if isinstance(name, str) and name in SHIPPED:
        path = WEIGHTS_DIR / SHIPPED[name]
        if not path.is_file():
            raise MissingFileError(path, f"shipped model {name!r}", "reinstall dasl, or train one (docs/models.md)")
        return path
    path = Path(name)
    if not path.is_file():
        known = ", ".join([*SHIPPED, "3ddfa-v2-mb05"])
        raise MissingFileError(path, "model file", f"give a path, or one of: {known}")
    return path


class DaslRegressor(Regressor):
    """A dasl regressor from a model file or a training checkpoint.

    4-channel models take 68 crop-frame landmarks for their map; without them they run two passes, the
    second on their own landmarks (``passes``).
    """

    def __init__(self, path: str | Path, morphable: MorphableModel, passes: int = 2, batch_size: int = 64) -> None:
        path = Path(path)
        if path.suffix == ".safetensors":
            state, meta = load_model_file(path)
        else:
            from dasl.train.checkpoint import load_checkpoint

            checkpoint = load_checkpoint(path)
            state, meta = checkpoint["regressor"], checkpoint["meta"]
        self.meta = meta
        self.name = meta.get("name", path.stem)
        self.net = build_regressor(meta["backbone"], int(meta["in_channels"]))
        try:
            self.net.load_state_dict(state)
        except RuntimeError as exc:
            raise BadInputError(path, f"weights do not fit backbone {meta['backbone']} ({exc})") from exc
        self.net.eval()
        stats = (np.asarray(meta["param_mean"], np.float32), np.asarray(meta["param_std"], np.float32))
        if not (np.allclose(stats[0], morphable.param_mean) and np.allclose(stats[1], morphable.param_std)):
            raise BadInputError(path, "trained with other whitening statistics than this 3DMM")
        self.morphable = morphable
        self.uses_landmarks = int(meta["in_channels"]) == 4
        self.passes, self.batch_size = passes, batch_size

    @torch.inference_mode()
    def predict_whitened(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        from dasl.data.sample import normalise_images
        from dasl.morphable.landmarks import to_subset18

        out = []
        for s in range(0, len(crops), self.batch_size):
            images = normalise_images(np.ascontiguousarray(crops[s : s + self.batch_size]))
            points = None
            if landmarks is not None and self.uses_landmarks:
                points = torch.from_numpy(to_subset18(np.asarray(landmarks[s : s + self.batch_size], np.float32)))
            out.append(predict_whitened(self.net, images, self.morphable, self.uses_landmarks, points, self.passes))
        return torch.cat(out).numpy() if out else np.zeros((0, 62), np.float32)

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        return raw_params(self.predict_whitened(crops, landmarks), self.morphable)
