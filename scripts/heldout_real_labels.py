"""Models against AFLW's own human-annotated points on held-out faces, in the benchmark's crop protocol: the
stored 3DDFA-protocol crops of the AFLW faces whose groups ``dasl train`` holds out (the validation split of
``data/aflw-wild-3d``; never AFLW2000-3D), 2DASL's 18 landmarks of each prediction against the visible
annotated points, NME (%) normalised by the face side of the crop protocol (as ``dasl data label-wild``),
mean and by |yaw| bin; then the chin landmark alone against AFLW's chin point (the one annotated point of
the jaw line). Unlike the held-out 68-point figures, whose ground truth is dasl's own 3DMM fit of these
points, these labels are people's.

    python scripts/heldout_real_labels.py                       # default, dasl-light+fit, the peer
    python scripts/heldout_real_labels.py default detector=runs/landmarks_zoom/checkpoints/epoch003.pt
"""

import sys
import warnings
from pathlib import Path

import numpy as np

from dasl.data.images import read_rgb
from dasl.data.labelled3d import split_groups
from dasl.data.wild import Wild2D, aflw_chin
from dasl.eval.metrics import YAW_BIN_NAMES, nme, point_errors, summarize_by_yaw
from dasl.eval.wild_labels import CROP_FACE_SIDE
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers.dasl_net import DaslLandmarker
from dasl.morphable.landmarks import CHIN_68, to_aflw18, to_subset18
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages

FITS = Path("data/aflw-wild-3d/labels3d.npz")
#: the peer reads crop points one pixel up and left of dasl's frame (``dasl benchmark aflw2000 --frame``)
PEER = "3ddfa-v2-mb05"


def heldout_aflw(shared: SharedData):
    """Stored crops, visible annotated 18 points (crop frame), visibility and yaw of the held-out AFLW faces."""
    fits = np.load(FITS, allow_pickle=True)
    _, val = split_groups([str(g) for g in fits["groups"]], 0.05)
    names = {str(n) for n in fits["names"][val]}
    folder = shared.require("aflw_wild")
    wild = Wild2D.from_aflw(folder)
    yaw_deg = np.load(folder / "annotations.npz")["yaw_deg"]
    idx = np.array([i for i, p in enumerate(wild.paths) if Path(p).name in names])
    crops = np.stack([read_rgb(wild.paths[i]) for i in idx])
    chin, chin_visible = aflw_chin(folder, [Path(wild.paths[i]).name for i in idx])
    return crops, wild.points18[idx], wild.visible18[idx], yaw_deg[idx], chin, chin_visible


def main(models: list[str]) -> None:
    """Each model string's (or file's) figures; ``detector=FILE`` is the default with its landmark detector
    swapped for ``FILE`` (a ``.pt`` checkpoint or an exported detector file)."""
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    crops, labels, visible, yaw, chin, chin_visible = heldout_aflw(shared)
    count = summarize_by_yaw(np.zeros(len(yaw)), yaw)["count"]
    by_bin = ", ".join(f"{b}: {count[b]}" for b in YAW_BIN_NAMES)
    bins = ", ".join(YAW_BIN_NAMES)
    print(
        f"held-out AFLW faces: {len(crops)} ({by_bin}); NME (%) of the 18 points as AFLW marks them "
        f"(AFLW_SCHEME18), mean [{bins}]; chin NME (%), mean [{bins}]"
    )
    for model in models:
        detector = model.removeprefix("detector=") if model.startswith("detector=") else None
        regressor = load_stages("default" if detector else model, shared)
        if detector:
            regressor.landmarker = DaslLandmarker(detector, flip=True, backend="onnx")
        landmarks = crop_landmarks(bfm, regressor.predict(crops))[..., :2]
        predicted, as_before = to_aflw18(landmarks), to_subset18(landmarks)
        frames = {"dasl's frame": 0.0, "its own frame": -1.0} if model == PEER else {"": 0.0}
        for frame, shift in frames.items():
            errors = nme(predicted + shift, labels, CROP_FACE_SIDE, visible=visible)
            before = nme(as_before + shift, labels, CROP_FACE_SIDE, visible=visible)
            chin_errors = point_errors(landmarks[:, [CHIN_68]] + shift, chin[:, None], CROP_FACE_SIDE)[:, 0]
            label = f"{model} {frame}".rstrip()
            print(
                f"  {label:40s} {errors.mean():.3f} [{_by_yaw(errors, yaw)}] (mouth centre at the corners' "
                f"midpoint: {before.mean():.3f} [{_by_yaw(before, yaw)}])  chin "
                f"{chin_errors[chin_visible].mean():.3f} [{_by_yaw(chin_errors[chin_visible], yaw[chin_visible])}]"
            )


def _by_yaw(errors: np.ndarray, yaw: np.ndarray) -> str:
    bins = summarize_by_yaw(errors, yaw)
    return ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES)


if __name__ == "__main__":
    main(sys.argv[1:] or ["default", "dasl-light+fit", PEER])
