"""Benchmark reports: a terminal table, a JSON file, and an error-distribution plot."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from rich.table import Table

from dasl.eval.aflw2000 import CandidateResult, Settings
from dasl.eval.metrics import YAW_BIN_NAMES, cumulative_curve
from dasl.fileio import atomic_path, write_json

_TITLES = {
    "nme_2d": "68-point 2D NME (%)",
    "nme_human": "18-point 2D NME against AFLW's own annotations (%)",
    "nme_3d": "68-point 3D NME (%)",
    "dense_2d": "dense 2D NME (%)",
    "dense_3d": "dense 3D NME (%)",
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
        table.add_column("model")
        for name in ("yaw", "pitch", "roll", "mean"):
            table.add_column(name, justify="right")
        for r in pose_rows:
            p = r.summary["pose"]
            table.add_row(r.name, *(f"{p[k]:.2f}" for k in ("yaw", "pitch", "roll", "mean")))
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
