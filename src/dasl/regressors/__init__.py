"""Parameter regressors behind one interface, selectable by name."""

from __future__ import annotations

from pathlib import Path

from dasl.paths import SharedData
from dasl.regressors.base import Regressor
from dasl.regressors.flip import SUFFIX, FlipAveraged, can_mirror

PEERS = ("3ddfa-v2-mb05",)


def load_regressor(name: str | Path, shared: SharedData | None = None) -> Regressor:
    """A regressor by name: a shipped dasl model (``default``, ``dasl-light``, ``dasl-resnet50``), the
    peer ``3ddfa-v2-mb05``, or the path of a dasl model file or training checkpoint. A name ending in
    ``+flip`` (``default+flip``) is that regressor averaged with its mirrored prediction
    (:class:`~dasl.regressors.flip.FlipAveraged`)."""
    if isinstance(name, str) and name.endswith(SUFFIX):
        return FlipAveraged(load_regressor(name[: -len(SUFFIX)], shared))
    if name == "3ddfa-v2-mb05":
        from dasl.regressors.peer_3ddfa_v2 import Peer3DDFAv2

        return Peer3DDFAv2(shared)
    from dasl.morphable.model import load_bfm
    from dasl.regressors.dasl_model import DaslRegressor, resolve_model_path

    regressor = DaslRegressor(resolve_model_path(name), load_bfm(shared))
    path = Path(str(name))
    if not path.is_file():
        regressor.name = str(name)
    elif path.parent.name == "checkpoints":  # runs/<run>/checkpoints/<file>.pt: name it by its run
        regressor.name = f"{path.parent.parent.name}/{path.stem}"
    else:
        regressor.name = path.stem
    return regressor


__all__ = ["Regressor", "load_regressor", "PEERS", "FlipAveraged", "can_mirror"]
