"""Training configuration: typed sections, read from TOML, overridable from the command line.

A config file has the sections ``[model]``, ``[loss]``, ``[optim]``, ``[data]`` (with ``[data.augment]``),
``[landmarks]`` (the landmark detector's run, ``run.task = "landmarks"``) and ``[run]``; anything left
out keeps the defaults below, which are the paper's (section 4.1) where it gives them. Paths may start
with ``${shared}`` for the shared data folder. Overrides are ``key=value`` strings such as
``optim.lr=1e-3`` or ``data.wild=["${shared}/data/aflw-wild"]`` (values in TOML syntax; a bare word is a
string).
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dasl.errors import BadInputError, MissingFileError
from dasl.nets.backbones import REGISTRY
from dasl.paths import SharedData
from dasl.train.augment import AugmentConfig


@dataclass
class ModelConfig:
    backbone: str = "resnet50"  # see dasl.nets.backbones.REGISTRY
    landmark_map: bool = True  # 4-channel input: RGB + the 18-landmark map (FLM)
    map_jitter: float = 0.0  # Gaussian noise (crop pixels) on the landmarks of the first pass's map
    map_dropout: float = 0.0  # share of faces whose first-pass map is empty
    imagenet: bool = False  # start from ImageNet weights (mobilenet_v2 only; dasl.nets.imagenet)
    detector_map: float = 0.0  # share of faces whose first-pass map is the landmark detector's on the crop
    map_detector: str = "dasl-landmarks"  # that detector: the shipped one, a file or a checkpoint
    map_detector_flip: bool = True  # mirror-averaged, as the default configuration runs it (+detflip)


@dataclass
class LossConfig:
    """Weights of the total loss ``L3d + l2d_con L2d-con + l3d_con L3d-con + cyc Lcyc + sc Lsc``
    (stage 2 replaces L3d by ``vdc`` times the vertex distance cost). 0 switches a term off."""

    l2d_con: float = 0.005
    l3d_con: float = 0.005
    cyc: float = 1.0
    sc: float = 0.005
    vdc: float = 1.0
    self_map: float = 0.0  # a second pass over the 3D faces on the map of their own (detached) landmarks
    sc_pairs: str = "paper"  # the critic's fakes: "paper" (in-the-wild predictions) or "matched" (see trainer)
    critic_r1: float = 0.0  # R1 gradient penalty of the critic on the real pairs' parameters
    mask: bool = True  # the 4:2:1 weight mask of L2d-con and Lcyc (False: all ones)
    landmark_unit: float = 120.0  # crop pixels per unit of landmark distance in L2d-con, Lcyc, L3d-con
    coefficient_dims: int = 2  # L3d weights from the 2D projection (3: with depth)
    vdc_vertices: int = 4000  # face-region vertices (evenly spaced) that the VDC measures


@dataclass
class OptimConfig:
    optimizer: str = "sgd"  # regressor: "sgd" (paper) or "adam"
    lr: float = 5e-5
    momentum: float = 0.9
    weight_decay: float = 0.0
    lr_decay: float = 0.95  # exponential decay factor per epoch
    critic_lr: float = 1e-4  # Adam, encoder and critic
    grad_clip: float = 0.0  # max gradient norm of the regressor, 0 = off


@dataclass
class DataConfig:
    train_3d: list[str] = field(default_factory=list)  # folders in the 300W-LP layout or with labels3d.npz
    wild: list[str] = field(default_factory=list)  # AFLW folders, landmark files, folders of .pts photos
    batch_3d: int = 16
    batch_2d: int = 16  # 32 in all, the paper's batch
    val_fraction: float = 0.05  # held out of the 3D set, by identity
    workers: int = 0
    # the mouth centre of in-the-wild labels: "2dasl" compares every face's label with 2DASL's mouth centre
    # (the corners' midpoint; dasl's reading of AFLW's point before 2026-12-04), "source" compares AFLW's
    # faces with the lips' middle, where AFLW marks it (Wild2D.aflw_mouth; landmarks.to_labelled18)
    wild_mouth: str = "2dasl"
    # the jaw line's weight in the landmark detector's loss, one per train_3d folder (empty: 1 for all);
    # e.g. lower where the jaw was not annotated but guessed from the inner face (the AFLW fits)
    jaw_weight: list[float] = field(default_factory=list)
    augment: AugmentConfig = field(default_factory=AugmentConfig)


@dataclass
class LandmarksConfig:
    """The 2D landmark detector's run (``run.task = "landmarks"``, :mod:`dasl.train.landmark_loop`)."""

    width: int = 96  # channels of the heatmap decoder
    imagenet: bool = True  # start the MobileNetV2 body from ImageNet weights (dasl.nets.imagenet)
    heatmap_weight: float = 1.0  # weight of the cross-entropy to a Gaussian heatmap (DSNT regulariser)
    sigma: float = 1.0  # the Gaussian's width in heatmap cells (4 crop pixels)
    wild_weight: float = 1.0  # weight of the annotated 18 points of the in-the-wild faces


@dataclass
class RunConfig:
    task: str = "regressor"  # "regressor": 2DASL; "landmarks": the 2D landmark detector
    out: str = "runs/train"
    stage: int = 1  # 1: L3d + 2D-assisted losses; 2: VDC fine-tuning
    init: str = ""  # checkpoint whose regressor weights start this run (e.g. stage 1 for stage 2)
    epochs: int = 10
    steps_per_epoch: int = 0  # 0: one pass over the 3D training set
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 100  # steps between checkpoints (plus one at every epoch end)
    val_batches: int = 0  # 0: the whole validation split
    threads: int = 0  # torch threads per process, 0: cores / processes
    # "bf16": the networks' forward passes under bfloat16 autocast with channels_last tensors (losses,
    # weights and optimiser stay float32); "fp32"; "auto": bf16 for the backbones measured faster with
    # it on a CPU with AMX-bf16 (dasl.train.precision.BF16_FASTER), fp32 otherwise
    precision: str = "auto"


INF = float("inf")
#: numeric settings by range: (low, high, whether low itself is refused) -> keys
RANGES: dict[tuple[float, float, bool], tuple[str, ...]] = {
    (1, INF, False): (
        "data.batch_3d",
        "data.batch_2d",
        "run.epochs",
        "run.log_every",
        "run.checkpoint_every",
        "loss.vdc_vertices",
    ),
    (0, INF, False): (
        "optim.weight_decay",
        "optim.grad_clip",
        "run.steps_per_epoch",
        "run.val_batches",
        "model.map_jitter",
        "loss.l2d_con",
        "loss.l3d_con",
        "loss.cyc",
        "loss.sc",
        "loss.vdc",
        "loss.self_map",
        "loss.critic_r1",
        "landmarks.heatmap_weight",
        "landmarks.wild_weight",
    ),
    (0, INF, True): ("optim.lr", "optim.critic_lr", "loss.landmark_unit", "landmarks.sigma", "data.augment.zoom"),
    (0, 1, False): (
        "optim.momentum",
        "model.map_dropout",
        "model.detector_map",
        "data.augment.flip",
        "data.augment.scale",
        "data.augment.color",
        "data.augment.gray",
        "data.augment.blur",
        "data.augment.occlusion",
    ),
    (0, 1, True): ("optim.lr_decay",),
    (0, 0.5, False): ("data.val_fraction", "data.augment.shift"),
    (0, 64, False): ("data.workers",),
    (0, 1024, False): ("run.threads",),
    (1, 4096, False): ("landmarks.width",),
    (0, 180, False): ("data.augment.rotate",),
}


@dataclass
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    data: DataConfig = field(default_factory=DataConfig)
    landmarks: LandmarksConfig = field(default_factory=LandmarksConfig)
    run: RunConfig = field(default_factory=RunConfig)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> TrainConfig:
        return _build(cls, data, source)

    def validate(self) -> None:
        problems = []
        if self.run.task not in ("regressor", "landmarks"):
            problems.append(f"run.task must be regressor or landmarks, not {self.run.task!r}")
        if self.run.task == "regressor" and self.model.backbone not in REGISTRY:
            problems.append(f"model.backbone {self.model.backbone!r} unknown (known: {', '.join(REGISTRY)})")
        if not self.model.landmark_map and (self.loss.cyc or self.loss.l3d_con):
            problems.append("loss.cyc and loss.l3d_con need model.landmark_map = true (the cycle feeds landmarks)")
        if self.model.imagenet and self.model.backbone != "mobilenet_v2":
            problems.append("model.imagenet needs model.backbone = mobilenet_v2 (the ImageNet weights at hand)")
        if self.run.stage not in (1, 2):
            problems.append(f"run.stage must be 1 or 2, not {self.run.stage}")
        if not self.data.train_3d:
            problems.append("data.train_3d lists no 3D-annotated folder")
        if self.optim.optimizer not in ("sgd", "adam"):
            problems.append(f"optim.optimizer must be sgd or adam, not {self.optim.optimizer!r}")
        if self.data.jaw_weight and len(self.data.jaw_weight) != len(self.data.train_3d):
            problems.append(f"data.jaw_weight needs one weight per data.train_3d folder ({len(self.data.train_3d)})")
        if self.data.wild_mouth not in ("2dasl", "source"):
            problems.append(f"data.wild_mouth must be 2dasl or source, not {self.data.wild_mouth!r}")
        if self.run.precision not in ("auto", "bf16", "fp32"):
            problems.append(f"run.precision must be auto, bf16 or fp32, not {self.run.precision!r}")
        if self.loss.sc_pairs not in ("paper", "matched"):
            problems.append(f"loss.sc_pairs must be paper or matched, not {self.loss.sc_pairs!r}")
        if self.loss.coefficient_dims not in (2, 3):
            problems.append("loss.coefficient_dims must be 2 or 3")
        problems += self._range_problems()
        if problems:
            raise BadInputError("config", "; ".join(problems))

    def _range_problems(self) -> list[str]:
        """Every numeric value outside its range, by key (NaN is outside every range)."""
        problems = []
        for (low, high, low_open), keys in RANGES.items():
            for key in keys:
                problems += self._range_problem(key, low, high, low_open)
        return problems

    def _range_problem(self, key: str, low: float, high: float, low_open: bool) -> list[str]:
        """The problem of one key's value, if it lies outside ``[low, high]`` (``(low, high]``)."""
        node = self
        for part in key.split("."):
            node = getattr(node, part)
        above = node > low if low_open else node >= low
        if above and node <= high:
            return []
        span = f"{'above' if low_open else 'at least'} {low:g}" + (f" and at most {high:g}" if high < INF else "")
        return [f"{key} must be {span}, not {node}"]

    @property
    def uses_wild(self) -> bool:
        if self.run.task == "landmarks":
            return bool(self.data.wild) and self.landmarks.wild_weight > 0
        return bool(self.data.wild) and any((self.loss.l2d_con, self.loss.cyc, self.loss.l3d_con, self.loss.sc))


def _build(kind, data: dict[str, Any], where: str):
    fields = {f.name: f for f in dataclasses.fields(kind)}
    unknown = set(data) - set(fields)
    if unknown:
        raise BadInputError(where, f"unknown key(s) {', '.join(sorted(unknown))} (known: {', '.join(fields)})")
    values = {}
    for name, value in data.items():
        default = getattr(kind(), name)
        if dataclasses.is_dataclass(default):
            if not isinstance(value, dict):
                raise BadInputError(where, f"{name} must be a table")
            values[name] = _build(type(default), value, f"{where}.{name}")
        else:
            values[name] = _coerce(value, default, f"{where}.{name}", str(fields[name].type))
    return kind(**values)


def _coerce(value: Any, default: Any, where: str, hint: str = "") -> Any:
    """``value`` read from TOML as the type of the field's ``default`` (``hint``: its annotation, which
    tells a list's item type)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise BadInputError(where, f"expected true or false, got {value!r}")
        return value
    if isinstance(default, float) and isinstance(value, int | float):
        return float(value)
    if isinstance(default, list):
        if not isinstance(value, list):
            raise BadInputError(where, f"expected a list, got {value!r}")
        if hint == "list[float]":
            if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
                raise BadInputError(where, f"expected a list of numbers, got {value!r}")
            return [float(v) for v in value]
        return [str(v) for v in value]
    if not isinstance(value, type(default)):
        raise BadInputError(where, f"expected {type(default).__name__}, got {value!r}")
    return value


def _parse_override(text: str) -> tuple[list[str], Any]:
    if "=" not in text:
        raise BadInputError("override", f"{text!r} is not key=value")
    key, raw = text.split("=", 1)
    try:
        value = tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw
    return key.strip().split("."), value


def _read_toml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A config file's tables; with ``base = "other.toml"`` (relative to the file) they are laid over that
    config's, recursively: a config names its base and states only its difference."""
    if not path.is_file():
        raise MissingFileError(path, "training config")
    if path.resolve() in seen:
        raise BadInputError(path, "its base configs name each other in a loop")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(path, f"not valid TOML ({exc})") from exc
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise BadInputError(path, f"base must be a config file name, not {base!r}")
    return _merge(_read_toml(path.parent / base, (*seen, path.resolve())), data)


def _merge(under: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(under)
    for key, value in over.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def load_config(path: str | Path | None, overrides: list[str] | None = None) -> TrainConfig:
    """Read a TOML config (or start from the defaults; a ``base`` config under it, :func:`_read_toml`), apply
    ``key=value`` overrides, and check every value's range before anything is read (errors name the file
    and the key)."""
    data: dict[str, Any] = {}
    source = "defaults"
    if path is not None:
        path = Path(path)
        data = _read_toml(path)
        source = str(path)
    for text in overrides or []:
        keys, value = _parse_override(text)
        node = data
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    cfg = TrainConfig.from_dict(data, source)
    try:
        cfg.validate()
    except BadInputError as exc:
        raise BadInputError(source, exc.problem) from None
    return cfg


def expand_path(text: str, shared_root: Path | None) -> Path:
    """A config path with ``${shared}`` replaced by the shared data folder."""
    if "${shared}" in text:
        if shared_root is None:
            shared_root = SharedData.find().root
        text = text.replace("${shared}", str(shared_root))
    return Path(text).expanduser()
