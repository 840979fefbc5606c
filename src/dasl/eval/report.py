"""Benchmark reports: every benchmark's terminal table (the CLI only prints them), AFLW2000-3D's JSON file
and error-distribution plot.

Each benchmark has its columns here and a function turning one of its results into a row of text, so that
what a table shows, and to how many digits, is decided in one place."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from rich.table import Table

from dasl.eval.metrics import YAW_BIN_NAMES, cumulative_curve
from dasl.fileio import atomic_path, write_json

if TYPE_CHECKING:
    from dasl.eval.aflw2000 import CandidateResult, Settings

_TITLES = {
    "nme_2d": "68-point 2D NME (%)",
    "nme_human": "18-point 2D NME against AFLW's own annotations (%)",
    "nme_3d": "68-point 3D NME (%)",
    "dense_2d": "dense 2D NME (%)",
    "dense_3d": "dense 3D NME (%)",
    "icp": "3D reconstruction error after ICP (%, 2DASL's Fig. 7)",
    "dense_dsfnet": "dense 3D NME, DSFNet's definition (%; its figure: all)",
}


def tables(results: Sequence[CandidateResult], settings: Settings) -> list[Table]:
    """One rich table per metric, candidates as rows."""
    out = []
    caption = (
        f"list={settings.image_list} labels={settings.labels} yaw={settings.yaw} crops={settings.crops} "
        f"frame={settings.frame}"
    )
    for key, title in _TITLES.items():
        rows = [r for r in results if key in r.summary]
        if not rows:
            continue
        table = Table(title=f"AFLW2000-3D: {title}", caption=caption)
        table.add_column("model")
        for name in (*YAW_BIN_NAMES, "mean", "all"):
            table.add_column(name, justify="right")
        table.add_column("s", justify="right")
        for r in rows:
            s = r.summary[key]
            table.add_row(r.name, *(f"{s[n]:.2f}" for n in (*YAW_BIN_NAMES, "mean", "all")), f"{r.seconds:.1f}")
        out.append(table)
    pose_rows = [r for r in results if "pose" in r.summary]
    if pose_rows:
        n = pose_rows[0].summary["pose"]["count"]
        table = Table(title=f"AFLW2000-3D: pose MAE (degrees, {n} images)", caption=caption)
        table.add_column("model", no_wrap=True)  # a model's name is never folded
        for name in ("yaw", "pitch", "roll", "mean", "rotation", *(f"rot. {b}" for b in YAW_BIN_NAMES)):
            table.add_column(name, justify="right")
        for r in pose_rows:
            p = r.summary["pose"]
            by_yaw = [f"{p['rotation_by_yaw'][b]:.2f}" for b in YAW_BIN_NAMES]
            table.add_row(r.name, *(f"{p[k]:.2f}" for k in ("yaw", "pitch", "roll", "mean", "rotation")), *by_yaw)
        out.append(table)
    return out


def to_json(results: Sequence[CandidateResult], settings: Settings, names: Sequence[str]) -> dict:
    """Everything needed to redo a plot or a table: settings, summaries, per-image errors."""
    return {
        "benchmark": "AFLW2000-3D",
        "settings": {
            "list": settings.image_list,
            "labels": settings.labels,
            "yaw": settings.yaw,
            "crops": settings.crops,
            "metrics": list(settings.metrics),
            "landmark_map": settings.landmarks,
            "frame": settings.frame,
        },
        "images": list(names),
        "models": {
            r.name: {
                "seconds": round(r.seconds, 3),
                "summary": r.summary,
                "notes": r.notes,
                "per_image": {k: _jsonable(v) for k, v in r.per_image.items()},
            }
            for r in results
        },
    }


def _jsonable(values: np.ndarray) -> list:
    return values.tolist() if values.dtype == bool else np.round(values, 5).tolist()


def write_json_report(path: Path, results, settings, names) -> Path:
    return write_json(path, to_json(results, settings, names))


def plot_edc(path: Path, results: Sequence[CandidateResult], upto: float = 10.0) -> Path | None:
    """Cumulative error distribution of each per-image NME, every candidate in one figure (``None``, no
    file, when no NME was measured: pose alone)."""
    keys = [k for k in _TITLES if any(k in r.per_image for r in results)]
    if not keys:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cols = min(len(keys), 2)
    rows = -(-len(keys) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5.5 * cols, 4.2 * rows), squeeze=False)
    for ax in axes.flat[len(keys) :]:
        ax.remove()
    for ax, key in zip(axes.flat, keys, strict=False):
        for r in results:
            if key not in r.per_image:
                continue
            errors = r.per_image[key][np.isfinite(r.per_image[key])]  # misses of --crops detected left out
            x, y = cumulative_curve(errors, upto)
            ax.plot(x, 100 * y, label=f"{r.name} ({errors.mean():.2f})")
        ax.set_title(_TITLES[key])
        ax.set_xlabel("NME (%)")
        ax.set_ylabel("images (%)")
        ax.set_xlim(0, upto)
        ax.set_ylim(0, 100)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)


# ---------------------------------------------------------------------- the other benchmarks' tables
def new_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[str]] = ()) -> Table:
    """A table with right-aligned columns (the first, a row's name, never cut short) and ``rows``."""
    table = Table(title=title)
    for i, column in enumerate(columns):
        table.add_column(column, justify="right", overflow="fold" if i == 0 else "ellipsis")
    for row in rows:
        table.add_row(*row)
    return table


def _f(value: float, digits: int = 2) -> str:
    return f"{value:.{digits}f}"


def heldout_columns(passes: int) -> tuple[str, ...]:
    """``dasl benchmark heldout``: a row per model and first map, NME after each pass, bins of the best."""
    after = [f"pass {k + 1}" for k in range(passes)]
    return ("model", "first map", *after, *(f"{b} (best pass)" for b in YAW_BIN_NAMES))


def heldout_row(model: str, source: str, pass_means: Sequence[float], passes: int, bins: dict) -> list[str]:
    blanks = [""] * (passes - len(pass_means))
    return [model, source, *(_f(m) for m in pass_means), *blanks, *(_f(bins[b]) for b in YAW_BIN_NAMES)]


BIN_COLUMNS = (*YAW_BIN_NAMES, "mean")


def bins_row(bins: dict) -> list[str]:
    """NME by yaw bin and their mean."""
    return [_f(bins[b]) for b in BIN_COLUMNS]


DETECTION_COLUMNS = ("detector", *YAW_BIN_NAMES, "all", "s / photo")


def detection_row(detector: str, recall: dict, seconds_per_photo: float, groups: dict) -> list[str]:
    """``dasl benchmark detection``: recall (%) by yaw bin, seconds a photo, faces found / annotated per group
    photo (the group photos' names are further columns)."""
    found = [f"{a}/{b}" for a, b in groups.values()]
    return [detector, *(_f(recall[k], 1) for k in (*YAW_BIN_NAMES, "all")), _f(seconds_per_photo), *found]


GROUPS_COLUMNS = (
    *("detector", "found %", "upright", "turned", "< 80 px"),
    *("NME", "same faces' crops", "false boxes", "ms"),
)


def groups_row(detector: str, s: dict) -> list[str]:
    """``dasl benchmark groups``: a detector's summary (:meth:`dasl.eval.groups.GroupReport.summary`)."""
    shares = [_f(s[k], 1) for k in ("found_%", "found_upright_%", "found_turned_%", "found_small_%")]
    nme = [_f(s["nme_found"]), _f(s["crop_nme_found"])]
    return [detector, *shares, *nme, str(s["false_boxes"]), _f(s["ms_per_picture"], 0)]


def throughput_columns(workers: int, stages: Sequence[str]) -> tuple[str, ...]:
    """``dasl benchmark throughput``: a row per pipeline and folder, ms per photo of each stage."""
    fixed = ("pipeline", "folder", "photos", "faces", "photos/s (1 thread)", f"photos/s ({workers} processes)")
    return (*fixed, *(f"{s} ms" for s in stages))


def throughput_row(r: Any, label: str, stages: Sequence[str]) -> list[str]:
    one, many = r.photos_per_s
    times = [_f(r.stages_ms.get(s, 0.0), 1) for s in stages]
    return [r.pipeline, label, str(r.photos), str(r.faces), _f(one, 1), _f(many, 1), *times]


SPEED_COLUMNS = ("model", "regressor ms (batch 1)", "crops / s (batch 32)", "detect ms", "photo ms / face")


def speed_row(r: Any) -> list[str]:
    """``dasl benchmark speed``: one :class:`dasl.eval.speed.SpeedRow`."""
    per_face = f"{r.photo_ms_per_face:.0f} ({r.faces} faces)"
    return [r.model, _f(r.regressor_ms, 1), _f(r.crops_per_s, 0), _f(r.detect_ms, 0), per_face]


VIDEO_COLUMNS = ("model", "pipeline", "frames / s", "NME (%)", "jitter (%)", "frames with face", "tracks")
VIDEO_FILE_COLUMNS = ("model", "outputs", "frames / s")


def video_row(r: Any) -> list[str]:
    """``dasl benchmark video``: one pipeline on the clip."""
    return [r.model, r.name, _f(r.fps, 1), _f(r.nme), _f(r.jitter, 3), str(r.frames_with_face), str(r.tracks)]


def video_file_row(r: Any) -> list[str]:
    return [r.model, r.outputs, _f(r.fps, 1)]


TRAIN_SPEED_COLUMNS = ("backbone", "parameters (M)", "fp32 images / s", "bf16 images / s", "bf16 / fp32", "auto picks")


def train_speed_row(name: str, fp32: Any, bf16: Any, picks: str) -> list[str]:
    ratio = bf16.img_per_s / fp32.img_per_s
    return [name, _f(fp32.parameters / 1e6, 1), _f(fp32.img_per_s, 1), _f(bf16.img_per_s, 1), _f(ratio), picks]


FITTING_COLUMNS = ("fit", "NME 0-30", "30-60", "60-90", "mean", "pose MAE (y/p/r)", "dense 3D NME", "ms/face")


def fitting_row(r: Any) -> list[str]:
    """``dasl benchmark fitting``: one :class:`dasl.eval.fitting_bench.FittingReport`."""
    n, p = r.nme_2d, r.pose
    pose = f"{p['yaw']:.2f}/{p['pitch']:.2f}/{p['roll']:.2f}"
    return [r.name, *(_f(n[k]) for k in (*YAW_BIN_NAMES, "mean")), pose, _f(r.dense_3d["all"]), _f(r.ms_per_face, 1)]


STAGE_COLUMNS = ("stage", "s", "ms / input")


def stage_rows(seconds: dict[str, float], inputs: int) -> list[list[str]]:
    """``dasl reconstruct --profile``: the time of each stage in all and per input."""
    return [[stage, _f(s), _f(1000 * s / max(1, inputs), 1)] for stage, s in seconds.items()]
