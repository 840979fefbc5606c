"""Crop-to-parameters latency of model strings at batch 1 on one thread (AFLW2000-3D's stored crops as input,
timing only): the figure issue 13 bounds for the default. For ``+fit`` strings the parts are timed too
(detector, the regressor's pass on its map, the fit). ``NAME@torch`` / ``NAME@onnx`` picks the backend
(default: auto, ONNX Runtime for dasl's networks).

    python scripts/regressor_latency.py default default+detflip dasl-light+flip@torch default@torch
"""

import sys
import time

import cv2
import numpy as np
import torch

from dasl.geometry.frames import CROP_SIZE
from dasl.paths import SharedData
from dasl.stages import CropStages, load_stages

REPEATS = 40


def mean_ms(fn, count: int) -> float:
    """Mean milliseconds of ``fn(i)`` for ``i`` in ``range(count)``, after one warm-up call."""
    fn(0)
    started = time.perf_counter()
    for i in range(count):
        fn(i)
    return (time.perf_counter() - started) / count * 1000


def fit_parts_ms(regressor: CropStages, crops: np.ndarray) -> dict[str, float]:
    """The parts of a ``+fit`` prediction, each timed one crop at a time."""
    marks = regressor.landmarker.crop_landmarks(crops)
    start = regressor.regressor.predict(crops, marks)
    parts = {
        "detector": lambda i: regressor.landmarker.crop_landmarks(crops[i : i + 1]),
        "regressor pass on the detector's map": lambda i: regressor.regressor.predict(
            crops[i : i + 1], marks[i : i + 1]
        ),
        "fit": lambda i: regressor.fitter.fit(marks[i : i + 1], image_height=CROP_SIZE, start=start[i : i + 1]),
    }
    return {name: mean_ms(fn, len(crops)) for name, fn in parts.items()}


def main(names: list[str]) -> None:
    torch.set_num_threads(1)
    shared = SharedData.find(None)
    folder = shared.require("aflw2000_crops")
    files = sorted(folder.glob("*.jpg"))[:REPEATS]
    crops = np.stack([cv2.imread(str(f))[:, :, ::-1] for f in files])
    for asked in names:
        name, _, backend = asked.partition("@")
        regressor = load_stages(name, shared, backend=backend or "auto")
        whole = mean_ms(lambda i, r=regressor: r.predict(crops[i : i + 1]), len(crops))
        print(f"{regressor.name} ({backend or 'auto'}): {whole:.1f} ms")
        if regressor.fitter is not None:
            for part, ms in fit_parts_ms(regressor, crops).items():
                print(f"  {part}: {ms:.1f} ms")


if __name__ == "__main__":
    main(sys.argv[1:] or ["default", "default+flip", "default+det", "default+fit"])
