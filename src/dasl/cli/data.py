"""`dasl data`: building the training data."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from dasl.cli.common import SharedOption, console, data_app


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
