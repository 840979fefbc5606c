"""Inference speed on this machine: regressor latency, batched throughput, photo to files.

* ``regressor ms``: one 120x120 crop at batch 1, median of repeated runs (dasl's 4-channel models make
  their two passes, and mirror averaging its second prediction, as at inference; such rows are named
  ``NAME+flip``);
* ``crops / s``: batches of 32 crops;
* ``photo ms``: ``dasl reconstruct`` on one photo: reading, detection, two regressions (crop, then crop
  around the first landmarks), dense meshes and every output file, per face.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dasl.api import Reconstructor
from dasl.data.images import read_rgb
from dasl.pipeline import write_photo_outputs


@dataclass
class SpeedRow:
    model: str
    regressor_ms: float
    crops_per_s: float
    photo_ms_per_face: float
    detect_ms: float
    faces: int


def _median_ms(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def measure_model(name: str, photo: Path, shared, repeats: int = 20, backend: str = "torch") -> SpeedRow:
    rec = Reconstructor(model=name, backend=backend, shared=shared)
    crops = np.random.default_rng(0).integers(0, 255, (32, 120, 120, 3), dtype=np.uint8)
    rec.stages.predict(crops[:1])  # warm-up
    single = _median_ms(lambda: rec.stages.predict(crops[:1]), repeats)
    batch = _median_ms(lambda: rec.stages.predict(crops), max(3, repeats // 5))
    image = read_rgb(photo)
    rec.detect(image)  # warm-up (model loading)
    detect = _median_ms(lambda: rec.detect(image), 3)
    faces = rec.reconstruct(image)
    with tempfile.TemporaryDirectory() as tmp:

        def whole() -> None:
            found = rec.reconstruct(read_rgb(photo))
            write_photo_outputs(image, found, Path(tmp), Path("photo"), ("json", "obj", "ply", "overlay", "depth"))

        photo_ms = _median_ms(whole, 3)
    label = rec.stages.name + (" (onnx)" if backend == "onnx" else "")  # NAME+flip when mirror-averaged
    return SpeedRow(label, single, 32 * 1000 / batch, photo_ms / max(len(faces), 1), detect, len(faces))
