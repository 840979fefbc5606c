"""The default's fit with the regressor's own 68 landmarks as a second, weaker observation of each point:
held-out 68-point NME by yaw bin for blend weights ``lam`` (0 = the shipped fit to the detector alone).
A landmark seen by the detector with weight ``w`` and by the regressor with ``lam`` is fitted at the
weighted mean of the two with weight ``w + lam`` (the same least squares). Held-out faces only, never
AFLW2000-3D.

    python scripts/fit_blend.py            # a few minutes
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
JAW = np.arange(17)


def blend(det, w, reg, lam, where=None):
    """Points and weights of the detector's ``det`` (weights ``w``) joined by the regressor's ``reg`` at
    weight ``lam`` on the landmarks ``where`` (all if None)."""
    extra = np.zeros_like(w)
    extra[:, slice(None) if where is None else where] = lam
    total = w + extra
    points = (w[..., None] * det + extra[..., None] * reg) / total[..., None]
    return points, total


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    torch.set_num_threads(1)
    bfm = load_bfm(SharedData.find(None))
    default = load_regressor("default")
    inner, landmarker = default.inner, default.landmarker
    fitter = LandmarkFitter(bfm, prior=2.0, iterations=2, marching=False)
    variants = {"shipped (lam 0)": dict(lam=0.0)}
    for lam in (0.1, 0.25, 0.5, 1.0):
        variants[f"all, lam {lam:g}"] = dict(lam=lam)
    for lam in (0.25, 0.5, 1.0, 2.0):
        variants[f"jaw only, lam {lam:g}"] = dict(lam=lam, where=JAW)
    variants["all lam 0.25, renormalised"] = dict(lam=0.25, renorm=True)
    print("held-out 68-point NME (%), mean [" + ", ".join(YAW_BIN_NAMES) + "]")
    for folder in FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        truth = crop_landmarks(bfm, params)[..., :2]
        yaw = faces_yaw(params)
        found = landmarker.locate(crops)
        start = inner.predict(crops, found.points)
        reg = crop_landmarks(bfm, start)[..., :2]
        w = found.weights()
        print(f"{folder} ({len(crops)})")
        for name, v in variants.items():
            points, weights = blend(found.points, w, reg, v["lam"], v.get("where"))
            if v.get("renorm"):
                weights = weights / weights.mean(-1, keepdims=True)
            fitted = complete_depth_row(fitter.fit(points, weights, image_height=CROP_SIZE, start=start).params)
            errors = nme(crop_landmarks(bfm, fitted)[..., :2], truth, box_size(truth))
            bins = summarize_by_yaw(errors, yaw)
            print(f"  {name:30s} {errors.mean():.3f} [" + ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES) + "]")


if __name__ == "__main__":
    main()
