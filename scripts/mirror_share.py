"""Mirror the landmark detector only where it pays (docs/experiments.md): held-out 68-point NME of the
default configuration when only the faces whose first-pass doubt (mean heatmap spread, crop pixels) is above
tau get the mirrored pass, tau set by the share of the HELEN/AFW held-out faces it mirrors. Run from the
repository root after ``bash scripts/training_data.sh``."""

from __future__ import annotations

import numpy as np

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers import LandmarkEstimate
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages

SHARES = (0.0, 0.1, 0.2, 0.3, 0.5, 1.0)


def mixed(single: LandmarkEstimate, both: LandmarkEstimate, mirror: np.ndarray) -> LandmarkEstimate:
    """The mirror-averaged estimate where ``mirror``, the single pass elsewhere (no mirror distance there)."""
    m = mirror[:, None]
    points = np.where(m[..., None], both.points, single.points)
    spread = np.where(m, both.spread, single.spread)
    return LandmarkEstimate(points, spread, np.where(m, both.flip_distance, 0.0))


def main() -> None:
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    stages = load_stages("default", shared)
    sets = {folder: heldout_faces(folder, bfm) for folder in HELDOUT_FOLDERS}
    estimates = {}
    for folder, (crops, _) in sets.items():
        with stages.mirroring(False):
            single = stages.landmarker.locate(crops)
        with stages.mirroring(True):
            both = stages.landmarker.locate(crops)
        estimates[folder] = single, both
    reference = estimates[HELDOUT_FOLDERS[0]][0].spread.mean(-1)
    print("share  tau    " + " | ".join(HELDOUT_FOLDERS))
    for share in SHARES:
        tau = -np.inf if share >= 1 else np.inf if share <= 0 else float(np.quantile(reference, 1 - share))
        row = []
        for folder, (crops, params) in sets.items():
            single, both = estimates[folder]
            mirror = single.spread.mean(-1) > tau
            found = mixed(single, both, mirror)
            start, _ = stages.regress(crops, found)
            fitted = stages.fit(found, start)
            truth = crop_landmarks(bfm, params)[..., :2]
            error = nme(crop_landmarks(stages.morphable, fitted)[..., :2], truth, box_size(truth))
            row.append(f"{error.mean():.4f} ({mirror.mean():4.0%})")
        print(f"{share:4.0%}  {tau:5.2f}  " + " | ".join(row))


if __name__ == "__main__":
    main()
