"""What the commands share: the typer apps, the console, tables, choice types and common options."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

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
Metric = _choices("Metric", "2d", "3d", "pose", "dense", "human", "icp", "dense-dsfnet")
Frame = _choices("Frame", "3ddfa", "3ddfa-v2")
# the same names as dasl.regressors.BACKENDS, dasl.stages.spec.MAP_SOURCES and dasl.detect.DETECTOR_NAMES
# (not imported: `dasl --help` stays fast; tests/test_architecture.py checks that they agree)
BackendName = _choices("BackendName", "auto", "torch", "onnx")
DetectorName = _choices(
    "DetectorName", "mtcnn", "mtcnn-turns", "blazeface", "blazeface-turns", "dlib-hog", "dlib-mmod", "faceboxes", "dlib"
)
MapSource = _choices("MapSource", "self", "dlib", "detector")
Engine = _choices("Engine", "local", "ray")


def in_range(value: float, name: str, low: float, high: float, low_open: bool = False) -> float:
    """``value`` of the option ``name`` if it lies in ``[low, high]`` (``(low, high]`` with ``low_open``), else
    a usage error naming the option and its range (NaN included)."""
    above = value > low if low_open else value >= low
    if not (above and value <= high):  # NaN fails both
        bracket = "(" if low_open else "["
        raise typer.BadParameter(f"{value} is not in {bracket}{low:g}, {high:g}]", param_hint=name)
    return value
