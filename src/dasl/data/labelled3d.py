"""3D-annotated training faces: photos with 62-parameter ground truth.

Two layouts are read:

* **300W-LP layout**: a folder (searched recursively) of images with a ``.mat`` beside each (same stem)
  holding ``Pose_Para``, ``Shape_Para``, ``Exp_Para`` (see :mod:`dasl.data.mat300wlp`). Real 300W-LP
  works as is.
* **dasl label file**: ``labels3d.npz`` in the folder, with ``names`` (image paths relative to the folder,
  or to ``root`` when given, itself relative to the folder), ``params`` ``(N, 62)`` in the image model
  frame (``y_img = H + 1 - y``), written by ``dasl data build-3d`` and ``dasl data fit-aflw``.
  When both exist the label file wins (it is read in one go).

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
from dasl.fileio import atomic_path
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import crop_landmarks, image_landmarks
from dasl.geometry.params import image_to_crop_params
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel

LABEL_FILE = "labels3d.npz"


def write_label_file(folder: Path, names: list[str], params: np.ndarray, root: str = ".") -> Path:
    """Write ``labels3d.npz`` (atomically); image ``names`` are relative to ``folder / root``."""
    target = Path(folder) / LABEL_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(target) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, names=np.array(names), params=np.asarray(params, dtype=np.float64), root=np.array(root))
    return target


@dataclass
class Labelled3D(Dataset):
    """``paths`` of the photos and their ``params`` ``(N, 62)`` in each photo's image model frame."""

    paths: list[Path]
    params: np.ndarray
    model: MorphableModel

    @classmethod
    def from_folder(cls, folder: str | Path, model: MorphableModel, progress: bool = True) -> Labelled3D:
        folder = Path(folder)
        if not folder.is_dir():
            raise MissingFileError(folder, "3D-annotated training folder")
        label_file = folder / LABEL_FILE
        if label_file.is_file():
            data = np.load(label_file)
            root = folder / str(data["root"]) if "root" in data.files else folder
            names = [str(n) for n in data["names"]]
            return cls([root / n for n in names], np.asarray(data["params"], dtype=np.float64), model)
        mats = sorted(folder.rglob("*.mat"))
        paths, params = [], []
        for mat in tqdm(mats, desc=f"reading labels in {folder.name}", disable=not progress, leave=False):
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
        return Labelled3D([self.paths[i] for i in indices], self.params[indices], self.model)

    def __getitem__(self, i: int) -> Sample:
        image = read_rgb(self.paths[i])
        height = image.shape[0]
        params = self.params[i : i + 1]
        roi = roi_from_landmarks(image_landmarks(self.model, params, height))
        crop_params = image_to_crop_params(params, roi, height)
        points18 = to_subset18(crop_landmarks(self.model, crop_params)[..., :2])[0]
        return Sample(crop_image(image, roi[0]), points18, np.ones(18, dtype=bool), crop_params[0])


def split_by_name(names: list[str], val_fraction: float, salt: str = "dasl-val") -> tuple[np.ndarray, np.ndarray]:
    """Stable train / validation split: a name goes to validation when its hash falls below the fraction.

    Names that share an identity prefix stay together: 300W-LP's ``AFW_134212_1_0`` and its profiles
    ``..._1_3`` are split on the part before the last underscore.
    """
    keys = [n.rsplit("_", 1)[0] if "_" in n else n for n in names]
    buckets = np.array([zlib.crc32(f"{salt}:{k}".encode()) / 2**32 for k in keys])
    val = buckets < val_fraction
    return np.nonzero(~val)[0], np.nonzero(val)[0]
