"""Calibration inputs for 8-bit networks (:mod:`dasl.nets.quantize`): crops of the training split of 3D
training folders (never their held-out faces, never AFLW2000-3D), as each network sees them at inference.

* the landmark detector: each crop and its mirror, zoomed as the detector's file records
  (:class:`dasl.landmarkers.DaslLandmarker`);
* a 4-channel regressor: each crop with the map of the shipped detector's landmarks on it (the default
  configuration's pass).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from dasl.data.labelled3d import Labelled3D, split_groups
from dasl.geometry.crop import zoom_crops
from dasl.landmarkers import DaslLandmarker
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel
from dasl.nets.inputs import normalise_images, regressor_input


def training_crops(folders: list[Path], model: MorphableModel, per_folder: int = 100, seed: int = 0) -> np.ndarray:
    """``per_folder`` crops ``(N, 120, 120, 3)`` drawn from each folder's training split (photos, not their
    rendered views)."""
    crops = []
    rng = np.random.default_rng(seed)
    for folder in folders:
        data = Labelled3D.from_folder(folder, model, progress=False)
        train, _ = split_groups(data.groups, 0.05)
        photos = [i for i in train if not re.search(r"_[1-9]$", data.paths[i].stem)]
        for i in rng.choice(photos, min(per_folder, len(photos)), replace=False):
            crops.append(data[int(i)].crop)
    return np.stack(crops)


def detector_inputs(crops: np.ndarray, detector: DaslLandmarker) -> np.ndarray:
    """What the landmark detector's network sees of ``crops``: them and their mirrors, zoomed, normalised."""
    both = np.concatenate([crops, np.ascontiguousarray(crops[:, :, ::-1])])
    return normalise_images(zoom_crops(both, detector.zoom) if detector.zoom != 1.0 else both)


def regressor_inputs(crops: np.ndarray, detector: DaslLandmarker) -> np.ndarray:
    """What a 4-channel regressor sees of ``crops`` in the default configuration: RGB and the map of the
    detector's landmarks."""
    points = to_subset18(detector.crop_landmarks(crops)).astype(np.float32)
    return regressor_input(normalise_images(crops), points).astype(np.float32)
