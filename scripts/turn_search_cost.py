"""What searching the turned photo costs, and finds, when the turned searches look only for larger faces:
``mtcnn-turns`` with its three turned searches at ``k`` times the smallest face of the upright search, on the
composed group pictures of held-out faces (faces found, upright and turned) and on the 100-photo AFLW2000-3D
sample (photos / s to JSON, one process of one thread), beside ``mtcnn`` and ``mtcnn-turns`` in the same run.
docs/product.md, "Face detection". Run from the repository root after ``bash scripts/training_data.sh``.

    python scripts/turn_search_cost.py
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import dasl.detect.mtcnn as mtcnn
from dasl.api import Reconstructor
from dasl.eval.groups import compose, heldout_photos, score
from dasl.eval.heldout import HELDOUT_FOLDERS
from dasl.eval.throughput import aflw2000_sample
from dasl.morphable.model import load_bfm
from dasl.nets.onnx_runtime import set_inference_threads
from dasl.paths import SharedData
from dasl.pipeline import run

SCALES = (2.0, 3.0)


def _measure(rec: Reconstructor, faces, pictures, folder: Path) -> str:
    s = score(rec, faces, pictures).summary()
    scratch = Path(tempfile.mkdtemp(prefix="dasl-turns-"))
    try:
        started = time.perf_counter()
        report = run(rec, [folder], scratch, ["json"], progress=False, workers=1)
        rate = 100 / (time.perf_counter() - started)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return (
        f"groups found {s['found_%']:.1f}% (upright {s['found_upright_%']:.1f}, turned {s['found_turned_%']:.1f}, "
        f"false {s['false_boxes']}); AFLW sample {rate:.1f} photos/s in 1 process, {report.faces} faces"
    )


def main() -> None:
    set_inference_threads(1)
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    faces = [f for folder in HELDOUT_FOLDERS[:2] for f in heldout_photos(Path(folder), bfm)]
    pictures = compose(faces, 0)
    folder = aflw2000_sample(shared)
    original = mtcnn._turned_search
    try:
        for name in ("mtcnn", "mtcnn-turns"):
            print(f"{name:24s}", _measure(Reconstructor(detector=name, shared=shared), faces, pictures, folder))
        for k in SCALES:
            mtcnn._turned_search = lambda image, turn, min_face, k=k: original(image, turn, k * min_face)
            rec = Reconstructor(detector="mtcnn-turns", shared=shared)
            print(f"mtcnn-turns, turned x{k:g}", _measure(rec, faces, pictures, folder))
    finally:
        mtcnn._turned_search = original
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
