"""8-bit networks: a dasl network's ONNX export quantised statically (int8 weights per output channel,
uint8 activations, QDQ format), its activations' ranges calibrated on training crops, never on a test set.

On this project's CPUs ONNX Runtime runs the quantised landmark detector and dasl-light about twice as fast
at batch 1 as in float32, at a held-out 68-point NME within 0.02 of float32's (docs/product.md#speed). The
shipped models' 8-bit files lie beside their weights (``dasl/weights/<name>.int8.onnx``), made by
``dasl export-onnx --int8`` (scripts/quantize_shipped.sh): each records the SHA-256 prefix of the weights
file it was made from, and is used only while that file is unchanged (:func:`shipped_int8`), so a retrained
model never runs with another model's 8-bit file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dasl.errors import BadInputError
from dasl.fileio import atomic_path
from dasl.nets.onnx_runtime import file_digest

#: metadata key of an 8-bit file: the digest of the weights file it was quantised from
SOURCE_KEY = "dasl_source_digest"
SUFFIX = ".int8.onnx"


def int8_path(weights: Path) -> Path:
    """Where the 8-bit ONNX file of a weights file lies: ``<name>.int8.onnx`` beside it."""
    return Path(weights).with_name(Path(weights).name.split(".")[0] + SUFFIX)


def read_metadata(path: Path) -> dict[str, str]:
    """An ONNX file's metadata properties, without ONNX Runtime."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


def shipped_int8(weights: Path) -> Path | None:
    """The 8-bit file of ``weights`` if there is one and it was made from these very weights, else ``None``."""
    path = int8_path(weights)
    if not path.is_file() or not Path(weights).is_file():
        return None
    try:
        made_from = read_metadata(path).get(SOURCE_KEY)
    except Exception:  # a damaged file: as if absent (onnx raises its own types)
        return None
    return path if made_from == file_digest(Path(weights)) else None


def quantize(fp32: Path, out: Path, inputs: np.ndarray, weights: Path, metadata: dict[str, str] | None = None) -> Path:
    """Write the 8-bit version of the float32 ONNX network ``fp32`` to ``out``, its activations calibrated on
    ``inputs`` ``(N, C, 120, 120)`` float32 (one at a time, as inference runs), recording ``weights``'s
    digest and ``metadata`` (e.g. a regressor's model record)."""
    import onnx
    from onnxruntime.quantization import (
        CalibrationDataReader,
        CalibrationMethod,
        QuantFormat,
        QuantType,
        quantize_static,
    )

    if inputs.ndim != 4 or inputs.dtype != np.float32 or not len(inputs):
        raise BadInputError(fp32, f"calibration inputs must be float32 (N, C, H, W), got {inputs.dtype} {inputs.shape}")
    name = onnx.load(str(fp32), load_external_data=False).graph.input[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(inputs[:, None])

        def get_next(self):
            row = next(self.rows, None)
            return None if row is None else {name: row}

    out = Path(out)
    with atomic_path(out) as tmp:
        quantize_static(
            str(fp32),
            str(tmp),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            # activation ranges at their 0.01th / 99.99th percentile (held-out NME of the default 1.746 / 3.053
            # against 1.759 / 3.051 with the full range, float32 1.739 / 3.064: docs/product.md)
            calibrate_method=CalibrationMethod.Percentile,
            extra_options={"CalibPercentile": 99.99},
        )
        model = onnx.load(str(tmp))
        for key, value in {**(metadata or {}), SOURCE_KEY: file_digest(Path(weights))}.items():
            entry = model.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(model, str(tmp))
    return out
