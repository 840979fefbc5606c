"""What the landmark detector's view of the crop does, on held-out faces: the crop zoomed about its centre
by 1.0, 1.05 (the shipped ``dasl.landmarkers.dasl_net.ZOOM``) or 1.1, each mirror-averaged, and the
average of the 1.0 and 1.1 views (twice the detector's time); 68-point NME (%), mean [0-30, 30-60, 60-90],
of the detector alone and of the default model (its map and fit on those landmarks).

    python scripts/detector_tta.py
    python scripts/detector_tta.py runs/landmarks_zoom/checkpoints/epoch004.pt 1.0 1.12 1.17   # a detector, zooms

With a detector file (a ``.pt`` checkpoint or exported file) the default's detector is swapped for it and
each zoom given is one view (mirror-averaged).
"""

import sys
import warnings
from pathlib import Path

import numpy as np

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, nme, summarize_by_yaw
from dasl.eval.passes import faces_yaw
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers import DaslLandmarker, LandmarkEstimate
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages

#: the held-out sets, and the same AFLW faces with their other labels where built (configs/landmarks_chin.toml,
#: configs/landmarks_lips.toml, configs/landmarks_lips_chin.toml)
FOLDERS = HELDOUT_FOLDERS + tuple(
    f
    for label in ("chin", "lips")
    for f in (f"data/aflw-wild-3d-{label}", f"data/aflw-wild-profiles-{label}")
    if Path(f).is_dir() and Path(f).resolve() not in {Path(g).resolve() for g in HELDOUT_FOLDERS}
)
VIEWS = {"zoom 1.0": (1.0,), "zoom 1.05": (1.05,), "zoom 1.1": (1.1,), "zoom 1.0 and 1.1 averaged": (1.0, 1.1)}


def main(args: list[str]) -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # empty yaw bins
    bfm = load_bfm(SharedData.find(None))
    default = load_stages("default")
    views = VIEWS
    if args:
        default.landmarker = DaslLandmarker(args[0], flip=True, backend="onnx")
        views = {f"zoom {z}": (float(z),) for z in args[1:]} or {"its zoom": (default.landmarker.zoom,)}
    detector = default.landmarker
    for folder in FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        truth = crop_landmarks(bfm, params)[..., :2]
        yaw = faces_yaw(params)
        for name, zooms in views.items():
            found = []
            for zoom in zooms:
                detector.zoom = zoom
                found.append(detector.locate(crops))
            both = LandmarkEstimate(
                np.mean([f.points for f in found], 0), np.mean([f.spread for f in found], 0), found[0].flip_distance
            )
            fitted = default.fit(both, default.regressor.predict(crops, both.points))
            for what, points in (("detector", both.points), ("default", crop_landmarks(bfm, fitted)[..., :2])):
                errors = nme(points, truth, box_size(truth))
                bins = summarize_by_yaw(errors, yaw)
                by_yaw = ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES)
                print(f"{folder} ({len(crops)}) {name}, {what}: {errors.mean():.3f} [{by_yaw}]")


if __name__ == "__main__":
    main(sys.argv[1:])
