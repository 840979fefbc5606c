"""The ``dasl`` command: thin commands over the Python API."""

from __future__ import annotations

import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dasl.errors import DaslError, OptionError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="3D face reconstruction and dense face alignment (2DASL).",
)
benchmark_app = typer.Typer(no_args_is_help=True, help="Benchmarks of the field, peers side by side.")
app.add_typer(benchmark_app, name="benchmark")
data_app = typer.Typer(no_args_is_help=True, help="Build training data: 3D labels by fitting and profiling, 2D labels.")
app.add_typer(data_app, name="data")

console = Console(stderr=True)


def _table(title: str, *columns: str):
    """A rich table with right-aligned columns; the first (a model's or row's name) is never cut short."""
    from rich.table import Table

    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="right", overflow="fold" if i == 0 else "ellipsis")
    return table


SharedOption = Annotated[
    Path | None,
    typer.Option("--shared", help="shared data folder (default: $DASL_SHARED, else ../shared)"),
]


def _choices(name: str, *values: str) -> type[StrEnum]:
    """A choice type for typer: a string enum of ``values`` (members named after them)."""
    return StrEnum(name, {("v" + v if v[0].isdigit() else v).replace("-", "_"): v for v in values})


ImageList = _choices("ImageList", "aflw2000", "aflw1998")
Labels = _choices("Labels", "original", "reannotated")
Yaw = _choices("Yaw", "original", "new")
Crops = _choices("Crops", "stored", "cut", "own-roi", "detected")
MapLandmarks = _choices("MapLandmarks", "self", "dlib", "2dasl")
Metric = _choices("Metric", "2d", "3d", "pose", "dense", "human")
Frame = _choices("Frame", "3ddfa", "3ddfa-v2")
# the same names as dasl.regressors.BACKENDS, dasl.stages.spec.MAP_SOURCES and dasl.detect.DETECTOR_NAMES
# (not imported: `dasl --help` stays fast; tests/test_architecture.py checks that they agree)
BackendName = _choices("BackendName", "auto", "torch", "onnx")
DetectorName = _choices("DetectorName", "mtcnn", "mtcnn-turns", "dlib-hog", "dlib-mmod", "faceboxes", "dlib")
MapSource = _choices("MapSource", "self", "dlib", "detector")


@benchmark_app.command("aflw2000")
def benchmark_aflw2000(
    model: Annotated[
        list[str],
        typer.Option(
            "--model",
            "-m",
            help="a shipped model (default, dasl-resnet50; NAME+flip mirror-averaged), 3ddfa-v2-mb05, "
            "oracle, mean-shape, or a model file; repeat for several",
        ),
    ],
    image_list: Annotated[ImageList, typer.Option("--list", help="image list")] = ImageList.aflw2000,
    labels: Annotated[Labels, typer.Option(help="2D ground truth: original or re-annotated")] = Labels.original,
    yaw: Annotated[Yaw, typer.Option(help="yaw file for the bins")] = Yaw.original,
    crops: Annotated[
        Crops,
        typer.Option(
            help="stored crops, cut with the stored boxes, cut with dasl's ROI rule, or detected (the whole "
            "pipeline from the photo: face boxes, crop, refinement; misses counted)"
        ),
    ] = Crops.stored,
    metric: Annotated[
        list[Metric] | None, typer.Option("--metric", help="2d, 3d, pose, dense, human (default: all)")
    ] = None,
    landmarks: Annotated[
        MapLandmarks, typer.Option(help="landmark map of 4-channel models: self (iterated), dlib, 2dasl's detections")
    ] = MapLandmarks.self,
    frame: Annotated[
        Frame, typer.Option(help="crop frame of the candidates' points: 3ddfa (dasl's) or 3ddfa-v2 (x - 1, y - 1)")
    ] = Frame.v3ddfa,
    out: Annotated[Path, typer.Option(help="folder for the JSON and the EDC plot")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """68-point NME by yaw bin on AFLW2000-3D (3DDFA protocol), every --model in one run."""
    from dasl.data.aflw2000 import AFLW2000
    from dasl.eval import aflw2000 as bench
    from dasl.eval import report
    from dasl.eval.candidates import make_candidate
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    started = time.perf_counter()
    data_root = SharedData.find(shared)
    bfm = load_bfm(data_root)
    settings = bench.Settings(
        image_list=image_list.value,
        labels=labels.value,
        yaw=yaw.value,
        crops=crops.value,
        metrics=tuple(m.value for m in metric) if metric else bench.METRICS,
        landmarks=landmarks.value,
        frame=frame.value,
    )
    if crops.value == "detected":
        from dasl.api import Reconstructor
        from dasl.eval.candidates import DetectedCandidate

        candidates = [
            DetectedCandidate(Reconstructor(model=name, shared=data_root), bfm) for name in dict.fromkeys(model)
        ]
    else:
        candidates = [make_candidate(name, bfm, data_root) for name in dict.fromkeys(model)]
    data = AFLW2000.load(data_root, image_list.value, labels.value, yaw.value)
    with console.status("benchmark") as status:
        results = bench.run(candidates, data, settings, bfm, progress=status.update)
    for table in report.tables(results, settings):
        Console().print(table)
    stem = f"{settings.image_list}_{settings.labels}-labels_{settings.yaw}-yaw_{settings.crops}-crops"
    if settings.landmarks != "self":
        stem += f"_{settings.landmarks}-map"
    if settings.frame != "3ddfa":
        stem += f"_{settings.frame}-frame"
    json_path = report.write_json_report(out / f"{stem}.json", results, settings, data.names)
    png_path = report.plot_edc(out / f"{stem}_edc.png", results)
    for r in results:
        for note in r.notes:
            console.print(f"note ({r.name}): {note}")
    written = f"{json_path} and {png_path}" if png_path else str(json_path)
    console.print(f"wrote {written} in {time.perf_counter() - started:.1f} s")


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
        str, typer.Option(help="comma-separated: json (always), obj, ply, overlay, depth")
    ] = "json,obj,ply,overlay,depth",
    detector: Annotated[
        DetectorName,
        typer.Option(
            help="mtcnn (the photo turned by quarter turns where it shows no face upright), mtcnn-turns (turned "
            "always), dlib (HOG, then MMOD), dlib-hog, dlib-mmod"
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
        float, typer.Option(help="video: weight of the new frame in each track's parameter average (1: off)")
    ] = 0.5,
    detect_every: Annotated[
        int, typer.Option(help="video: run the face detector every N frames (faces are tracked in between)")
    ] = 10,
    overwrite: Annotated[bool, typer.Option(help="redo inputs whose outputs exist")] = False,
    workers: Annotated[
        int, typer.Option(min=0, help="processes sharing a folder's photos, one thread each (0: one per core)")
    ] = 0,
    profile: Annotated[bool, typer.Option(help="print the time spent in each stage (one process)")] = False,
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
    report = run(
        rec, paths, out, kinds, smooth=smooth, overwrite=overwrite, detect_every=detect_every, workers=processes
    )
    elapsed = time.perf_counter() - started
    if profile:
        table = _table(
            f"time per stage over {len(report.done)} inputs ({elapsed:.2f} s in all)", "stage", "s", "ms / input"
        )
        for stage, seconds in rec.stages.seconds.items():
            table.add_row(stage, f"{seconds:.2f}", f"{1000 * seconds / max(1, len(report.done)):.1f}")
        Console().print(table)
    console.print(
        f"{len(report.done)} done, {len(report.skipped)} already done, {len(report.failed)} failed; "
        f"{report.faces} faces; outputs in {out}"
    )
    for path in report.no_face:
        console.print(f"no face found: {path}")
    if report.failed:
        console.print("failed:")
        for _path, why in report.failed:
            print(f"  {why}", file=sys.stderr)
        raise typer.Exit(1)


@app.command()
def view(
    mesh: Annotated[Path, typer.Argument(help="a textured .obj (as dasl reconstruct writes it)")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="picture (default: MESH_view.png)")] = None,
    yaw: Annotated[list[float] | None, typer.Option(help="turn of each view in degrees (default 0 and 35)")] = None,
    size: Annotated[int, typer.Option(help="pixels per view")] = 400,
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


@app.command("export-onnx")
def export_onnx_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="ONNX file to write")],
    model: Annotated[
        str, typer.Option("--model", "-m", help="dasl-light (the default's regressor), dasl-resnet50, or a model file")
    ] = "dasl-light",
    shared: SharedOption = None,
) -> None:
    """The regressor of a dasl model as ONNX (dynamic batch; metadata inside)."""
    from dasl.morphable.model import load_bfm
    from dasl.regressors.onnx_model import export_onnx
    from dasl.stages.spec import parse_model

    spec = parse_model(model, "torch")
    if spec.kind == "peer" or spec.backend != "torch":
        raise OptionError(f"{model}: export-onnx takes a dasl model file, checkpoint or shipped name")
    path = export_onnx(spec.path, out, load_bfm(shared))
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@app.command("export-model")
def export_model_command(
    checkpoint: Annotated[Path, typer.Argument(help="training checkpoint (.pt)")],
    out: Annotated[Path, typer.Option("--out", "-o", help="model file to write (.safetensors)")],
    name: Annotated[str, typer.Option(help="the model's name in reports")] = "",
    half: Annotated[bool, typer.Option(help="store weights as float16")] = False,
) -> None:
    """A compact model file (weights + metadata) from a training checkpoint (a regressor's or the landmark
    detector's)."""
    from dasl.regressors.dasl_model import export_model_file

    path = export_model_file(checkpoint, out, name, half=half)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")


@benchmark_app.command("speed")
def benchmark_speed(
    model: Annotated[
        list[str] | None, typer.Option("--model", "-m", help="default: default, dasl-resnet50, 3ddfa-v2-mb05")
    ] = None,
    onnx: Annotated[bool, typer.Option(help="also time dasl models on the ONNX backend")] = True,
    photo: Annotated[Path | None, typer.Option(help="photo for the photo-to-files time")] = None,
    threads: Annotated[int, typer.Option(help="torch threads (0: torch's default)")] = 0,
    shared: SharedOption = None,
) -> None:
    """Inference speed side by side: regressor latency at batch 1, crops/s at batch 32, photo to files."""
    import torch

    from dasl.eval.speed import measure_model
    from dasl.paths import SharedData
    from dasl.regressors import PEERS

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    photo = photo or data_root.require("samples") / "trump_hillary.jpg"
    names = model or ["default", "dasl-resnet50", *PEERS]
    table = _table(
        f"inference speed, {torch.get_num_threads()} threads, photo {photo.name}",
        *("model", "regressor ms (batch 1)", "crops / s (batch 32)", "detect ms", "photo ms / face"),
    )
    runs = [(n, "torch") for n in names] + [(n, "onnx") for n in names if onnx and n not in PEERS]
    for name, backend in runs:
        with console.status(f"timing {name} ({backend})"):
            r = measure_model(name, photo, data_root, backend=backend)
        table.add_row(
            r.model,
            f"{r.regressor_ms:.1f}",
            f"{r.crops_per_s:.0f}",
            f"{r.detect_ms:.0f}",
            f"{r.photo_ms_per_face:.0f} ({r.faces} faces)",
        )
    Console().print(table)


@benchmark_app.command("heldout")
def benchmark_heldout(
    model: Annotated[list[str], typer.Option("--model", "-m", help="4-channel dasl models; repeat for several")],
    data3d: Annotated[
        list[Path] | None, typer.Option(help="3D training folder whose validation split is scored; repeatable")
    ] = None,
    landmarker: Annotated[
        str, typer.Option(help="landmark detector for the map: dasl-landmarks, a file or checkpoint, or none")
    ] = "dasl-landmarks",
    passes: Annotated[int, typer.Option(help="passes of the regressor")] = 3,
    dlib: Annotated[bool, typer.Option(help="also dlib's 68 points as a map source (slow)")] = False,
    shared: SharedOption = None,
) -> None:
    """68-point NME on the held-out 3D training faces after each pass, for each source of the landmark
    map (4-channel dasl models; others as they run), and the landmark detector's own NME by yaw: how dasl
    chooses the map's source (never on the test set). The by-yaw columns are of each row's best pass."""
    import numpy as np

    from dasl.eval.heldout import heldout_faces, heldout_nme
    from dasl.eval.metrics import YAW_BIN_NAMES, summarize_by_yaw
    from dasl.eval.passes import detector_errors, faces_yaw, map_sources, pass_errors
    from dasl.landmarkers import DaslLandmarker
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData
    from dasl.regressors.network import NetworkRegressor
    from dasl.stages import load_stages

    data_root = SharedData.find(shared)
    bfm = load_bfm(data_root)
    detector = None if landmarker == "none" else DaslLandmarker(landmarker)
    runs = [load_stages(name, data_root) for name in model]
    for folder in data3d or [Path("data/helen-afw-3d")]:
        crops, params = heldout_faces(folder, bfm)
        yaw = faces_yaw(params)
        with console.status(f"map sources for {len(crops)} held-out faces of {folder}"):
            sources = map_sources(crops, params, bfm, detector, dlib)
        title = f"held-out faces of {folder} ({len(crops)}): 68-point NME (%) after each pass, by the first map"
        columns = (*(f"pass {k + 1}" for k in range(passes)), *(f"{b} (best pass)" for b in YAW_BIN_NAMES))
        table = _table(title, "model", "first map", *columns)
        for r in runs:
            with console.status(f"{r.name}: {passes} passes per source"):
                plain = r.landmarker is None and isinstance(r.regressor, NetworkRegressor)
                if plain and r.regressor.uses_landmarks:
                    errors = pass_errors(r.regressor, crops, params, bfm, sources, passes)
                else:  # the peer, NAME+flip, NAME+det: the model as it runs
                    errors = {"as run": heldout_nme(r, crops, params, None, bfm)[None]}
            for source, per_pass in errors.items():
                best = int(np.argmin([e.mean() for e in per_pass]))
                bins = summarize_by_yaw(per_pass[best], yaw)
                table.add_row(
                    r.name,
                    source,
                    *(f"{e.mean():.2f}" for e in per_pass),
                    *([""] * (passes - len(per_pass))),
                    *(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES),
                )
        Console().print(table)
        if detector is not None:
            bins = summarize_by_yaw(detector_errors(sources["detector"], params, bfm), yaw)
            table = _table(f"landmark detector {detector.name} on {folder}: 68-point NME (%)", *YAW_BIN_NAMES, "mean")
            table.add_row(*(f"{bins[b]:.2f}" for b in (*YAW_BIN_NAMES, "mean")))
            Console().print(table)


@benchmark_app.command("detection")
def benchmark_detection(
    detector: Annotated[
        list[str] | None, typer.Option("--detector", "-d", help="default: dlib-hog, dlib-mmod, dlib")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="only the first N AFLW2000-3D photos")] = None,
    workers: Annotated[int, typer.Option(help="single-threaded processes sharing the photos")] = 2,
    out: Annotated[Path, typer.Option(help="folder for detection.json")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """Face detector recall on AFLW2000-3D's photos by yaw bin, and faces found in the group photos."""
    from dasl.data.aflw2000 import AFLW2000
    from dasl.detect import make_detector
    from dasl.eval.detection import GROUP_PHOTOS, aflw2000_recall, group_counts
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    data = AFLW2000.load(data_root)
    names = detector or ["dlib-hog", "dlib-mmod", "dlib"]
    table = _table(
        "face detection: recall on AFLW2000-3D photos (%), faces found in group photos",
        *("detector", "0-30", "30-60", "60-90", "all", "s / photo", *(Path(n).stem for n in GROUP_PHOTOS)),
    )
    with console.status(f"detecting faces in AFLW2000-3D's photos with {', '.join(names)}"):
        reports = aflw2000_recall(names, data_root.root, data.yaw, limit, workers)
    found = {}
    for r in reports:
        groups = group_counts(make_detector(r.detector), data_root.require("samples"))
        row = [f"{r.recall[k]:.1f}" for k in ("0-30", "30-60", "60-90", "all")]
        table.add_row(r.detector, *row, f"{r.seconds_per_photo:.2f}", *(f"{a}/{b}" for a, b in groups.values()))
        found[r.detector] = {"recall": r.recall, "seconds_per_photo": r.seconds_per_photo, "groups": groups}
    Console().print(table)
    settings = {"photos": int(limit or len(data)), "workers": workers}
    console.print(f"wrote {write_json(out / 'detection.json', {'settings': settings, 'detectors': found})}")


@benchmark_app.command("groups")
def benchmark_groups(
    model: Annotated[str, typer.Option("--model", "-m", help="model string")] = "default",
    detector: Annotated[list[DetectorName] | None, typer.Option("--detector", "-d", help="default: mtcnn")] = None,
    data3d: Annotated[
        list[Path] | None, typer.Option(help="3D training folders whose held-out photos are composed; repeatable")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the composition")] = 0,
    out: Annotated[Path, typer.Option(help="folder for groups.json")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """Group pictures composed from held-out training faces (widths 40-260 px, a quarter turned by quarter
    turns): faces found and their NME against the same faces' crops, per detector (never AFLW2000-3D)."""
    from dasl.api import Reconstructor
    from dasl.eval.groups import compose, heldout_photos, score
    from dasl.fileio import write_json
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    bfm = load_bfm(data_root)
    folders = data3d or [Path("data/helen-afw-3d"), Path("data/aflw-wild-3d-lips-chin")]
    faces = [f for folder in folders for f in heldout_photos(folder, bfm)]
    pictures = compose(faces, seed)
    table = _table(
        f"{len(faces)} held-out faces in {len(pictures)} composed pictures (1024x768), model {model}",
        *("detector", "found %", "upright", "turned", "< 80 px", "NME", "same faces' crops", "false boxes", "ms"),
    )
    results = {}
    for name in detector or [DetectorName.mtcnn]:
        rec = Reconstructor(model=model, detector=name.value, shared=data_root)
        with console.status(f"{name.value}: {len(pictures)} pictures"):
            s = score(rec, faces, pictures).summary()
        results[name.value] = s
        table.add_row(
            name.value,
            *(f"{s[k]:.1f}" for k in ("found_%", "found_upright_%", "found_turned_%", "found_small_%")),
            f"{s['nme_found']:.2f}",
            f"{s['crop_nme_found']:.2f}",
            str(s["false_boxes"]),
            f"{s['ms_per_picture']:.0f}",
        )
    Console().print(table)
    settings = {"model": model, "folders": [str(f) for f in folders], "seed": seed}
    console.print(f"wrote {write_json(out / 'groups.json', {'settings': settings, 'detectors': results})}")


@benchmark_app.command("throughput")
def benchmark_throughput(
    folder: Annotated[
        list[Path] | None,
        typer.Option(help="photo folders (default: every 20th AFLW2000-3D photo, 100, and the sample photos)"),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="processes of the parallel run")] = 2,
    peer: Annotated[bool, typer.Option(help="also the 3DDFA_V2 peer's own pipeline")] = True,
    out: Annotated[Path, typer.Option(help="folder for throughput.json")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """Photos per second through the whole pipeline (``--outputs json``) on one thread and on several
    processes, with the time of each stage, for dasl's default and the peer's own pipeline."""
    import shutil

    from dasl.eval.throughput import PIPELINES, aflw2000_sample, measure
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    made = None if folder else aflw2000_sample(data_root)
    folders = folder or [made, data_root.require("samples")]
    rows = []
    try:
        for name, settings in PIPELINES.items():
            if not peer and name != "default":
                continue
            for f in folders:
                with console.status(f"{name} on {f}"):
                    rows.append(measure(name, settings, f, workers, data_root))
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    stages = list(dict.fromkeys(k for r in rows for k in r.stages_ms))
    table = _table(
        "throughput: photos to JSON",
        "pipeline",
        "folder",
        "photos",
        "faces",
        "photos/s (1 thread)",
        f"photos/s ({workers} processes)",
        *(f"{s} ms" for s in stages),
    )
    for r in rows:
        one, many = r.photos_per_s
        label = "AFLW2000-3D sample" if made is not None and r.folder == str(made) else Path(r.folder).name
        table.add_row(
            r.pipeline,
            label,
            str(r.photos),
            str(r.faces),
            f"{one:.1f}",
            f"{many:.1f}",
            *(f"{r.stages_ms.get(s, 0.0):.1f}" for s in stages),
        )
    Console().print(table)
    record = [r.__dict__ | {"photos_per_s": r.photos_per_s} for r in rows]
    console.print(f"wrote {write_json(out / 'throughput.json', {'workers': workers, 'rows': record})}")


@benchmark_app.command("video")
def benchmark_video(
    model: Annotated[list[str] | None, typer.Option("--model", "-m", help="default: default and 3ddfa-v2-mb05")] = None,
    photo: Annotated[Path | None, typer.Option(help="photo with one face (default: the sample JianzhuGuo.jpg)")] = None,
    frames: Annotated[int, typer.Option(help="frames of the clip")] = 300,
    detect_every: Annotated[int, typer.Option(help="tracking: detector every N frames")] = 10,
    smooth: Annotated[float, typer.Option(help="weight of the new frame in the smoothing")] = 0.5,
    threads: Annotated[int, typer.Option(help="torch threads (0: torch's default)")] = 0,
    out: Annotated[Path, typer.Option(help="folder for video.json")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """Tracking against detecting every frame, with and without smoothing, on a clip with known motion
    (a photo seen by a panning, zooming, turning virtual camera, 640x480): frames / s, NME against the true
    trajectory, jitter."""
    import torch

    from dasl.data.images import read_rgb
    from dasl.eval.video import video_benchmark
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    photo = photo or data_root.require("samples") / "JianzhuGuo.jpg"
    table = _table(
        f"video: {frames} frames 640x480 of {photo.name}, {torch.get_num_threads()} threads",
        *("model", "pipeline", "frames / s", "NME (%)", "jitter (%)", "frames with face", "tracks"),
    )
    with console.status("clips and pipelines") as status:
        rows, whole = video_benchmark(
            model or ["default", "3ddfa-v2-mb05"],
            read_rgb(photo),
            photo,
            frames,
            detect_every,
            smooth,
            data_root,
            progress=status.update,
        )
    for r in rows:
        table.add_row(
            r.model, r.name, f"{r.fps:.1f}", f"{r.nme:.2f}", f"{r.jitter:.3f}", str(r.frames_with_face), str(r.tracks)
        )
    Console().print(table)
    table = _table(
        f"dasl reconstruct on the clip as an MP4 (tracking, detect every {detect_every}, smoothing)",
        *("model", "outputs", "frames / s"),
    )
    for r in whole:
        table.add_row(r.model, r.outputs, f"{r.fps:.1f}")
    Console().print(table)
    record = {
        "photo": str(photo),
        "frames": frames,
        "threads": torch.get_num_threads(),
        "rows": [r.__dict__ for r in rows],
        "end_to_end": [r.__dict__ for r in whole],
    }
    console.print(f"wrote {write_json(out / 'video.json', record)}")


@benchmark_app.command("train-speed")
def benchmark_train_speed(
    backbone: Annotated[
        list[str] | None, typer.Option("--backbone", "-b", help="default: resnet50 and mobilenet_v1_05")
    ] = None,
    batch: Annotated[int, typer.Option(help="faces per step, half 3D-annotated, half in-the-wild")] = 32,
    steps: Annotated[int, typer.Option(help="timed steps after 2 warm-up steps")] = 5,
    threads: Annotated[int, typer.Option(help="torch threads (0: torch's default)")] = 0,
    shared: SharedOption = None,
) -> None:
    """Images per second of a full 2DASL training step (all losses) per backbone, fp32 and bf16, on this
    machine; and which convolution kernels bf16 runs."""
    import torch

    from dasl.data.wild import Wild2D
    from dasl.paths import SharedData
    from dasl.train.precision import BF16_FASTER, cpu_has_bf16
    from dasl.train.speed import convolution_kernels, measure, measure_data

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    table = _table(
        f"training speed, batch {batch}, {torch.get_num_threads()} threads, CPU bf16: {cpu_has_bf16()}",
        *("backbone", "parameters (M)", "fp32 images / s", "bf16 images / s", "bf16 / fp32", "auto picks"),
    )
    for name in backbone or ["resnet50", "mobilenet_v1_05"]:
        with console.status(f"timing {name}"):
            fp32 = measure(name, "fp32", batch // 2, batch - batch // 2, steps=steps)
            bf16 = measure(name, "bf16", batch // 2, batch - batch // 2, steps=steps)
            kernels = convolution_kernels(name)
        table.add_row(
            name,
            f"{fp32.parameters / 1e6:.1f}",
            f"{fp32.img_per_s:.1f}",
            f"{bf16.img_per_s:.1f}",
            f"{bf16.img_per_s / fp32.img_per_s:.2f}",
            "bf16" if name in BF16_FASTER else "fp32",
        )
        console.print(f"{name} bf16 convolution kernels: {', '.join(f'{k} x{v}' for k, v in kernels.items())}")
    Console().print(table)
    wild = Wild2D.from_source(data_root.require("aflw_wild"))
    console.print(f"data pipeline (AFLW crops, augmentation, 1 process): {measure_data(wild):.0f} images / s")


@benchmark_app.command("fitting")
def benchmark_fitting(
    prior: Annotated[float, typer.Option(help="weight of the 3DMM prior")] = 2.0,
    shared: SharedOption = None,
) -> None:
    """3DMM fitting from AFLW2000-3D's ground-truth 2D landmarks: NME, pose and dense error, time."""
    from dasl.data.aflw2000 import AFLW2000
    from dasl.eval.fitting_bench import run_fitting_benchmark
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    bfm, data = load_bfm(data_root), AFLW2000.load(data_root)
    table = _table(
        "3DMM fitting to AFLW2000-3D's 68 ground-truth 2D landmarks",
        *("fit", "NME 0-30", "30-60", "60-90", "mean", "pose MAE (y/p/r)", "dense 3D NME", "ms/face"),
    )
    for marching in (False, True):
        with console.status(f"fitting, marching {marching}"):
            r = run_fitting_benchmark(data, bfm, marching, prior)
        n, p = r.nme_2d, r.pose
        table.add_row(
            r.name,
            f"{n['0-30']:.2f}",
            f"{n['30-60']:.2f}",
            f"{n['60-90']:.2f}",
            f"{n['mean']:.2f}",
            f"{p['yaw']:.2f}/{p['pitch']:.2f}/{p['roll']:.2f}",
            f"{r.dense_3d['all']:.2f}",
            f"{r.ms_per_face:.1f}",
        )
    Console().print(table)


@data_app.command("build-3d")
def data_build_3d(
    landmarked: Annotated[Path, typer.Option(help="folder of photos with 68-point .pts files (searched recursively)")],
    out: Annotated[Path, typer.Option(help="output folder (300W-LP layout + labels3d.npz)")],
    profiles: Annotated[int, typer.Option(help="synthesised views per photo, towards +-90 degrees yaw")] = 5,
    workers: Annotated[int, typer.Option(help="processes for rendering")] = 2,
    prior: Annotated[float, typer.Option(help="weight of the 3DMM prior in the fit (docs/data.md)")] = 2.0,
    limit: Annotated[int | None, typer.Option(help="only the first N photos")] = None,
    shared: SharedOption = None,
) -> None:
    """Fit the 3DMM to landmarked photos, leave out near-copies of AFLW2000-3D crops, and render face
    profiles with exact labels (resumable)."""
    from dasl.builders.build3d import build_3d
    from dasl.builders.near_copies import NearCopyIndex
    from dasl.data.aflw2000 import AFLW2000
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    test = AFLW2000.load(data_root)
    with console.status("indexing AFLW2000-3D's crops for the near-copy check"):
        index = NearCopyIndex(test.stored_crops(), progress=False)
    summary = build_3d(
        landmarked,
        out,
        profiles,
        load_bfm(data_root),
        data_root.require("bfm"),
        workers,
        prior,
        limit=limit,
        test_index=index,
        test_names=list(test.names),
    )
    console.print(
        f"{summary.photos} photos -> {summary.views} labelled views in {out} ({summary.near_copies} near-copies "
        f"of AFLW2000-3D crops left out); fitting {summary.seconds_fit:.0f} s (mean landmark residual "
        f"{summary.fit_rms_px:.2f} px), rendering {summary.seconds_render:.0f} s"
    )


@data_app.command("profile")
def data_profile(
    labels: Annotated[Path, typer.Option(help="a 3D set: a folder with labels3d.npz (e.g. dasl data fit-aflw's)")],
    out: Annotated[Path, typer.Option(help="output folder for the views and their labels3d.npz")],
    profiles: Annotated[int, typer.Option(help="views per face, towards +-90 degrees yaw")] = 2,
    workers: Annotated[int, typer.Option(help="processes for rendering")] = 2,
    shared: SharedOption = None,
) -> None:
    """Turned views of every face of a 3D set, rendered with exact labels (resumable)."""
    from dasl.builders.build3d import profile_label_set
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    summary = profile_label_set(labels, out, profiles, load_bfm(data_root), data_root.require("bfm"), workers)
    console.print(f"{summary.photos} faces -> {summary.views} views in {out} in {summary.seconds_render:.0f} s")


@data_app.command("fit-aflw")
def data_fit_aflw(
    aflw: Annotated[Path, typer.Option(help="AFLW folder with crops/ and annotations.npz")],
    out: Annotated[Path, typer.Option(help="output folder for labels3d.npz")],
    prior: Annotated[float, typer.Option(help="weight of the 3DMM prior in the fit")] = 2.0,
    chin: Annotated[bool, typer.Option(help="fit AFLW's chin point as the chin landmark too")] = False,
    max_yaw_gap: Annotated[
        float | None, typer.Option(help="leave out fits whose yaw is farther than this from AFLW's [default: 45]")
    ] = None,
    shared: SharedOption = None,
) -> None:
    """3D labels for in-the-wild AFLW crops by fitting the 3DMM to their visible annotated points; crops
    that are near-copies of an AFLW2000-3D crop are left out, and fits whose pose contradicts AFLW's."""
    from dasl.builders.fit_aflw import MAX_YAW_GAP, fit_aflw
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    gap = MAX_YAW_GAP if max_yaw_gap is None else max_yaw_gap
    summary = fit_aflw(aflw, out, load_bfm(data_root), data_root, prior, chin=chin, max_yaw_gap=gap)
    console.print(
        f"near-copy check {summary['seconds_check']:.0f} s: {summary['near_copies']} crops left out "
        f"(list in {out / 'near_copies.json'}); {summary['faces']} faces labelled ({summary['left_out']} with "
        f"too few points and {summary['implausible']} fits turned over {gap:g} degrees from AFLW's yaw "
        f"only in-the-wild) in {summary['seconds']:.0f} s, mean residual {summary['rms_px']:.2f} px; "
        f"3D labels in {out / 'labels3d.npz'}, in-the-wild faces in {out / 'wild2d.npz'}"
    )


@data_app.command("label-wild")
def data_label_wild(
    images: Annotated[Path, typer.Option(help="folder of in-the-wild images (an AFLW folder: its crops/)")],
    out: Annotated[Path, typer.Option(help="landmark file to write (.npz)")],
) -> None:
    """68 landmarks for every image from dlib (HOG, then MMOD detector; 68-point predictor); resumable.
    When the folder holds AFLW annotations, the labels' error against AFLW's own points is reported."""
    from dasl.builders.label_wild import label_wild
    from dasl.eval.wild_labels import aflw_agreement

    started = time.perf_counter()
    path = label_wild(images, out)
    console.print(f"wrote {path} in {time.perf_counter() - started:.0f} s")
    if (images / "annotations.npz").is_file():
        a = aflw_agreement(path, images)
        console.print(
            f"faces found {a['found']}/{a['images']}; NME vs AFLW's visible points (18 landmarks, % of the "
            f"crop's face size): 0-30 {a['0-30']:.2f}, 30-60 {a['30-60']:.2f}, 60-90 {a['60-90']:.2f}, "
            f"all {a['all']:.2f}, median {a['median']:.2f}"
        )


@app.command()
def train(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key=value overrides, e.g. optim.lr=1e-3 run.epochs=2")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config (see configs/)")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the run's last checkpoint")] = False,
    max_steps: Annotated[int | None, typer.Option(help="stop after this many steps (checkpoint written)")] = None,
    shared: SharedOption = None,
) -> None:
    """Train a regressor with 2DASL (stage 1 or 2 per the config), or the 2D landmark detector
    (run.task = "landmarks"); torchrun runs it on several processes."""
    import torch

    from dasl.paths import SharedData
    from dasl.train.config import load_config
    from dasl.train.distributed import init_distributed, shutdown
    from dasl.train.landmark_loop import LandmarkTrainer
    from dasl.train.trainer import Trainer

    cfg = load_config(config, overrides)
    ctx = init_distributed()
    threads = cfg.run.threads or max(1, (torch.get_num_threads() or 1) // ctx.local_world)
    torch.set_num_threads(threads)
    try:
        kind = LandmarkTrainer if cfg.run.task == "landmarks" else Trainer
        trainer = kind(cfg, ctx, SharedData.find(shared))
        if resume and trainer.resume():
            console.print(f"resumed {cfg.run.out} at epoch {trainer.epoch + 1}, step {trainer.global_step}")
        logs = trainer.fit(max_steps=max_steps)
        if ctx.is_main:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
            console.print(f"step {trainer.global_step}: {shown}")
            console.print(f"checkpoints in {trainer.checkpoint_dir}, log in {trainer.out / 'log.csv'}")
    finally:
        shutdown()


def main() -> None:
    try:
        app()
    except DaslError as exc:
        # plain text: paths must never be wrapped, shortened or read as markup
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
