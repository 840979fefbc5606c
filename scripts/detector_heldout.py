"""Held-out 68-point NME of a landmark detector, as it is and mirror-averaged, by yaw bin: how a detector
file is chosen (validation groups of the training data, never AFLW2000-3D).

    python scripts/detector_heldout.py                      # the shipped dasl-landmarks
    python scripts/detector_heldout.py FILE.safetensors     # a candidate (dasl export-model ... --half)
"""

import sys
import warnings
from pathlib import Path

import torch

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, nme, summarize_by_yaw
from dasl.eval.passes import faces_yaw
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers.dasl_net import SHIPPED_NAME, DaslLandmarker
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData


def main() -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)  # empty yaw bins (profiles have no 0-30)
    torch.set_num_threads(1)
    model = sys.argv[1] if len(sys.argv) > 1 else SHIPPED_NAME
    bfm = load_bfm(SharedData.find(None))
    detectors = {"as is": DaslLandmarker(model), "mirror-averaged": DaslLandmarker(model, flip=True)}
    print(f"{model}: held-out 68-point NME (%), mean [{', '.join(YAW_BIN_NAMES)}]")
    for folder in HELDOUT_FOLDERS:
        crops, params = heldout_faces(Path(folder), bfm)
        truth = crop_landmarks(bfm, params)[..., :2]
        yaw = faces_yaw(params)
        for name, detector in detectors.items():
            errors = nme(detector.crop_landmarks(crops), truth, box_size(truth))
            bins = summarize_by_yaw(errors, yaw)
            by_yaw = ", ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES)
            print(f"{folder} ({len(crops)}) {name}: {errors.mean():.2f} [{by_yaw}]")


if __name__ == "__main__":
    main()
