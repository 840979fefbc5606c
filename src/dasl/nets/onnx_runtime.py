"""dasl's networks run by ONNX Runtime: exported from their weights once, cached, then loaded.

At batch 1 on this project's 2-core CPU, ONNX Runtime runs dasl's networks 2.5 to 3.5 times faster than
PyTorch's eager mode (docs/product.md#speed), which is what video needs; PyTorch stays the backend of
training and of anything that needs gradients.

**The cache.** An export takes seconds, so each network is exported once per weights file and kept in
``$DASL_CACHE`` (default ``~/.cache/dasl``) under ``onnx/<kind>-<sha256 of the weights file>-v<N>.onnx``
(:func:`cached_export`), written to a temporary name and renamed (two processes exporting at once both
end with a whole file). ``N`` (:data:`EXPORT_VERSION`) changes whenever the exported graph would, so a
stale export is never loaded. An unwritable cache falls back to a temporary folder for the process.

**Threads.** A session uses as many intra-op threads as PyTorch is set to (``torch.get_num_threads()``
when the session is made) when PyTorch is loaded: ``--threads`` and ``torch.set_num_threads`` govern both
backends. Inference on ONNX alone does not import PyTorch (:func:`inference_threads`).
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dasl.errors import BadInputError, MissingFileError, require
from dasl.fileio import atomic_path

if TYPE_CHECKING:
    import torch

CACHE_VAR = "DASL_CACHE"
#: bump when the exported graphs change (export options, network code), so old cache files are not used
EXPORT_VERSION = 1
OPSET = 17


def cache_dir() -> Path:
    """The folder of cached exports (``$DASL_CACHE/onnx``, default ``~/.cache/dasl/onnx``)."""
    root = os.environ.get(CACHE_VAR) or Path.home() / ".cache" / "dasl"
    return Path(root) / "onnx"


@lru_cache(maxsize=32)
def _digest(path: Path, size: int, mtime: int) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:20]


def file_digest(path: Path) -> str:
    """The first 20 hex digits of a file's SHA-256 (remembered per size and modification time)."""
    stat = path.stat()
    return _digest(path.resolve(), stat.st_size, stat.st_mtime_ns)


def cached_export(source: Path, kind: str, build: Callable[[Path], None]) -> Path:
    """The cached ONNX file of the network in ``source`` (a weights file), made by ``build(path)`` when it
    is not cached yet (see the module docstring)."""
    if not source.is_file():
        raise MissingFileError(source, f"{kind} weights")
    name = f"{kind}-{file_digest(source)}-v{EXPORT_VERSION}.onnx"
    for folder in (cache_dir(), Path(tempfile.gettempdir()) / f"dasl-onnx-{os.getuid()}"):
        target = folder / name
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as tmp:
                build(tmp)
            return target
        except OSError:
            continue  # an unwritable cache: the next folder
    raise OSError(f"no writable folder for the ONNX export of {source} (set {CACHE_VAR})")


#: intra-op threads of new sessions when set (:func:`set_inference_threads`), else :func:`inference_threads`'s rule
_THREADS: int | None = None


def set_inference_threads(threads: int | None) -> None:
    """Intra-op threads of the sessions made from now on (``None``: back to :func:`inference_threads`'s rule);
    a folder run's worker processes take one each."""
    global _THREADS
    _THREADS = threads


def opened_export(source: Path, kind: str, build: Callable[[Path], None], opener: Callable[[Path], Any]) -> Any:
    """``opener`` (e.g. :class:`OnnxNet`) on the cached export of ``source`` (:func:`cached_export`). A cached
    file that does not open (cut short by a full disk, damaged) is removed and exported again, once; a
    second failure names the file and says what to do."""
    path = cached_export(source, kind, build)
    try:
        return opener(path)
    except BadInputError:
        path.unlink(missing_ok=True)
    path = cached_export(source, kind, build)
    try:
        return opener(path)
    except BadInputError as exc:
        raise BadInputError(
            path,
            f"the ONNX export of {source} does not open even made anew ({exc.problem}); "
            f"delete {path.parent} and check the weights file",
        ) from None


def inference_threads() -> int:
    """Intra-op threads of a new session: :func:`set_inference_threads`'s number, else PyTorch's setting when
    PyTorch is loaded, else the cores this process may run on (what PyTorch would default to)."""
    if _THREADS is not None:
        return _THREADS
    torch = sys.modules.get("torch")
    if torch is not None:
        return max(1, torch.get_num_threads())
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def export_network(net: torch.nn.Module, in_channels: int, out: Path, metadata: dict[str, str] | None = None) -> None:
    """``net`` (in eval mode) as ONNX at ``out``: ``input`` ``(N, in_channels, 120, 120)`` float32 to
    ``output``, batch dimension dynamic; ``metadata`` into the file's metadata properties."""
    import onnx

    torch = require("torch", "exporting a network to ONNX (the first run of a model without a shipped 8-bit file)")
    dummy = torch.zeros(1, in_channels, 120, 120)
    torch.onnx.export(
        net,
        (dummy,),
        str(out),
        input_names=["input"],
        output_names=["output"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset_version=OPSET,
        dynamo=False,
    )
    if metadata:
        graph = onnx.load(str(out))
        for key, value in metadata.items():
            entry = graph.metadata_props.add()
            entry.key, entry.value = key, value
        onnx.save(graph, str(out))


def session_options():
    """dasl's ONNX Runtime session options: :func:`inference_threads` intra-op threads, one inter-op thread,
    quiet, and no spinning after a run (the detectors' and the regressor's sessions, PyTorch and NumPy
    take turns on the same cores, and a spinning pool slows the next one down severalfold)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    options.intra_op_num_threads = inference_threads()
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return options


def session_from_bytes(model: bytes):
    """An ONNX Runtime session of a serialised model built in memory, with :func:`session_options`."""
    import onnxruntime as ort

    return ort.InferenceSession(model, session_options(), providers=["CPUExecutionProvider"])


class OnnxNet:
    """An ONNX file's network as a callable on float32 arrays ``(N, C, 120, 120)`` -> its output array."""

    def __init__(self, path: Path, what: str = "ONNX model") -> None:
        import onnxruntime as ort

        if not path.is_file():
            raise MissingFileError(path, what)
        try:
            self.session = ort.InferenceSession(str(path), session_options(), providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise BadInputError(path, f"not a readable ONNX model ({exc})") from exc

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, inputs: np.ndarray) -> np.ndarray:
        return self.session.run(["output"], {"input": np.ascontiguousarray(inputs, dtype=np.float32)})[0]
