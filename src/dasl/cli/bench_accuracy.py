"""`dasl benchmark` commands that measure accuracy: AFLW2000-3D, held-out faces, composed group pictures,
face detection."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dasl.cli.common import (
    Crops,
    DetectorName,
    Frame,
    ImageList,
    Labels,
    MapLandmarks,
    Metric,
    SharedOption,
    Yaw,
    benchmark_app,
    console,
)


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
        list[Metric] | None,
        typer.Option("--metric", help="2d, 3d, pose, dense, human, icp, dense-dsfnet (default: the first five)"),
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
        metrics=tuple(m.value for m in metric) if metric else bench.DEFAULT_METRICS,
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
    from dasl.eval.metrics import summarize_by_yaw
    from dasl.eval.passes import detector_errors, faces_yaw, map_sources, pass_errors
    from dasl.eval.report import BIN_COLUMNS, bins_row, heldout_columns, heldout_row, new_table
    from dasl.landmarkers import DaslLandmarker
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData
    from dasl.regressors.network import NetworkRegressor
    from dasl.stages import load_stages

    data_root = SharedData.find(shared)
    bfm = load_bfm(data_root)
    detector = None if landmarker == "none" else DaslLandmarker(landmarker)
    runs = [load_stages(name, data_root) for name in model]
    from dasl.eval.heldout import HELDOUT_FOLDERS

    for folder in data3d or [Path(HELDOUT_FOLDERS[0])]:
        crops, params = heldout_faces(folder, bfm)
        yaw = faces_yaw(params)
        with console.status(f"map sources for {len(crops)} held-out faces of {folder}"):
            sources = map_sources(crops, params, bfm, detector, dlib)
        title = f"held-out faces of {folder} ({len(crops)}): 68-point NME (%) after each pass, by the first map"
        table = new_table(title, heldout_columns(passes))
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
                table.add_row(*heldout_row(r.name, source, [e.mean() for e in per_pass], passes, bins))
        Console().print(table)
        if detector is not None:
            bins = summarize_by_yaw(detector_errors(sources["detector"], params, bfm), yaw)
            title = f"landmark detector {detector.name} on {folder}: 68-point NME (%)"
            Console().print(new_table(title, BIN_COLUMNS, [bins_row(bins)]))


@benchmark_app.command("detection")
def benchmark_detection(
    detector: Annotated[
        list[DetectorName] | None, typer.Option("--detector", "-d", help="default: mtcnn, mtcnn-turns, dlib")
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
    from dasl.eval.report import DETECTION_COLUMNS, detection_row, new_table
    from dasl.fileio import write_json
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    data = AFLW2000.load(data_root)
    names = [d.value for d in detector] if detector else ["mtcnn", "mtcnn-turns", "dlib"]
    columns = (*DETECTION_COLUMNS, *(Path(n).stem for n in GROUP_PHOTOS))
    table = new_table("face detection: recall on AFLW2000-3D photos (%), faces found in group photos", columns)
    with console.status(f"detecting faces in AFLW2000-3D's photos with {', '.join(names)}"):
        reports = aflw2000_recall(names, data_root.root, data.yaw, limit, workers)
    found = {}
    for r in reports:
        groups = group_counts(make_detector(r.detector), data_root.require("samples"))
        table.add_row(*detection_row(r.detector, r.recall, r.seconds_per_photo, groups))
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
    from dasl.eval.report import GROUPS_COLUMNS, groups_row, new_table
    from dasl.fileio import write_json
    from dasl.morphable.model import load_bfm
    from dasl.paths import SharedData

    data_root = SharedData.find(shared)
    bfm = load_bfm(data_root)
    from dasl.eval.heldout import HELDOUT_FOLDERS

    folders = data3d or [Path(f) for f in HELDOUT_FOLDERS[:2]]
    faces = [f for folder in folders for f in heldout_photos(folder, bfm)]
    pictures = compose(faces, seed)
    title = f"{len(faces)} held-out faces in {len(pictures)} composed pictures (1024x768), model {model}"
    table = new_table(title, GROUPS_COLUMNS)
    results = {}
    for name in detector or [DetectorName.mtcnn]:
        rec = Reconstructor(model=model, detector=name.value, shared=data_root)
        with console.status(f"{name.value}: {len(pictures)} pictures"):
            s = score(rec, faces, pictures).summary()
        results[name.value] = s
        table.add_row(*groups_row(name.value, s))
    Console().print(table)
    settings = {"model": model, "folders": [str(f) for f in folders], "seed": seed}
    console.print(f"wrote {write_json(out / 'groups.json', {'settings': settings, 'detectors': results})}")
