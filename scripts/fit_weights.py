"""How the default's 3DMM fit weighs the detector's 68 landmarks: held-out 68-point NME by yaw bin for fit
variants (uniform weights as shipped; per-landmark weights from the detector's uncertainty; the prior's
weight; iterations). Held-out faces only (the validation groups of the training folders), never
AFLW2000-3D.

    python scripts/fit_weights.py            # every variant, three held-out folders (a few minutes)

Uncertainty of a landmark, both in crop pixels (:class:`dasl.detect.dasl_landmarks.LandmarkEstimate`):
``flip`` = distance between the detector's landmark on the crop and on the mirrored crop (mirrored back),
``spread`` = the root of the softmax heatmap's variance (both passes averaged). Weight
``1 / (1 + (u / tau)^2)``, the product over both, normalised to mean 1 per face.
"""

import warnings
from pathlib import Path

import numpy as np
import torch

from dasl.eval.heldout import heldout_faces
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, nme, summarize_by_yaw
from dasl.eval.passes import faces_yaw
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, crop_landmarks
from dasl.morphable.model import load_bfm
from dasl.morphable.pose import complete_depth_row
from dasl.paths import SharedData
from dasl.regressors import load_regressor

FOLDERS = ("data/helen-afw-3d", "data/aflw-wild-3d", "data/aflw-wild-profiles")


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    torch.set_num_threads(1)
    bfm = load_bfm(SharedData.find(None))
    default = load_regressor("default")
    inner, landmarker = default.inner, default.landmarker
    variants = {"uniform, prior 2, 2 it": dict(weights=None)}
    for tau in (0.25, 0.5, 1.0, 2.0):
        variants[f"flip tau {tau:g}"] = dict(weights=(np.inf, tau))
    for tau in (1.0, 2.0, 3.0):
        variants[f"spread tau {tau:g}"] = dict(weights=(tau, np.inf))
    for flip_tau, spread_tau in ((0.5, 2.0), (1.0, 2.0), (1.0, 1.0)):  # (1, 2): the shipped weights
        variants[f"flip tau {flip_tau:g} x spread tau {spread_tau:g}"] = dict(weights=(spread_tau, flip_tau))
    variants["flip tau 0.5, prior 1"] = dict(weights=(np.inf, 0.5), prior=1.0)
    variants["flip tau 0.5, prior 4"] = dict(weights=(np.inf, 0.5), prior=4.0)
    variants["flip tau 0.5, 3 it"] = dict(weights=(np.inf, 0.5), iterations=3)
    print("held-out 68-point NME (%), mean [" + ", ".join(YAW_BIN_NAMES) + "]")
    for folder in FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        truth = crop_landmarks(bfm, params)[..., :2]
        yaw = faces_yaw(params)
        found = landmarker.locate(crops)
        start = inner.predict(crops, found.points)
        flips, spreads = found.flip_distance.mean(), found.spread.mean()
        print(f"{folder} ({len(crops)}), mean flip distance {flips:.2f} px, spread {spreads:.2f} px")
        for name, v in variants.items():
            fitter = LandmarkFitter(bfm, prior=v.get("prior", 2.0), iterations=v.get("iterations", 2), marching=False)
            weights = None if v["weights"] is None else found.weights(*v["weights"])
            fitted = complete_depth_row(fitter.fit(found.points, weights, image_height=CROP_SIZE, start=start).params)
            errors = nme(crop_landmarks(bfm, fitted)[..., :2], truth, box_size(truth))
            bins = summarize_by_yaw(errors, yaw)
            print(f"  {name:34s} {errors.mean():.3f} [" + ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES) + "]")


if __name__ == "__main__":
    main()
