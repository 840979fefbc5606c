"""The interface every parameter regressor offers: 120x120 crops in, raw 62-d parameters out.

A regressor owns the 3DMM its parameters belong to (``morphable``), so callers decode its output without
knowing which model produced it: dasl's own networks use the project's BFM, the 3DDFA_V2 peer its own
68-landmark basis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from dasl.morphable.model import MorphableModel


class Regressor(ABC):
    """Maps 3DDFA-protocol crops to 62 parameters in the crops' model frame."""

    #: short name used in reports and on the command line
    name: str
    #: the 3DMM that decodes the parameters (may hold only the 68 landmarks)
    morphable: MorphableModel
    #: whether the regressor uses 68 2D landmarks as an input (the landmark map)
    uses_landmarks: bool = False

    @abstractmethod
    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """Raw parameters ``(N, 62)`` for RGB uint8 crops ``(N, 120, 120, 3)``.

        ``landmarks`` ``(N, 68, 2)`` in the crop frame feed regressors that take a landmark map.
        """
