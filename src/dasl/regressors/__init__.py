"""The regressor stage: parameter regressors behind one interface (:class:`~dasl.regressors.base.Regressor`),
loaded by name or file (:func:`load_regressor`).

Names: a shipped dasl model (:data:`~dasl.regressors.base.SHIPPED`, files in ``dasl/weights``), the peer
``3ddfa-v2-mb05`` (weights from the shared folder), or a path: a dasl model file (``.safetensors``), a
training checkpoint (``.pt``) or an ONNX file (``.onnx``, always on ONNX Runtime). Model strings with the
pipeline's suffixes (``default``, ``+fit``, ...) are :mod:`dasl.stages`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dasl.errors import MissingFileError, OptionError, require
from dasl.morphable.model import load_bfm
from dasl.nets.quantize import shipped_int8
from dasl.paths import WEIGHTS_DIR, SharedData
from dasl.regressors.base import PEER_MB05, PEERS, SHIPPED, Regressor, display_name
from dasl.regressors.flip import FlipAveraged, can_mirror
from dasl.regressors.onnx_model import OnnxRegressor, load_onnx_regressor

#: ``auto``: ONNX Runtime for dasl's networks, 8-bit where a shipped model's 8-bit file matches its weights
#: (:mod:`dasl.nets.quantize`), else float32 (2.5-3.5 times faster than PyTorch at batch 1, the same outputs
#: to 1e-5); PyTorch for the peer, which has no export. ``onnx``: ONNX Runtime in float32.
Backend = Literal["auto", "torch", "onnx"]
BACKENDS: tuple[Backend, ...] = ("auto", "torch", "onnx")
Kind = Literal["shipped", "peer", "file"]


@dataclass(frozen=True)
class RegressorRef:
    """Which regressor a name means: its ``name`` in reports, ``kind``, file (``None`` for a peer, whose
    weights live in the shared folder), resolved backend (``"torch"`` or ``"onnx"``) and whether it runs
    its shipped 8-bit file (``int8``)."""

    name: str
    kind: Kind
    path: Path | None
    backend: str
    int8: bool = False


def resolve_regressor(text: str | Path, backend: Backend = "auto", known: tuple[str, ...] = ()) -> RegressorRef:
    """The regressor a name or path means on ``backend`` (``auto``: ONNX for dasl's models, PyTorch for the
    peer; a ``.onnx`` file implies ONNX). Unknown names and missing files are errors that list the known
    names (``known``: further names the caller accepts, for the message)."""
    if backend not in BACKENDS:
        raise OptionError(f"unknown backend {backend!r}; use {' or '.join(BACKENDS)}")
    text = str(text)
    auto = backend == "auto"
    if auto:
        backend = "torch" if text in PEERS else "onnx"
    if text in SHIPPED:
        path = WEIGHTS_DIR / SHIPPED[text]
        if not path.is_file():
            raise MissingFileError(path, f"shipped model {text!r}", "reinstall dasl, or train one (docs/models.md)")
        int8 = auto and backend == "onnx" and shipped_int8(path) is not None
        return RegressorRef(text, "shipped", path, backend, int8)
    if text in PEERS:
        if backend != "torch":
            raise OptionError(f"the peer {text} runs on the torch backend only")
        return RegressorRef(text, "peer", None, backend)
    path = Path(text)
    if not path.is_file():
        raise MissingFileError(path, "model file", f"give a path, or one of: {', '.join([*known, *SHIPPED, *PEERS])}")
    return RegressorRef(display_name(path), "file", path, "onnx" if path.suffix == ".onnx" else backend)


def load_regressor(
    model: str | Path | RegressorRef,
    shared: SharedData | str | Path | None = None,
    backend: Backend = "auto",
    flip: bool | None = False,
) -> Regressor:
    """The regressor a name, path or :class:`RegressorRef` means, mirror-averaged with ``flip``
    (:mod:`dasl.regressors.flip`; ``None``: where its 3DMM can be mirrored). PyTorch is imported only for
    the torch backend (and for a first ONNX export)."""
    ref = model if isinstance(model, RegressorRef) else resolve_regressor(model, backend)
    shared = shared if isinstance(shared, SharedData) else SharedData.find(shared)
    if ref.kind == "peer" or (ref.backend == "torch" and not ref.int8):
        require("torch", f"the model {ref.name} on PyTorch")
    if ref.kind == "peer":
        from dasl.regressors.peer_3ddfa_v2 import Peer3DDFAv2

        regressor: Regressor = Peer3DDFAv2(shared)
    elif ref.int8:
        regressor = OnnxRegressor(shipped_int8(ref.path), load_bfm(shared), ref.name)
    elif ref.backend == "onnx":
        regressor = load_onnx_regressor(ref.path, load_bfm(shared), ref.name)
    else:
        from dasl.regressors.dasl_model import DaslRegressor

        regressor = DaslRegressor(ref.path, load_bfm(shared), ref.name)
    if can_mirror(regressor) if flip is None else flip:
        regressor = FlipAveraged(regressor)
    return regressor


__all__ = [
    "BACKENDS",
    "PEERS",
    "PEER_MB05",
    "SHIPPED",
    "Backend",
    "FlipAveraged",
    "Regressor",
    "RegressorRef",
    "can_mirror",
    "load_regressor",
    "resolve_regressor",
]
