"""Head pose on the held-out 3D training faces (never AFLW2000-3D), where the ground-truth rotation is known
(HELEN/AFW fits and their rendered profiles, AFLW fits and theirs): yaw / pitch / roll MAE by |yaw| bin for
the default (the fit to the detector's points), the regressor alone on the detector's map (no fit), the peer,
and the default with its angles taken from the regressor where the fit says the face is turned by more than
``TURNED`` degrees. Issue 28, item 1; docs/experiments.md, "Head pose on held-out faces".

    python scripts/heldout_pose.py
"""

from __future__ import annotations

import numpy as np

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import YAW_BIN_NAMES, angle_errors, rotation_errors, yaw_bins
from dasl.morphable.model import load_bfm
from dasl.morphable.pose import decompose
from dasl.paths import SharedData
from dasl.stages import load_stages

TURNED = 60.0


def _row(name: str, pred: np.ndarray, truth: np.ndarray, geodesic: np.ndarray) -> str:
    errors = angle_errors(pred, truth)
    bins = yaw_bins(truth[:, 0])
    by_bin = " / ".join(f"{geodesic[bins == b].mean():.2f}" if (bins == b).any() else "-" for b in range(3))
    parts = []
    for b, label in enumerate(YAW_BIN_NAMES):
        inside = bins == b
        if inside.any():
            y, p, r = errors[inside].mean(0)
            parts.append(f"{label}: {y:5.2f} {p:5.2f} {r:5.2f} ({int(inside.sum())})")
        else:
            parts.append(f"{label}: -")
    means = " ".join(f"{v:.2f}" for v in errors.mean(0))
    head = f"  {name:34s} all {errors.mean():5.2f} [y/p/r {means}]  " + "; ".join(parts)
    return head + f"\n  {'':34s} rotation error (geodesic) {geodesic.mean():.2f}, by bin {by_bin}"


def main() -> None:
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    runs = {name: load_stages(name, shared) for name in ("default", "dasl-light+det", "3ddfa-v2-mb05")}
    for folder in HELDOUT_FOLDERS:
        crops, params = heldout_faces(folder, bfm)
        truth = decompose(params)
        print(f"{folder} ({len(crops)} faces): pose MAE (degrees), all and by |yaw| bin (yaw pitch roll)")
        poses = {name: decompose(stages.predict(crops)) for name, stages in runs.items()}
        for name, pose in poses.items():
            print(_row(name, pose.angles, truth.angles, rotation_errors(pose.rotation, truth.rotation)))
        fitted, regressed = poses["default"], poses["dasl-light+det"]
        turned = np.abs(fitted.angles[:, 0]) > TURNED
        angles = np.where(turned[:, None], regressed.angles, fitted.angles)
        rotation = np.where(turned[:, None, None], regressed.rotation, fitted.rotation)
        name = f"default, regressor's angles > {TURNED:.0f}"
        print(_row(name, angles, truth.angles, rotation_errors(rotation, truth.rotation)))


if __name__ == "__main__":
    main()
