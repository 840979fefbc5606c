"""`dasl reconstruct` and `dasl view`: photos, folders and videos to files, and a look at a mesh file."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dasl.cli.common import (
    BackendName,
    DetectorName,
    Engine,
    MapSource,
    SharedOption,
    app,
    console,
    in_range,
)
from dasl.errors import DaslError


@app.command()
def reconstruct(
    paths: Annotated[list[Path], typer.Argument(help="photos, videos, or folders of them (searched recursively)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="output folder")] = Path("dasl-out"),
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="default (dasl-light+fit+detflip), dasl-light, dasl-resnet50, 3ddfa-v2-mb05, or a model file",
        ),
    ] = "default",
    backend: Annotated[
        BackendName, typer.Option(help="auto (ONNX Runtime for dasl's networks, torch for the peer), torch or onnx")
    ] = BackendName.auto,
    outputs: Annotated[
        str, typer.Option(help="comma-separated: json (always), obj, ply, glb, overlay, depth")
    ] = "json,obj,ply,overlay,depth",
    detector: Annotated[
        DetectorName,
        typer.Option(
            help="mtcnn (the photo turned by quarter turns where it shows no face upright), mtcnn-turns (turned "
            "always), blazeface, blazeface-turns (MediaPipe's BlazeFace, docs/product.md), dlib (HOG, then MMOD), "
            "dlib-hog, dlib-mmod"
        ),
    ] = DetectorName.mtcnn,
    map_source: Annotated[
        MapSource | None,
        typer.Option(
            help="landmark map of 4-channel models: self (iterated), dlib, detector (default: the model string's)"
        ),
    ] = None,
    flip: Annotated[
        bool | None,
        typer.Option(
            "--flip/--no-flip", help="average with the mirrored crop's prediction (default: dasl models without +fit)"
        ),
    ] = None,
    smooth: Annotated[
        float,
        typer.Option(
            help="video: weight of the new frame in each track's parameter average, above 0 and at most 1 (1: off)",
            callback=lambda v: in_range(v, "--smooth", 0.0, 1.0, low_open=True),
        ),
    ] = 0.5,
    detect_every: Annotated[
        int,
        typer.Option(min=1, help="video: run the face detector every N frames, N >= 1 (faces tracked in between)"),
    ] = 10,
    overwrite: Annotated[bool, typer.Option(help="redo inputs whose outputs exist")] = False,
    workers: Annotated[
        int, typer.Option(min=0, help="processes sharing a folder's photos, one thread each (0: one per core)")
    ] = 0,
    profile: Annotated[bool, typer.Option(help="print the time spent in each stage (one process)")] = False,
    engine: Annotated[
        Engine,
        typer.Option(help="local (processes on this machine) or ray (Ray Data actors; pip install 'dasl[scale]')"),
    ] = Engine.local,
    address: Annotated[
        str | None, typer.Option(help="--engine ray: the Ray cluster (auto: the one `ray start` began here)")
    ] = None,
    shared: SharedOption = None,
) -> None:
    """3D faces from photos, folders and videos: JSON, textured OBJ, PLY, overlay and depth pictures."""
    from dasl.api import Reconstructor
    from dasl.pipeline import default_workers, run

    kinds = [k.strip() for k in outputs.split(",") if k.strip()]
    rec = Reconstructor(
        model=model,
        backend=backend.value,
        detector=detector.value,
        map_source=map_source.value if map_source else None,
        flip=flip,
        shared=shared,
    )
    started = time.perf_counter()
    processes = 1 if profile else workers or default_workers()
    if engine.value == "ray":
        from dasl.scale import run_folder

        report = run_folder(rec, paths, out, kinds, processes, address, overwrite)
    else:
        report = run(
            rec, paths, out, kinds, smooth=smooth, overwrite=overwrite, detect_every=detect_every, workers=processes
        )
    elapsed = time.perf_counter() - started
    if profile:
        from dasl.eval.report import STAGE_COLUMNS, new_table, stage_rows

        title = f"time per stage over {len(report.done)} inputs ({elapsed:.2f} s in all)"
        Console().print(new_table(title, STAGE_COLUMNS, stage_rows(rec.stages.seconds, len(report.done))))
    videos = f", {report.face_frames} face-frames in videos" if report.face_frames else ""
    console.print(
        f"{len(report.done)} done, {len(report.skipped)} already done, {len(report.failed)} failed; "
        f"{report.faces} faces in photos{videos}; outputs in {out}"
    )
    if report.inputs == 0:
        console.print(f"warning: no photos or videos found in {', '.join(map(str, paths))}")
    for path in report.no_face:
        console.print(f"no face found: {path}")
    for path, why in report.stale:
        console.print(f"outputs exist but were {why}: {path} (use --overwrite to redo)")
    if report.failed:
        console.print("failed:")
        for _path, why in report.failed:
            print(f"  {why}", file=sys.stderr)
    if report.stopped:
        print(f"error: the run stopped: {report.stopped}", file=sys.stderr)
    if report.failed or report.stopped:
        raise typer.Exit(1)


@app.command()
def view(
    mesh: Annotated[Path, typer.Argument(help="a textured .obj (as dasl reconstruct writes it)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="picture (default: MESH_view.png)")] = None,
    yaw: Annotated[list[float] | None, typer.Option(help="turn of each view in degrees (default 0 and 35)")] = None,
    size: Annotated[int, typer.Option(min=16, max=4096, help="pixels per view (16 to 4096)")] = 400,
) -> None:
    """A picture of a textured mesh file from a few angles, to check it without a 3D viewer."""
    from dasl.export.images import render_obj, write_png

    target = out or mesh.with_name(mesh.stem + "_view.png")
    try:
        picture = render_obj(mesh, yaw or [0.0, 35.0], size)
    except DaslError as error:
        console.print(f"error: {error}")
        raise typer.Exit(1) from None
    console.print(f"wrote {write_png(target, picture)}")
