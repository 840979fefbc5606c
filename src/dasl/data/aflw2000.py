"""The AFLW2000-3D benchmark files (3DDFA protocol) from the shared folder.

All landmarks here are in the **image frame** (1-based pixels of the 450x450 photos), as ``(N, 68, D)``
arrays; the files store them as ``(N, D, 68)``.

AFLW2000-3D is a test set: nothing in dasl trains, tunes or selects checkpoints on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from dasl.data.images import read_rgb
from dasl.data.mat300wlp import MatLabel, pose_para_to_image_params, read_mat
from dasl.errors import BadInputError
from dasl.morphable.landmarks import AFLW21_TO_18
from dasl.paths import SharedData

ImageList = Literal["aflw2000", "aflw1998"]
LabelSet = Literal["original", "reannotated"]
YawSet = Literal["original", "new"]

IMAGE_SIZE = 450


@dataclass
class AFLW2000:
    """A selection of AFLW2000-3D with its ground truth.

    ``landmarks_3d`` ``(N, 68, 3)``: the original 3D labels. ``landmarks_2d`` ``(N, 68, 2)``: the labels the
    2D NME is scored on (original or re-annotated). ``yaw`` ``(N,)`` degrees for the bins. ``roi``
    ``(N, 4)``: the stored crop boxes (image frame, inclusive, clipped to the photo).
    """

    shared: SharedData
    names: list[str]
    index: np.ndarray
    roi: np.ndarray
    landmarks_3d: np.ndarray
    landmarks_2d: np.ndarray
    yaw: np.ndarray
    image_list: str = "aflw2000"
    labels: str = "original"
    yaw_set: str = "original"
    _labels: list[MatLabel] | None = field(default=None, repr=False)

    @classmethod
    def load(
        cls,
        shared: SharedData | None = None,
        image_list: ImageList = "aflw2000",
        labels: LabelSet = "original",
        yaw: YawSet = "original",
    ) -> AFLW2000:
        shared = shared or SharedData.find()
        all_names = _read_list(shared.require("aflw2000_list"))
        names = all_names if image_list == "aflw2000" else _read_list(shared.require("aflw1998_list"))
        position = {n: i for i, n in enumerate(all_names)}
        unknown = [n for n in names if n not in position]
        if unknown:
            raise BadInputError(shared.path("aflw1998_list"), f"names not in AFLW2000-3D: {unknown[:3]}")
        index = np.array([position[n] for n in names], dtype=np.int64)
        pts3d = np.load(shared.require("aflw2000_pts68")).transpose(0, 2, 1)[index].astype(np.float64)
        if labels == "reannotated":
            pts2d = np.load(shared.require("aflw2000_pts68_reannotated")).transpose(0, 2, 1)[index]
        else:
            pts2d = pts3d[..., :2]
        yaw_key = "aflw2000_yaw_new" if yaw == "new" else "aflw2000_yaw"
        return cls(
            shared=shared,
            names=names,
            index=index,
            roi=np.load(shared.require("aflw2000_roi"))[index].astype(np.float64),
            landmarks_3d=pts3d,
            landmarks_2d=np.asarray(pts2d, dtype=np.float64),
            yaw=np.load(shared.require(yaw_key))[index].astype(np.float64),
            image_list=image_list,
            labels=labels,
            yaw_set=yaw,
        )

    def __len__(self) -> int:
        return len(self.names)

    # ------------------------------------------------------------------ images
    def stored_crops(self, indices: Sequence[int] | None = None) -> np.ndarray:
        """The benchmark's own 120x120 crops (all, or those at ``indices``), RGB uint8 ``(N, 120, 120, 3)``."""
        folder = self.shared.require("aflw2000_crops")
        chosen = range(len(self)) if indices is None else indices
        return np.stack([read_rgb(folder / self.names[i]) for i in chosen])

    def photo(self, i: int) -> np.ndarray:
        """The 450x450 photo ``i`` (RGB uint8)."""
        return read_rgb(self.shared.require("aflw2000_images") / self.names[i])

    # ------------------------------------------------------------------ 3DMM ground truth
    @property
    def mat_labels(self) -> list[MatLabel]:
        """The ``.mat`` ground truth of every image (read once)."""
        if self._labels is None:
            folder = self.shared.require("aflw2000_images")
            self._labels = [read_mat(folder / Path(n).with_suffix(".mat")) for n in self.names]
        return self._labels

    @cached_property
    def image_params(self) -> np.ndarray:
        """Ground-truth parameters ``(N, 62)`` (truncated to 40/10) in the image model frame."""
        labels = self.mat_labels
        return pose_para_to_image_params(
            np.stack([m.pose_para for m in labels]),
            np.stack([m.shape_para[:40] for m in labels]),
            np.stack([m.exp_para[:10] for m in labels]),
        )

    @cached_property
    def human_points(self) -> tuple[np.ndarray, np.ndarray]:
        """AFLW's own annotations of these photos, people's rather than a 3DMM fit's: 2DASL's 18 landmarks
        ``(N, 18, 2)`` (image frame, NaN where not annotated) and their visibility ``(N, 18)``
        (:data:`~dasl.morphable.landmarks.AFLW21_TO_18`; the file marks a point not seen by -1)."""
        pts = np.load(self.shared.require("aflw2000_pts21")).transpose(0, 2, 1)[self.index][:, AFLW21_TO_18]
        visible = (pts >= 0).all(-1)
        pts = np.where(visible[..., None], pts, np.nan).astype(np.float64)
        return pts, visible

    @cached_property
    def pose_deg(self) -> np.ndarray:
        """Ground-truth ``[yaw, pitch, roll]`` in degrees ``(N, 3)``, from ``Pose_Para``."""
        pose = np.stack([m.pose_para for m in self.mat_labels])
        return np.degrees(pose[:, [1, 0, 2]])


def _read_list(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]
