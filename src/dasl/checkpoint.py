"""Checkpoints: written atomically, loaded with a clear error, self-describing.

A checkpoint holds everything to resume a run exactly (networks, optimisers, scheduler, counters of the
data streams, random states) and everything to use the regressor alone: its backbone name, input
channels and the whitening statistics its outputs are relative to (``meta``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path

FORMAT = "dasl-checkpoint-1"


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save({"format": FORMAT, **state}, tmp)
    return path


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "dasl checkpoint")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise BadInputError(path, f"not a readable checkpoint ({exc})") from exc
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise BadInputError(path, "not a dasl checkpoint")
    return state
