"""In-the-wild training faces: images with 2D landmarks only (no 3D ground truth).

Sources:

* ``aflw``: AFLW crops (120x120, 3DDFA crop protocol) with ``annotations.npz`` (``names``, ``pts21``
  ``(N, 2, 21)`` in the original photo with -1 for invisible points, ``roi_box``); AFLW's points map to
  2DASL's 18 (:data:`~dasl.morphable.landmarks.AFLW21_TO_18`).
* ``pts``: a folder of photos with iBUG 68-point ``.pts`` files beside them (HELEN, AFW, 300-W, menpo).
* ``landmarks``: a landmark file written by ``dasl data label-wild`` (layout in
  :mod:`dasl.builders.label_wild`).
* ``wild2d.npz`` (:data:`FACES_FILE`): a set of faces as :meth:`Wild2D.save` writes it (``dasl data
  fit-aflw`` writes the AFLW crops that are not near-copies of the test set this way).

Every face becomes a 120x120 crop with its 18 landmarks (crop frame) and their visibility, and has a group
(:mod:`dasl.data.labelled3d`): AFLW's ``group`` of near-duplicate crops, else :func:`identity_key`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from torch.utils.data import Dataset

from dasl.data.images import image_beside, read_rgb
from dasl.data.labelled3d import identity_key
from dasl.data.landmark_io import read_pts
from dasl.data.sample import Sample
from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import CROP_ROI, CROP_SIZE, image_to_crop
from dasl.morphable.landmarks import AFLW21_TO_18, AFLW_CHIN, SUBSET18, to_subset18

LANDMARK_FILE = "landmarks68.npz"
FACES_FILE = "wild2d.npz"


def _aflw_annotations(folder: Path) -> Path:
    path = Path(folder) / "annotations.npz"
    if not path.is_file():
        raise MissingFileError(path, "AFLW in-the-wild annotations")
    return path


def aflw_crop_points(ann, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """AFLW's annotated ``points`` (indices among its 21) of every crop of ``annotations.npz`` (``ann``) in
    the crop frame ``(N, K, 2)`` (``NaN`` where not visible), and their visibility ``(N, K)``."""
    pts = np.asarray(ann["pts21"], dtype=np.float64).transpose(0, 2, 1)[:, points]
    visible = (pts >= 0).all(-1)
    crop_pts = image_to_crop(pts, np.asarray(ann["roi_box"], dtype=np.float64))
    crop_pts[~visible] = np.nan
    return crop_pts, visible


def _aflw_rows(folder: str | Path, names: list[str]):
    """``annotations.npz`` of an AFLW folder and the rows of the crops ``names`` in it."""
    ann = np.load(_aflw_annotations(Path(folder)))
    rows = {str(n): i for i, n in enumerate(ann["names"])}
    missing = [n for n in names if n not in rows]
    if missing:
        raise BadInputError(
            Path(folder) / "annotations.npz", f"no annotation for {len(missing)} crops, e.g. {missing[0]}"
        )
    return ann, np.array([rows[n] for n in names], dtype=np.int64)


def aflw_chin(folder: str | Path, names: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """AFLW's chin point (:data:`~dasl.morphable.landmarks.AFLW_CHIN`) of the crops ``names`` of an AFLW
    folder: crop-frame points ``(N, 2)`` (``NaN`` where not visible) and visibility ``(N,)``."""
    ann, idx = _aflw_rows(folder, names)
    pts, visible = aflw_crop_points({"pts21": ann["pts21"][idx], "roi_box": ann["roi_box"][idx]}, [AFLW_CHIN])
    return pts[:, 0], visible[:, 0]


def aflw_yaw(folder: str | Path, names: list[str]) -> np.ndarray:
    """AFLW's own yaw estimate (degrees, ``annotations.npz`` ``yaw_deg``) of the crops ``names``."""
    ann, idx = _aflw_rows(folder, names)
    return np.asarray(ann["yaw_deg"], dtype=np.float64)[idx]


def aflw_group(group: int) -> str:
    """The group key of an AFLW crop from its ``annotations.npz`` group (shared by its 3D fit)."""
    return f"aflw-{int(group)}"


@dataclass
class Wild2D(Dataset):
    """Faces with 18 landmarks. ``rois`` ``(N, 4)`` are crop boxes in the image frame (``NaN`` rows for
    images that already are 120x120 crops); ``points18`` are in the image frame, or the crop frame for
    ready crops. ``aflw_mouth`` ``(N,)``: the face's mouth centre is AFLW's (the lips' middle), not 2DASL's
    (the mouth corners' midpoint): true for AFLW's faces (:meth:`from_aflw`; ``wild2d.npz`` files written
    before 2026-12-04 do not record it and load as false), false for points read from 68 landmarks."""

    paths: list[Path]
    rois: np.ndarray
    points18: np.ndarray
    visible18: np.ndarray
    groups: list[str] | None = None
    aflw_mouth: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.groups is None:
            self.groups = [identity_key(p.name) for p in self.paths]
        if self.aflw_mouth is None:
            self.aflw_mouth = np.zeros(len(self.paths), dtype=bool)

    def __len__(self) -> int:
        return len(self.paths)

    def subset(self, indices: np.ndarray) -> Wild2D:
        return Wild2D(
            [self.paths[i] for i in indices],
            self.rois[indices],
            self.points18[indices],
            self.visible18[indices],
            [self.groups[i] for i in indices],
            self.aflw_mouth[indices],
        )

    @classmethod
    def concatenate(cls, parts: list[Wild2D]) -> Wild2D:
        return cls(
            [p for w in parts for p in w.paths],
            np.concatenate([w.rois for w in parts]),
            np.concatenate([w.points18 for w in parts]),
            np.concatenate([w.visible18 for w in parts]),
            [g for w in parts for g in w.groups],
            np.concatenate([w.aflw_mouth for w in parts]),
        )

    def save(self, path: str | Path) -> Path:
        """Write the faces as a ``wild2d.npz`` file (atomically); image paths are stored relative to the
        file's folder when they can be."""
        path = Path(path)
        base = path.parent.resolve()
        names = [os.path.relpath(p.resolve(), base) for p in self.paths]
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(
                    fh,
                    names=np.array(names),
                    rois=self.rois,
                    points18=self.points18,
                    visible18=self.visible18,
                    groups=np.array(self.groups),
                    aflw_mouth=self.aflw_mouth,
                )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Wild2D:
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(path, "in-the-wild faces file")
        data = np.load(path)
        missing = {"names", "rois", "points18", "visible18", "groups"} - set(data.files)
        if missing:
            raise BadInputError(path, f"not a {FACES_FILE} file: missing {sorted(missing)}")
        paths = [path.parent / str(n) for n in data["names"]]
        groups = [str(g) for g in data["groups"]]
        mouth = data["aflw_mouth"].astype(bool) if "aflw_mouth" in data.files else None
        return cls(paths, data["rois"], data["points18"], data["visible18"].astype(bool), groups, mouth)

    def __getitem__(self, i: int) -> Sample:
        image = read_rgb(self.paths[i])
        roi = self.rois[i]
        points = self.points18[i]
        if np.isnan(roi).any():
            if image.shape[:2] != (CROP_SIZE, CROP_SIZE):
                raise BadInputError(self.paths[i], f"expected a {CROP_SIZE}x{CROP_SIZE} crop, got {image.shape[:2]}")
            crop = image
        else:
            crop = crop_image(image, roi)
            points = image_to_crop(points[None], roi[None])[0]
        return Sample(crop, points.astype(np.float64), self.visible18[i].copy(), aflw_mouth=bool(self.aflw_mouth[i]))

    # ------------------------------------------------------------------ sources
    @classmethod
    def from_aflw(cls, folder: str | Path) -> Wild2D:
        folder = Path(folder)
        ann = np.load(_aflw_annotations(folder))
        crop_pts, visible = aflw_crop_points(ann, AFLW21_TO_18)
        n = len(ann["names"])
        groups = [aflw_group(g) for g in ann["group"]] if "group" in ann.files else None
        paths = [folder / "crops" / str(name) for name in ann["names"]]
        return cls(paths, np.full((n, 4), np.nan), crop_pts, visible, groups, np.ones(n, dtype=bool))

    @classmethod
    def from_pts_folder(cls, folder: str | Path) -> Wild2D:
        folder = Path(folder)
        if not folder.is_dir():
            raise MissingFileError(folder, "folder of landmarked photos")
        paths, points = [], []
        for pts in sorted(folder.rglob("*.pts")):
            image = image_beside(pts)
            marks = read_pts(pts)
            if image is None or marks.shape != (68, 2):
                continue
            paths.append(image)
            points.append(marks)
        if not paths:
            raise BadInputError(folder, "no image with a 68-point .pts file found")
        pts68 = np.stack(points)
        return cls(paths, roi_from_landmarks(pts68), to_subset18(pts68), np.ones((len(paths), 18), dtype=bool))

    @classmethod
    def from_landmark_file(cls, path: str | Path) -> Wild2D:
        """A landmark file of ``dasl data label-wild`` (see :mod:`dasl.builders.label_wild`); images without a
        detected face are left out, 120x120 images are used as ready crops."""
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(path, "landmark file")
        data = np.load(path)
        missing = {"root", "names", "points", "visible"} - set(data.files)
        if missing:
            raise BadInputError(path, f"not a dasl landmark file: missing {sorted(missing)}")
        visible68 = np.asarray(data["visible"], dtype=bool)
        keep = visible68.any(1)
        if not keep.any():
            raise BadInputError(path, "no image of the file has landmarks")
        visible68 = visible68[keep]
        pts68 = np.asarray(data["points"], dtype=np.float64)[keep]
        sizes = np.asarray(data["sizes"])[keep] if "sizes" in data.files else np.zeros((len(pts68), 2), int)
        root = path.parent / str(data["root"])
        # an 18-point landmark exists when every 68-point landmark it averages exists
        visible18 = ((SUBSET18[None] > 0) <= visible68[:, None, :]).all(-1)
        points18 = to_subset18(np.where(visible68[..., None], pts68, 0.0))
        rois = np.stack([roi_from_landmarks(p[v][None])[0] for p, v in zip(pts68, visible68, strict=True)])
        ready = (sizes == CROP_SIZE).all(1)
        rois[ready] = np.nan
        points18[ready] = image_to_crop(points18[ready], CROP_ROI)  # a 120x120 image is its own crop
        paths = [root / str(n) for n in np.asarray(data["names"])[keep]]
        return cls(paths, rois, points18, visible18)

    @classmethod
    def from_source(cls, source: str | Path) -> Wild2D:
        """Any source by its path: a ``wild2d.npz`` file or a folder holding one, an AFLW folder, a landmark
        file, or a folder of ``.pts`` photos."""
        source = Path(source)
        if source.is_file():
            return cls.load(source) if source.name.endswith(FACES_FILE) else cls.from_landmark_file(source)
        if (source / FACES_FILE).is_file():
            return cls.load(source / FACES_FILE)
        if (source / "annotations.npz").is_file():
            return cls.from_aflw(source)
        if (source / LANDMARK_FILE).is_file():
            return cls.from_landmark_file(source / LANDMARK_FILE)
        return cls.from_pts_folder(source)
