"""What a trained regressor says about itself (:class:`ModelMeta`), and the model file that carries it.

A **model file** (``.safetensors``) holds a regressor's weights and, as JSON metadata, its
:class:`ModelMeta`; training checkpoints carry the same record (``dasl.checkpoint``). ``dasl
export-model`` writes a model file from a checkpoint; the package ships its trained models as model
files in ``dasl/weights/``.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path

if TYPE_CHECKING:
    import torch

FORMAT = "dasl-model-1"
#: the format of a landmark detector's file (:mod:`dasl.nets.landmark_net`)
LANDMARK_FORMAT = "dasl-landmarks-1"
#: input channels of a network that takes the landmark map as its fourth channel
MAP_CHANNELS = 4


@dataclass(frozen=True)
class ModelMeta:
    """``backbone`` (a name of :data:`dasl.nets.backbones.REGISTRY`), ``in_channels`` (3: RGB, 4: RGB + the
    18-landmark map), the whitening statistics ``param_mean`` / ``param_std`` ``(62,)`` its outputs are
    relative to, the training ``stage``, and where it came from: ``name``, ``source`` checkpoint,
    ``step`` and ``epoch``."""

    backbone: str
    in_channels: int
    param_mean: tuple[float, ...] = field(repr=False)
    param_std: tuple[float, ...] = field(repr=False)
    landmark_map: str = ""  # "18" for 4-channel networks: the map's landmark set
    stage: int = 1
    name: str = ""
    source: str = ""
    step: int | None = None
    epoch: int | None = None

    @classmethod
    def for_network(cls, backbone: str, uses_map: bool, param_mean, param_std, **provenance) -> ModelMeta:
        """The record of a network being trained (``provenance``: ``stage``, ``name``, ...)."""
        channels = MAP_CHANNELS if uses_map else 3
        return cls(backbone, channels, _floats(param_mean), _floats(param_std), "18" if uses_map else "", **provenance)

    @property
    def uses_landmark_map(self) -> bool:
        return self.in_channels == MAP_CHANNELS

    @property
    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """``param_mean``, ``param_std`` as float32 arrays."""
        return np.asarray(self.param_mean, np.float32), np.asarray(self.param_std, np.float32)

    def replace(self, **changes: Any) -> ModelMeta:
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ reader and writer
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["param_mean"], out["param_std"] = list(self.param_mean), list(self.param_std)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str | Path) -> ModelMeta:
        """The record from its dict (a model file's JSON, a checkpoint's ``meta``); ``source`` names the
        file in errors."""
        known = {f.name for f in dataclasses.fields(cls)}
        missing = {"backbone", "in_channels", "param_mean", "param_std"} - set(data)
        if missing:
            raise BadInputError(source, f"model metadata lacks {sorted(missing)}")
        values = {k: v for k, v in data.items() if k in known}
        values["in_channels"] = int(values["in_channels"])
        values["param_mean"], values["param_std"] = _floats(values["param_mean"]), _floats(values["param_std"])
        if len(values["param_mean"]) != 62 or len(values["param_std"]) != 62:
            raise BadInputError(source, "model metadata: whitening statistics are not 62 values each")
        return cls(**values)


@dataclass(frozen=True)
class LandmarkMeta:
    """What a landmark detector (:mod:`dasl.nets.landmark_net`) says about itself: its decoder ``width``,
    the ``zoom`` its crops were trained at (:attr:`dasl.train.augment.AugmentConfig.zoom`; None: a file
    from before zoomed training, whose best view is :data:`dasl.landmarkers.dasl_net.ZOOM`) and where it
    came from."""

    width: int
    name: str = ""
    source: str = ""
    step: int | None = None
    epoch: int | None = None
    zoom: float | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LandmarkMeta:
        known = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


def _floats(values) -> tuple[float, ...]:
    return tuple(float(v) for v in np.asarray(values, dtype=np.float64).reshape(-1))


def save_weights_file(path: str | Path, state: dict[str, torch.Tensor], meta_json: str, format: str, half=False):
    """Write weights ``state`` and a JSON metadata string as a safetensors file of ``format``
    (atomically); ``half`` stores floating-point weights as float16 (they are used as float32)."""
    from safetensors.torch import save_file

    tensors = {}
    for key, value in state.items():
        value = value.detach().cpu().contiguous()
        if half and value.is_floating_point() and not key.endswith(("running_mean", "running_var")):
            value = value.half()
        tensors[key] = value
    path = Path(path)
    with atomic_path(path) as tmp:
        save_file(tensors, str(tmp), metadata={"format": format, "meta": meta_json})
    return path


def read_file_meta(path: str | Path, format: str, what: str) -> dict[str, Any]:
    """The metadata dict of a safetensors file of ``format``, without reading its weights (nor importing
    PyTorch); errors name the file."""
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, what)
    try:
        with safe_open(str(path), framework="numpy") as fh:
            metadata = fh.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable model file ({exc})") from exc
    if metadata.get("format") != format:
        raise BadInputError(path, f"not a {what}")
    try:
        return json.loads(metadata["meta"])
    except (KeyError, ValueError) as exc:
        raise BadInputError(path, f"{what} without readable metadata") from exc


def load_weights_file(path: str | Path, format: str, what: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Weights (float32) and metadata dict of a safetensors file of ``format``, errors naming the file."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    meta = read_file_meta(path, format, what)
    try:
        state = load_file(str(path))
    except (SafetensorError, OSError, ValueError) as exc:
        raise BadInputError(path, f"not a readable model file ({exc})") from exc
    return {k: v.float() for k, v in state.items()}, meta


def save_model_file(path: str | Path, state: dict[str, torch.Tensor], meta: ModelMeta, half: bool = False) -> Path:
    """Write a regressor's weights ``state`` and ``meta`` as a model file."""
    return save_weights_file(path, state, meta.to_json(), FORMAT, half)


def load_model_file(path: str | Path) -> tuple[dict[str, torch.Tensor], ModelMeta]:
    """Weights (float32) and metadata of a regressor's model file, with errors naming the file."""
    state, meta = load_weights_file(path, FORMAT, "dasl model file")
    return state, ModelMeta.from_dict(meta, path)
