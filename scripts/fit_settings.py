"""Held-out 68-point NME of ``default+fit`` (dasl-light's pass on dasl-landmarks' map, then the 3DMM fitted
to the detector's 68 points) for several fit iterations and prior weights: how the shipped fit settings were
chosen (validation groups of the training data, never AFLW2000-3D).

    python scripts/fit_settings.py            # after scripts/training_data.sh; about 2 min alone
"""

from pathlib import Path

import torch

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import box_size, nme
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, crop_landmarks
from dasl.morphable.model import load_bfm
from dasl.morphable.pose import complete_depth_row
from dasl.paths import SharedData
from dasl.stages import load_stages

SETTINGS = [(1, 2.0), (2, 2.0), (3, 2.0), (4, 2.0), (6, 2.0), (4, 1.0), (4, 4.0), (2, 1.0), (2, 4.0)]


def main() -> None:
    torch.set_num_threads(1)
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    regressor = load_stages("default+fit", shared)
    header = " | ".join(f"{i} it, prior {p:g}" for i, p in SETTINGS)
    print(f"folder | start (the pass on the detector's map) | {header}")
    for folder in HELDOUT_FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        gt = crop_landmarks(bfm, params)[..., :2]
        norm = box_size(gt)
        marks = regressor.landmarker.crop_landmarks(crops)
        start = regressor.regressor.predict(crops, marks)
        row = [f"{folder} ({len(crops)})", f"{nme(crop_landmarks(bfm, start)[..., :2], gt, norm).mean():.2f}"]
        for iterations, prior in SETTINGS:
            fitter = LandmarkFitter(regressor.morphable, prior=prior, iterations=iterations, marching=False)
            fitted = complete_depth_row(fitter.fit(marks, image_height=CROP_SIZE, start=start).params)
            row.append(f"{nme(crop_landmarks(bfm, fitted)[..., :2], gt, norm).mean():.2f}")
        print(" | ".join(row), flush=True)


if __name__ == "__main__":
    main()
