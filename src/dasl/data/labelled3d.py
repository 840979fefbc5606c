"""3D-annotated training faces: photos with 62-parameter ground truth.

Two layouts are read:

* **300W-LP layout**: a folder (searched recursively) of images with a ``.mat`` beside each (same stem)
  holding ``Pose_Para``, ``Shape_Para``, ``Exp_Para`` (see :mod:`dasl.data.mat300wlp`). Real 300W-LP
  works as is.
* **dasl label file**: ``labels3d.npz`` in the folder, with ``names`` (image paths relative to the folder,
  or to ``root`` when given, itself relative to the folder), ``params`` ``(N, 62)`` in the image model
  frame (``y_img = H + 1 - y``) and optionally ``groups`` ``(N,)``, written by ``dasl data build-3d``,
  ``dasl data fit-aflw`` and ``dasl data profile``. When both exist the label file wins (it is read in
  one go).

Every face has a **group**: faces of one group (one identity, a photo and its profiles, near-duplicate
crops) stay on one side of the train / validation split (:func:`split_groups`). Without ``groups`` in
the label file a face's group is :func:`identity_key` of its file name.

Each face is cut with the landmark ROI rule (:func:`~dasl.geometry.crop.roi_from_landmarks`) around its
ground-truth 68 landmarks, like the AFLW2000-3D crops but not clipped to the photo.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset
from tqdm import tqdm

from dasl.data.images import image_beside, read_rgb
from dasl.data.mat300wlp import pose_para_to_image_params, read_mat
from dasl.data.sample import Sample
from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path, bar_disabled
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import crop_landmarks, image_landmarks
from dasl.geometry.params import image_to_crop_params
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel

LABEL_FILE = "labels3d.npz"


def write_label_file(
    folder: Path, names: list[str], params: np.ndarray, root: str = ".", groups: list[str] | None = None
) -> Path:
    """Write ``labels3d.npz`` (atomically); image ``names`` are relative to ``folder / root``."""
    target = Path(folder) / LABEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    arrays = {"names": np.array(names), "params": np.asarray(params, dtype=np.float64), "root": np.array(root)}
    if groups is not None:
        arrays["groups"] = np.array(groups)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **arrays)
    return target


def identity_key(name: str) -> str:
    """The group of a file name without recorded groups: 300W-LP's ``AFW_134212_1_0`` and its profiles
    ``..._1_3`` share the part before the last underscore."""
    stem = Path(name).stem
    return stem.rsplit("_", 1)[0] if "_" in stem else stem


@dataclass
class Labelled3D(Dataset):
    """``paths`` of the photos, their ``params`` ``(N, 62)`` in each photo's image model frame, and their
    ``groups`` (see the module docstring)."""

    paths: list[Path]
    params: np.ndarray
    model: MorphableModel
    groups: list[str] | None = None
    jaw_weight: np.ndarray | None = None  # (N,) the jaw line's weight in the detector's loss (Sample)

    def __post_init__(self) -> None:
        if self.groups is None:
            self.groups = [identity_key(p.name) for p in self.paths]
        if self.jaw_weight is None:
            self.jaw_weight = np.ones(len(self.paths), dtype=np.float32)

    @classmethod
    def from_folder(cls, folder: str | Path, model: MorphableModel, progress: bool = True) -> Labelled3D:
        folder = Path(folder)
        if not folder.is_dir():
            raise MissingFileError(
                folder, "3D-annotated training folder", "build the training data first: bash scripts/training_data.sh"
            )
        label_file = folder / LABEL_FILE
        if label_file.is_file():
            data = np.load(label_file)
            root = folder / str(data["root"]) if "root" in data.files else folder
            names = [str(n) for n in data["names"]]
            groups = [str(g) for g in data["groups"]] if "groups" in data.files else None
            return cls([root / n for n in names], np.asarray(data["params"], dtype=np.float64), model, groups)
        mats = sorted(folder.rglob("*.mat"))
        paths, params = [], []
        for mat in tqdm(mats, desc=f"reading labels in {folder.name}", disable=bar_disabled(progress), leave=False):
            image = image_beside(mat)
            if image is None:
                continue
            label = read_mat(mat)
            paths.append(image)
            params.append(pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)[0])
        if not paths:
            raise BadInputError(folder, f"no {LABEL_FILE} and no image + .mat pairs found")
        return cls(paths, np.stack(params), model)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: np.ndarray) -> Labelled3D:
        return Labelled3D(
            [self.paths[i] for i in indices],
            self.params[indices],
            self.model,
            [self.groups[i] for i in indices],
            self.jaw_weight[indices],
        )

    @classmethod
    def concatenate(cls, sets: list[Labelled3D], model: MorphableModel) -> Labelled3D:
        return cls(
            [p for s in sets for p in s.paths],
            np.concatenate([s.params for s in sets]),
            model,
            [g for s in sets for g in s.groups],
            np.concatenate([s.jaw_weight for s in sets]),
        )

    def __getitem__(self, i: int) -> Sample:
        image = read_rgb(self.paths[i])
        height = image.shape[0]
        params = self.params[i : i + 1]
        roi = roi_from_landmarks(image_landmarks(self.model, params, height))
        crop_params = image_to_crop_params(params, roi, height)
        points18 = to_subset18(crop_landmarks(self.model, crop_params)[..., :2])[0]
        crop = crop_image(image, roi[0])
        return Sample(crop, points18, np.ones(18, dtype=bool), crop_params[0], jaw_weight=float(self.jaw_weight[i]))


def split_groups(groups: list[str], val_fraction: float, salt: str = "dasl-val") -> tuple[np.ndarray, np.ndarray]:
    """Stable train / validation split ``(train indices, validation indices)``: a group goes to validation
    when the hash of its key falls below the fraction, so a group stays on one side."""
    buckets = {g: zlib.crc32(f"{salt}:{g}".encode()) / 2**32 for g in set(groups)}
    val = np.array([buckets[g] < val_fraction for g in groups], dtype=bool)
    return np.nonzero(~val)[0], np.nonzero(val)[0]
