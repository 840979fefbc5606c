"""The data of a training run: the 3D-annotated sets split by group into training and validation faces,
and the in-the-wild faces (``data.train_3d``, ``data.val_fraction``, ``data.wild`` of the config)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasl.data.labelled3d import Labelled3D, split_groups
from dasl.data.wild import Wild2D
from dasl.morphable.model import MorphableModel
from dasl.train.config import TrainConfig, expand_path


@dataclass
class Datasets:
    train_3d: Labelled3D
    val_3d: Labelled3D
    wild: Wild2D | None


def load_datasets(cfg: TrainConfig, bfm: MorphableModel, shared_root: Path | None, progress: bool) -> Datasets:
    """The 3D sets split by group into training and validation faces, and the in-the-wild faces without
    any of the validation groups (the same AFLW crops can be 3D-labelled and in-the-wild faces)."""
    sets = [Labelled3D.from_folder(expand_path(p, shared_root), bfm, progress) for p in cfg.data.train_3d]
    for labelled, weight in zip(sets, cfg.data.jaw_weight, strict=False):
        labelled.jaw_weight[:] = weight
    full = Labelled3D.concatenate(sets, bfm)
    train_idx, val_idx = split_groups(full.groups, cfg.data.val_fraction)
    wild = None
    if cfg.uses_wild:
        wild = Wild2D.concatenate([Wild2D.from_source(expand_path(p, shared_root)) for p in cfg.data.wild])
        held_out = {full.groups[i] for i in val_idx}
        wild = wild.subset(np.array([i for i, g in enumerate(wild.groups) if g not in held_out], dtype=np.int64))
    return Datasets(full.subset(train_idx), full.subset(val_idx), wild)
