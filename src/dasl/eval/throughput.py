"""Photos per second through the whole pipeline (read, face boxes, crops, stages, JSON written), as
``dasl reconstruct FOLDER --outputs json`` runs it, for several pipelines in one run: dasl's default and the
3DDFA_V2 peer's own (FaceBoxes boxes, one pass of its regressor on the box's crop).

Each pipeline runs the folder in one process with one thread (its time per stage measured there), then
with ``workers`` processes of one thread each, as a folder run does by default. The photos' JSON go to a
temporary folder, removed afterwards.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from dasl.api import Reconstructor
from dasl.nets.onnx_runtime import set_inference_threads
from dasl.pipeline import collect_inputs, run

#: the pipelines compared: name -> Reconstructor arguments
PIPELINES = {
    "default": {"model": "default"},
    "peer (FaceBoxes + 3ddfa-v2-mb05)": {"model": "3ddfa-v2-mb05", "detector": "faceboxes", "refine": False},
}


@dataclass
class ThroughputRow:
    pipeline: str
    folder: str
    photos: int
    faces: int
    seconds_one: float
    seconds_workers: float
    workers: int
    stages_ms: dict[str, float] = field(default_factory=dict)

    @property
    def photos_per_s(self) -> tuple[float, float]:
        return self.photos / self.seconds_one, self.photos / self.seconds_workers


def _one_thread() -> None:
    set_inference_threads(1)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def measure(name: str, settings: dict, folder: Path, workers: int, shared) -> ThroughputRow:
    """One pipeline on one folder: one process of one thread (per-stage times), then ``workers`` processes."""
    _one_thread()
    rec = Reconstructor(shared=shared, **settings)
    _one_thread()  # the peer loads PyTorch while it is made
    photos = [p for p, _ in collect_inputs([folder])]
    scratch = Path(tempfile.mkdtemp(prefix="dasl-throughput-"))
    try:
        rec.reconstruct(photos[0])  # warm-up: sessions made, first-run allocations done
        rec.stages.seconds.clear()
        started = time.perf_counter()
        one = run(rec, [folder], scratch / "one", ["json"], progress=False, workers=1)
        seconds_one = time.perf_counter() - started
        stages = {k: 1000 * v / len(photos) for k, v in rec.stages.seconds.items()}
        started = time.perf_counter()
        run(rec, [folder], scratch / "many", ["json"], progress=False, workers=workers)
        seconds_workers = time.perf_counter() - started
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return ThroughputRow(name, str(folder), len(photos), one.faces, seconds_one, seconds_workers, workers, stages)


def aflw2000_sample(shared, every: int = 20) -> Path:
    """A temporary folder linking every ``every``-th AFLW2000-3D photo of the sorted names (100 photos for 20;
    the caller removes it)."""
    photos = sorted(Path(shared.require("aflw2000_images")).glob("*.jpg"))[::every]
    folder = Path(tempfile.mkdtemp(prefix="dasl-aflw-sample-"))
    for photo in photos:
        (folder / photo.name).symlink_to(photo.resolve())
    return folder
