"""Where the default's error at 60-90 degrees of yaw is, on held-out faces: 68-point NME (%) by landmark group
for the detector, the regressor's pass on its map and the fit (the default), AFLW fits and AFLW profiles.

    python scripts/heldout_groups_60_90.py
"""

import warnings
from pathlib import Path

import numpy as np

from dasl.eval.heldout import heldout_faces
from dasl.eval.metrics import box_size
from dasl.eval.passes import faces_yaw
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.regressors import load_regressor

warnings.filterwarnings("ignore")
bfm = load_bfm(SharedData.find(None))
d = load_regressor("default")
groups = {
    "jaw 0-16": range(0, 17),
    "brows": range(17, 27),
    "nose": range(27, 36),
    "eyes": range(36, 48),
    "mouth": range(48, 68),
}
for folder in ("data/aflw-wild-3d", "data/aflw-wild-profiles"):
    crops, params = heldout_faces(Path(folder), bfm)
    yaw = np.abs(faces_yaw(params))
    sel = yaw >= 60
    crops, params = crops[sel], params[sel]
    truth = crop_landmarks(bfm, params)[..., :2]
    size = box_size(truth)[:, None]
    found = d.landmarker.locate(crops)
    start = d.inner.predict(crops, found.points)
    fitted = d.predict(crops)
    rows = {
        "detector": found.points,
        "regressor pass": crop_landmarks(bfm, start)[..., :2],
        "fit (default)": crop_landmarks(bfm, fitted)[..., :2],
    }
    print(folder, "60-90:", sel.sum(), "faces")
    for name, pts in rows.items():
        e = 100 * np.linalg.norm(pts - truth, axis=-1) / size
        print(
            f"  {name:15s} all {e.mean():.2f} "
            + " ".join(f"{g} {e[:, list(ix)].mean():.2f}" for g, ix in groups.items())
        )
