"""Scoring on the held-out part of the 3D training data (never AFLW2000-3D): for choices made on data
that are not the test set, such as where the landmark map of a 4-channel model comes from.

The held-out faces are the validation split of ``dasl train`` (``split_by_name``, 5% of identities):
crops cut with the landmark ROI rule, 68-landmark NME in % of sqrt(w h) of the ground-truth box.
"""

from __future__ import annotations

import numpy as np

from dasl.data.labelled3d import Labelled3D, split_by_name
from dasl.geometry.crop import flip_y
from dasl.morphable.model import MorphableModel


def heldout_faces(folder, model: MorphableModel, val_fraction: float = 0.05, limit: int | None = None):
    data = Labelled3D.from_folder(folder, model, progress=False)
    _, val = split_by_name([p.stem for p in data.paths], val_fraction)
    val = val[:limit] if limit else val
    samples = [data[i] for i in val]
    crops = np.stack([s.crop for s in samples])
    params = np.stack([s.params for s in samples])
    return crops, params


def heldout_nme(
    regressor, crops: np.ndarray, gt_params: np.ndarray, landmarks: np.ndarray | None, gt_model
) -> np.ndarray:
    pred = regressor.predict(crops, landmarks)
    p = flip_y(regressor.morphable.landmarks(pred))[..., :2]
    g = flip_y(gt_model.landmarks(gt_params))[..., :2]
    extent = np.ptp(g, axis=1)
    return 100 * np.linalg.norm(p - g, axis=-1).mean(1) / np.sqrt(extent[:, 0] * extent[:, 1])


def dlib_crop_landmarks(crops: np.ndarray) -> np.ndarray:
    """dlib's 68 points on 120x120 crops, in the crop frame (the detector cascade, else the mean box)."""
    from dasl.data.label_wild import CROP_FACE_BOX, CascadeLabeller

    labeller = CascadeLabeller()
    return np.stack([labeller.label(crop, CROP_FACE_BOX).points for crop in crops]) - 0.5
