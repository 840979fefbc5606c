"""`dasl export-onnx` and `dasl export-model`: model files for use elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dasl.cli.common import SharedOption, app, console
from dasl.errors import OptionError


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
