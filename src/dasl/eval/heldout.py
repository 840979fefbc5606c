"""Scoring on the held-out part of the 3D training data (never AFLW2000-3D): for choices made on data
that are not the test set, such as where the landmark map of a 4-channel model comes from.

The held-out faces are the validation split of ``dasl train`` (``split_groups``, 5% of the groups):
crops cut with the landmark ROI rule, 68-landmark NME in % of sqrt(w h) of the ground-truth box.
"""

from __future__ import annotations

import numpy as np

from dasl.data.labelled3d import Labelled3D, split_groups
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.model import MorphableModel

#: the held-out sets of every held-out measurement (each folder's validation split), named once: HELEN/AFW photos
#: with their rendered profiles, the AFLW fits the shipped models trained on (AFLW's mouth centre and chin read
#: as AFLW marks them), and those fits' rendered profiles (``scripts/training_data.sh`` builds them)
HELDOUT_FOLDERS = ("data/helen-afw-3d", "data/aflw-wild-3d-lips-chin", "data/aflw-wild-profiles-lips-chin")


def heldout_faces(folder, model: MorphableModel, val_fraction: float = 0.05, limit: int | None = None):
    data = Labelled3D.from_folder(folder, model, progress=False)
    _, val = split_groups(data.groups, val_fraction)
    val = val[:limit] if limit else val
    samples = [data[i] for i in val]
    crops = np.stack([s.crop for s in samples])
    params = np.stack([s.params for s in samples])
    return crops, params


def heldout_nme(
    regressor, crops: np.ndarray, gt_params: np.ndarray, landmarks: np.ndarray | None, gt_model
) -> np.ndarray:
    pred = regressor.predict(crops, landmarks)
    p = crop_landmarks(regressor.morphable, pred)[..., :2]
    g = crop_landmarks(gt_model, gt_params)[..., :2]
    return nme(p, g, box_size(g))
