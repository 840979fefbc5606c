"""How the default's 3DMM fit weighs the landmarks it fits: held-out 68-point NME by yaw bin for fit variants
(uniform weights; per-landmark weights from the detector's uncertainty, as shipped; the prior's weight;
iterations; the jaw's weight; the regressor's own landmarks as a second, weaker observation). Held-out faces
only (the validation groups of the training folders), never AFLW2000-3D.

    python scripts/fit_weights.py            # every variant, three held-out folders (a few minutes)

Uncertainty of a landmark, both in crop pixels (:class:`dasl.landmarkers.base.LandmarkEstimate`):
``flip`` = distance between the detector's landmark on the crop and on the mirrored crop (mirrored back),
``spread`` = the root of the softmax heatmap's variance (both passes averaged). Weight
``1 / (1 + (u / tau)^2)``, the product over both, normalised to mean 1 per face.

``blend``: a landmark seen by the detector with weight ``w`` and by the regressor's pass with ``lam`` is
fitted at the weighted mean of the two with weight ``w + lam`` (the same least squares).
"""

import warnings
from pathlib import Path

import numpy as np
import torch

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, nme, summarize_by_yaw
from dasl.eval.passes import faces_yaw
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, crop_landmarks
from dasl.morphable.model import load_bfm
from dasl.morphable.pose import complete_depth_row
from dasl.paths import SharedData
from dasl.stages import load_stages

JAW = np.arange(17)
SHIPPED = (2.0, 1.0)  # spread tau, flip tau


def variants() -> dict[str, dict]:
    out = {"uniform, prior 2, 2 it": dict(weights=None)}
    for tau in (0.25, 0.5, 1.0, 2.0):
        out[f"flip tau {tau:g}"] = dict(weights=(np.inf, tau))
    for tau in (1.0, 2.0, 3.0):
        out[f"spread tau {tau:g}"] = dict(weights=(tau, np.inf))
    for flip_tau, spread_tau in ((0.5, 2.0), (1.0, 2.0), (1.0, 1.0)):  # (1, 2): the shipped weights
        out[f"flip tau {flip_tau:g} x spread tau {spread_tau:g}"] = dict(weights=(spread_tau, flip_tau))
    out["flip tau 0.5, prior 1"] = dict(weights=(np.inf, 0.5), prior=1.0)
    out["flip tau 0.5, prior 4"] = dict(weights=(np.inf, 0.5), prior=4.0)
    out["flip tau 0.5, 3 it"] = dict(weights=(np.inf, 0.5), iterations=3)
    for factor in (0.5, 2.0):
        out[f"shipped, jaw x{factor:g}"] = dict(weights=SHIPPED, jaw=factor)
    for factor in (0.5, 0.25):
        out[f"shipped, jaw x{factor:g} where |yaw| > 50"] = dict(weights=SHIPPED, jaw=factor, turned=50.0)
    for lam in (0.1, 0.25, 0.5, 1.0):
        out[f"shipped + regressor, lam {lam:g}"] = dict(weights=SHIPPED, blend=lam)
    for lam in (0.25, 0.5, 1.0, 2.0):
        out[f"shipped + regressor's jaw, lam {lam:g}"] = dict(weights=SHIPPED, blend=lam, where=JAW)
    return out


def fit_inputs(v: dict, found, start: np.ndarray, regressor_points: np.ndarray):
    """The points and weights a variant fits: the detector's, reweighed and joined by the regressor's."""
    points = found.points
    if v["weights"] is None:
        return points, None
    weights = found.weights(*v["weights"]).copy()
    if "jaw" in v:
        turned = np.abs(faces_yaw(start)) > v.get("turned", -1.0)
        weights[np.ix_(turned, JAW)] *= v["jaw"]
        weights /= weights.mean(-1, keepdims=True)
    if "blend" in v:
        extra = np.zeros_like(weights)
        extra[:, v.get("where", slice(None))] = v["blend"]
        total = weights + extra
        points = (weights[..., None] * points + extra[..., None] * regressor_points) / total[..., None]
        weights = total
    return points, weights


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    torch.set_num_threads(1)
    bfm = load_bfm(SharedData.find(None))
    default = load_stages("default")
    inner, landmarker = default.regressor, default.landmarker
    print("held-out 68-point NME (%), mean [" + ", ".join(YAW_BIN_NAMES) + "]")
    for folder in HELDOUT_FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        truth = crop_landmarks(bfm, params)[..., :2]
        yaw = faces_yaw(params)
        found = landmarker.locate(crops)
        start = inner.predict(crops, found.points)
        regressor_points = crop_landmarks(bfm, start)[..., :2]
        flips, spreads = found.flip_distance.mean(), found.spread.mean()
        print(f"{folder} ({len(crops)}), mean flip distance {flips:.2f} px, spread {spreads:.2f} px")
        for name, v in variants().items():
            fitter = LandmarkFitter(bfm, prior=v.get("prior", 2.0), iterations=v.get("iterations", 2), marching=False)
            points, weights = fit_inputs(v, found, start, regressor_points)
            fitted = complete_depth_row(fitter.fit(points, weights, image_height=CROP_SIZE, start=start).params)
            errors = nme(crop_landmarks(bfm, fitted)[..., :2], truth, box_size(truth))
            bins = summarize_by_yaw(errors, yaw)
            print(f"  {name:42s} {errors.mean():.3f} [" + ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES) + "]")


if __name__ == "__main__":
    main()
