"""Where the default's error at 60-90 degrees of yaw is, on held-out faces: 68-point NME (%) by landmark group
for the detector, the regressor's pass on its map and the fit (the default), AFLW fits and AFLW profiles.

    python scripts/heldout_groups_60_90.py
"""

import warnings
from pathlib import Path

import numpy as np

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import box_size, point_errors
from dasl.eval.passes import faces_yaw
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages

FOLDERS = HELDOUT_FOLDERS[1:]  # the AFLW sets: the real large-pose faces
GROUPS = {
    "jaw 0-16": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    bfm = load_bfm(SharedData.find(None))
    default = load_stages("default")
    for folder in FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        profile = np.abs(faces_yaw(params)) >= 60
        crops, params = crops[profile], params[profile]
        truth = crop_landmarks(bfm, params)[..., :2]
        found = default.landmarker.locate(crops)
        start = default.regressor.predict(crops, found.points)
        fitted = default.fit(found, start)
        sources = {
            "detector": found.points,
            "regressor pass": crop_landmarks(bfm, start)[..., :2],
            "fit (default)": crop_landmarks(bfm, fitted)[..., :2],
        }
        print(f"{folder} 60-90: {profile.sum()} faces")
        for name, points in sources.items():
            errors = point_errors(points, truth, box_size(truth))
            groups = " ".join(f"{g} {errors[:, list(ix)].mean():.2f}" for g, ix in GROUPS.items())
            print(f"  {name:15s} all {errors.mean():.2f} {groups}")


if __name__ == "__main__":
    main()
