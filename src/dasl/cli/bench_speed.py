"""`dasl benchmark` commands that measure speed: the regressor and photo, throughput, video, training, fitting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dasl.cli.common import DetectorName, SharedOption, benchmark_app, console


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

    from dasl.eval.report import SPEED_COLUMNS, new_table, speed_row
    from dasl.eval.speed import measure_model
    from dasl.paths import SharedData
    from dasl.regressors import PEERS

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    photo = photo or data_root.require("samples") / "trump_hillary.jpg"
    names = model or ["default", "dasl-resnet50", *PEERS]
    table = new_table(f"inference speed, {torch.get_num_threads()} threads, photo {photo.name}", SPEED_COLUMNS)
    runs = [(n, "torch") for n in names] + [(n, "onnx") for n in names if onnx and n not in PEERS]
    for name, backend in runs:
        with console.status(f"timing {name} ({backend})"):
            r = measure_model(name, photo, data_root, backend=backend)
        table.add_row(*speed_row(r))
    Console().print(table)


@benchmark_app.command("throughput")
def benchmark_throughput(
    folder: Annotated[
        list[Path] | None,
        typer.Option(help="photo folders (default: every 20th AFLW2000-3D photo, 100, and the sample photos)"),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="processes of the parallel run")] = 2,
    peer: Annotated[bool, typer.Option(help="also the 3DDFA_V2 peer's own pipeline")] = True,
    detector: Annotated[
        list[DetectorName] | None,
        typer.Option("--detector", "-d", help="also the default with this face detector; repeatable"),
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for throughput.json")] = Path("results"),
    shared: SharedOption = None,
) -> None:
    """Photos per second through the whole pipeline (``--outputs json``) on one thread and on several
    processes, with the time of each stage, for dasl's default and the peer's own pipeline."""
    import shutil

    from dasl.eval.report import new_table, throughput_columns, throughput_row
    from dasl.eval.throughput import PIPELINES, aflw2000_sample, measure
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    pipelines = {k: v for k, v in PIPELINES.items() if peer or k == "default"}
    for name in detector or []:
        pipelines[f"default, {name.value}"] = {"model": "default", "detector": name.value}
    made = None if folder else aflw2000_sample(data_root)
    folders = folder or [made, data_root.require("samples")]
    rows = []
    try:
        for name, settings in pipelines.items():
            for f in folders:
                with console.status(f"{name} on {f}"):
                    rows.append(measure(name, settings, f, workers, data_root))
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    stages = list(dict.fromkeys(k for r in rows for k in r.stages_ms))

    def label(r) -> str:
        return "AFLW2000-3D sample" if made is not None and r.folder == str(made) else Path(r.folder).name

    rows_text = [throughput_row(r, label(r), stages) for r in rows]
    table = new_table("throughput: photos to JSON", throughput_columns(workers, stages), rows_text)
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
    from dasl.eval.report import VIDEO_COLUMNS, VIDEO_FILE_COLUMNS, new_table, video_file_row, video_row
    from dasl.eval.video import video_benchmark
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    photo = photo or data_root.require("samples") / "JianzhuGuo.jpg"
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
    title = f"video: {frames} frames 640x480 of {photo.name}, {torch.get_num_threads()} threads"
    Console().print(new_table(title, VIDEO_COLUMNS, map(video_row, rows)))
    title = f"dasl reconstruct on the clip as an MP4 (tracking, detect every {detect_every}, smoothing)"
    Console().print(new_table(title, VIDEO_FILE_COLUMNS, map(video_file_row, whole)))
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
    from dasl.eval.report import TRAIN_SPEED_COLUMNS, new_table, train_speed_row
    from dasl.paths import SharedData
    from dasl.train.precision import BF16_FASTER, cpu_has_bf16
    from dasl.train.speed import convolution_kernels, measure, measure_data

    if threads:
        torch.set_num_threads(threads)
    data_root = SharedData.find(shared)
    title = f"training speed, batch {batch}, {torch.get_num_threads()} threads, CPU bf16: {cpu_has_bf16()}"
    table = new_table(title, TRAIN_SPEED_COLUMNS)
    for name in backbone or ["resnet50", "mobilenet_v1_05"]:
        with console.status(f"timing {name}"):
            fp32 = measure(name, "fp32", batch // 2, batch - batch // 2, steps=steps)
            bf16 = measure(name, "bf16", batch // 2, batch - batch // 2, steps=steps)
            kernels = convolution_kernels(name)
        table.add_row(*train_speed_row(name, fp32, bf16, "bf16" if name in BF16_FASTER else "fp32"))
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
    from dasl.eval.report import FITTING_COLUMNS, fitting_row, new_table
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    bfm, data = load_bfm(data_root), AFLW2000.load(data_root)
    table = new_table("3DMM fitting to AFLW2000-3D's 68 ground-truth 2D landmarks", FITTING_COLUMNS)
    for marching in (False, True):
        with console.status(f"fitting, marching {marching}"):
            r = run_fitting_benchmark(data, bfm, marching, prior)
        table.add_row(*fitting_row(r))
    Console().print(table)
