"""Ray Data for collections too large for one machine: the same reconstruction as a local folder run, in
batches on Ray actors that each hold the model once (``dasl reconstruct DIR --engine ray``; ``pip install
'dasl[scale]'``).

* :func:`reconstruct_dataset`: a ``ray.data.Dataset`` of photos (rows with ``path``, a file every worker can
  read, or ``image``, an RGB array, with a ``name``) to a Dataset of results (``name``, ``faces``: the photo
  record as JSON text, ``error``), with ``out`` the per-photo files written as the local run writes them;
* :func:`run_folder`: ``dasl reconstruct``'s folder run on Ray: the inputs collected as locally (the output
  folder left out, stems kept apart), photos already done skipped (resumable), the rest reconstructed by
  ``workers`` actors, the same :class:`~dasl.pipeline.RunReport`.

On a cluster every node must see the photos and the output folder at the same paths (a shared or
network file system); docs/product.md says how to start one (``ray start``, KubeRay).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from dasl.api import Reconstructor
from dasl.data.images import array_to_rgb8, read_rgb
from dasl.errors import DaslError, require
from dasl.nets.onnx_runtime import set_inference_threads
from dasl.pipeline import (
    VIDEO_SUFFIXES,
    RunReport,
    collect_inputs,
    made_with,
    prepare_output_folder,
    write_photo_outputs,
)


class PhotoActor:
    """A Ray actor's state: one reconstructor (one thread), made once, for every batch it is given."""

    def __init__(self, settings: dict, out: str | None, kinds: list[str]) -> None:
        set_inference_threads(1)
        self.rec = Reconstructor(**settings)
        self.out, self.kinds = (Path(out) if out else None), kinds

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list]:
        names, records, errors = [], [], []
        count = len(next(iter(batch.values())))
        for i in range(count):
            name = str(batch["name"][i]) if "name" in batch else str(batch["path"][i])
            try:
                if "image" in batch:
                    image = array_to_rgb8(batch["image"][i], name)
                else:
                    image = read_rgb(batch["path"][i])
                faces = self.rec.reconstruct(image)
                made = made_with(self.rec, self.kinds)
                if self.out is not None:
                    stem = Path(str(batch["stem"][i])) if "stem" in batch else Path(Path(name).stem)
                    source = Path(str(batch["path"][i])) if "path" in batch else None
                    write_photo_outputs(image, faces, self.out, stem, self.kinds, source=source, made=made)
                record = {
                    "image": name,
                    "height": int(image.shape[0]),
                    "width": int(image.shape[1]),
                    "made_with": made,
                    "faces": [f.to_dict() for f in faces],
                }
                names.append(name), records.append(json.dumps(record)), errors.append("")
            except (DaslError, OSError) as exc:
                names.append(name), records.append(""), errors.append(str(exc))
        return {"name": names, "record": records, "error": errors}


def reconstruct_dataset(
    dataset: Any,
    rec_settings: dict | None = None,
    out: Path | None = None,
    kinds: list[str] | None = None,
    workers: int = 2,
    batch_size: int = 8,
) -> Any:
    """A ``ray.data.Dataset`` of photos (see the module docstring) to a Dataset of ``name``, ``record`` (the
    photo's JSON record as text, empty on an error) and ``error``, reconstructed by ``workers`` actors of one
    CPU each; with ``out``, every photo's files written there as a local run writes them. Lazy, as Ray Data
    is: nothing runs until the result is read (``.take_all()``, ``.write_parquet(...)``, ...)."""
    require("ray", "--engine ray")
    settings = dict(rec_settings or {"model": "default"})
    return dataset.map_batches(
        PhotoActor,
        fn_constructor_args=(settings, str(out) if out else None, list(kinds or ["json"])),
        batch_size=batch_size,
        batch_format="numpy",
        concurrency=workers,
        num_cpus=1,
    )


def run_folder(
    rec: Reconstructor,
    inputs: list[Path],
    out: Path,
    kinds: list[str],
    workers: int = 2,
    address: str | None = None,
    overwrite: bool = False,
) -> RunReport:
    """``dasl reconstruct``'s run of photos on Ray (see the module docstring); ``address``: a Ray cluster
    (``auto`` for the one ``ray start`` began on this machine; ``None``: a local Ray of ``workers`` CPUs).
    Videos are not taken here (they are tracked frame by frame in one process): they are reported failed."""
    ray = require("ray", "--engine ray")
    report = RunReport()
    items = collect_inputs(inputs, out)
    report.inputs = len(items)
    prepare_output_folder(out)
    rows = []
    for path, stem in items:
        if path.suffix.lower() in VIDEO_SUFFIXES:
            report.failed.append((path, f"{path}: videos run without --engine ray (tracked in one process)"))
            continue
        done = (out / stem).with_name(f"{stem.name}.json")
        if done.exists() and not overwrite:
            report.skipped.append(path)  # settings of the old outputs are not checked here
            continue
        rows.append({"path": str(path.resolve()), "stem": str(stem), "name": str(path)})
    if not rows:
        return report
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    for name in ("ray", "ray.data"):  # Ray's own progress lines would drown dasl's report
        logging.getLogger(name).setLevel(logging.ERROR)
    try:
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        results = reconstruct_dataset(ray.data.from_items(rows), rec.settings, out.resolve(), kinds, workers)
        by_name = {r["name"]: r for r in results.take_all()}
    finally:
        if started_here:
            ray.shutdown()
    for row in rows:
        result = by_name[row["name"]]
        path = Path(row["name"])
        if result["error"]:
            report.failed.append((path, result["error"]))
            continue
        faces = len(json.loads(result["record"])["faces"])
        report.done.append(path)
        report.faces += faces
        if not faces:
            report.no_face.append(path)
    return report
