"""Parameter regressors behind one interface, selectable by name."""

from __future__ import annotations

from dasl.paths import SharedData
from dasl.regressors.base import Regressor

PEERS = ("3ddfa-v2-mb05",)


def load_regressor(name: str, shared: SharedData | None = None) -> Regressor:
    """A regressor by name (``3ddfa-v2-mb05``)."""
    if name == "3ddfa-v2-mb05":
        from dasl.regressors.peer_3ddfa_v2 import Peer3DDFAv2

        return Peer3DDFAv2(shared)
    raise ValueError(f"unknown model {name!r}; known: {', '.join(PEERS)}")


__all__ = ["Regressor", "load_regressor", "PEERS"]
