"""``dasl data fit-aflw``: 3D labels for AFLW's in-the-wild crops by fitting the 3DMM to their visible
annotated points (as AFLW2000-3D's own labels were made from AFLW's landmarks, on other images).

Each crop's 21 AFLW points, of which 18 stand for 2DASL's landmarks
(:data:`~dasl.morphable.landmarks.AFLW21_TO_18`), are fitted with their visibility by
:class:`~dasl.fitting.LandmarkFitter` (no marching: the points are not contour points). The labels go to
``OUT/labels3d.npz`` with the crops read in place (``root`` points at the AFLW folder), in the image
model frame of each 120x120 crop, so ``data.train_3d`` takes the folder like any other 3D set.
Faces with fewer than ``min_points`` visible points are left out.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dasl.data.labelled3d import write_label_file
from dasl.data.wild import Wild2D
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_ROI, CROP_SIZE
from dasl.geometry.params import crop_to_image_params
from dasl.morphable.landmarks import SUBSET18
from dasl.morphable.model import MorphableModel


def fit_aflw(
    folder: Path,
    out: Path,
    model: MorphableModel,
    prior: float = 2.0,
    min_points: int = 8,
    batch: int = 256,
    progress: bool = True,
    limit: int | None = None,
) -> dict:
    wild = Wild2D.from_aflw(folder)
    keep = np.nonzero(wild.visible18.sum(1) >= min_points)[0][:limit]
    fitter = LandmarkFitter(model, prior=prior, marching=False)
    started = time.perf_counter()
    params, rms = [], []
    for s in tqdm(range(0, len(keep), batch), desc="fitting AFLW points", disable=not progress):
        idx = keep[s : s + batch]
        result = fitter.fit(wild.points18[idx], wild.visible18[idx], SUBSET18, image_height=CROP_SIZE)
        params.append(result.params)
        rms.append(result.rms)
    seconds = time.perf_counter() - started
    # the points are in the crop frame, so a fit for an "image" of height 120 (y_model = 121 - y) gives
    # parameters in the crop's model frame; the crop file's own image frame is that of the box CROP_ROI
    crop_params = np.concatenate(params)
    box = np.tile(CROP_ROI, (len(crop_params), 1))
    image_params = crop_to_image_params(crop_params, box, CROP_SIZE)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    crops = Path(folder) / "crops"
    names = [wild.paths[i].name for i in keep]
    write_label_file(out, names, image_params, root=os.path.relpath(crops.resolve(), out.resolve()))
    return {
        "faces": len(keep),
        "left_out": len(wild) - len(keep),
        "seconds": seconds,
        "rms_px": float(np.mean(np.concatenate(rms))),
    }
