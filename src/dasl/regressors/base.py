"""The regressor stage's interface: 120x120 crops (and, for 4-channel models, 68 landmarks for the landmark
map) in, raw 62-d parameters out, nothing else (:mod:`dasl.stages` composes it with a landmark source and
the fit).

A regressor owns the 3DMM its parameters belong to (``morphable``), so callers decode its output without
knowing which model produced it: dasl's own networks use the project's BFM, the 3DDFA_V2 peer its own
68-landmark basis. Model files are named in reports by :func:`display_name`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path

import numpy as np

from dasl.morphable.model import MorphableModel

#: shipped models: name -> file in ``dasl/weights``
SHIPPED = {
    "dasl-light": "dasl_light.safetensors",
    "dasl-resnet50": "dasl_resnet50.safetensors",
}
PEER_MB05 = "3ddfa-v2-mb05"
#: peer regressors by name (for side-by-side baselines)
PEERS = (PEER_MB05,)


def run_of_checkpoint(path: Path) -> str | None:
    """The run of a training checkpoint ``runs/<run>/checkpoints/<file>.pt``, else ``None``."""
    return path.parent.parent.name if path.parent.name == "checkpoints" else None


def display_name(path: Path) -> str:
    """A model file's name in reports: ``<run>/<stem>`` for a training checkpoint, else the file's stem."""
    run = run_of_checkpoint(path)
    return f"{run}/{path.stem}" if run else path.stem


class Regressor(ABC):
    """Maps 3DDFA-protocol crops to 62 parameters in the crops' model frame."""

    #: short name used in reports and on the command line
    name: str
    #: the 3DMM that decodes the parameters (may hold only the 68 landmarks)
    morphable: MorphableModel
    #: whether the regressor takes 68 2D landmarks as an input (the landmark map of a 4-channel model)
    uses_landmarks: bool = False

    @abstractmethod
    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """Raw parameters ``(N, 62)`` for RGB uint8 crops ``(N, 120, 120, 3)``.

        ``landmarks`` ``(N, 68, 2)`` in the crop frame feed regressors that take a landmark map (a
        4-channel model without them iterates on its own prediction).
        """
