"""`dasl export-onnx` and `dasl export-model`: model files for use elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dasl.cli.common import SharedOption, app, console
from dasl.errors import DaslError, OptionError


@app.command("export-onnx")
def export_onnx_command(
    out: Annotated[Path, typer.Option("--out", "-o", help="ONNX file to write")],
    model: Annotated[
        str,
        typer.Option(
            "--model",
            "-m",
            help="dasl-light (the default's regressor), dasl-resnet50, dasl-landmarks (the landmark detector), "
            "or a model file or checkpoint of either",
        ),
    ] = "dasl-light",
    int8: Annotated[bool, typer.Option(help="quantise to 8 bits, calibrated on training crops")] = False,
    calibration: Annotated[
        list[Path] | None,
        typer.Option(help="3D training folders whose training split calibrates --int8 (repeatable)"),
    ] = None,
    faces: Annotated[int, typer.Option(min=8, help="calibration crops per folder")] = 100,
    shared: SharedOption = None,
) -> None:
    """A dasl network as ONNX (dynamic batch; a regressor's model record inside), in float32 or, with
    --int8, quantised (the shipped 8-bit files: scripts/quantize_shipped.sh)."""
    import tempfile

    from dasl.landmarkers.dasl_net import SHIPPED_NAME, landmark_file
    from dasl.morphable.model import load_bfm
    from dasl.nets.model_file import LANDMARK_FORMAT, read_file_meta
    from dasl.stages.spec import parse_model

    bfm = load_bfm(shared)
    landmarks = model == SHIPPED_NAME
    if not landmarks and Path(model).suffix == ".safetensors":
        try:
            read_file_meta(model, LANDMARK_FORMAT, "landmark detector file")
            landmarks = True
        except DaslError:
            landmarks = False
    if landmarks:
        from dasl.landmarkers.dasl_net import export_landmarks

        weights = landmark_file(model)
        export = lambda path: export_landmarks(weights, path)  # noqa: E731
    else:
        from dasl.regressors.onnx_model import export_onnx

        spec = parse_model(model, "torch")
        if spec.kind == "peer" or spec.backend != "torch":
            raise OptionError(f"{model}: export-onnx takes a dasl model file, checkpoint or shipped name")
        weights = spec.path
        export = lambda path: export_onnx(weights, path, bfm)  # noqa: E731
    if not int8:
        path = export(out)
    else:
        from dasl.builders.calibration import detector_inputs, regressor_inputs, training_crops
        from dasl.landmarkers import DaslLandmarker
        from dasl.nets.onnx_runtime import OnnxNet
        from dasl.nets.quantize import quantize

        folders = calibration or [Path("data/helen-afw-3d"), Path("data/aflw-wild-3d-lips-chin")]
        crops = training_crops(folders, bfm, faces)
        detector = DaslLandmarker(weights if landmarks else SHIPPED_NAME, backend="onnx")
        inputs = detector_inputs(crops, detector) if landmarks else regressor_inputs(crops, detector)
        with tempfile.TemporaryDirectory() as tmp:
            fp32 = export(Path(tmp) / "fp32.onnx")
            metadata = OnnxNet(fp32).metadata
            path = quantize(fp32, out, inputs, weights, metadata)
        console.print(f"calibrated on {len(inputs)} inputs from {', '.join(map(str, folders))}")
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
