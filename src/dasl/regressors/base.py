"""The interface every parameter regressor offers: 120x120 crops in, raw 62-d parameters out.

A regressor owns the 3DMM its parameters belong to (``morphable``), so callers decode its output without
knowing which model produced it: dasl's own networks use the project's BFM, the 3DDFA_V2 peer its own
68-landmark basis.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager

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
    #: the disagreement (:meth:`predict_checked`, crop pixels) above which a crop holds no face, measured
    #: for each kind of regressor that reports one (``scripts/confidence_threshold.py``); inf: no test
    max_disagreement: float = float("inf")

    @abstractmethod
    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """Raw parameters ``(N, 62)`` for RGB uint8 crops ``(N, 120, 120, 3)``.

        ``landmarks`` ``(N, 68, 2)`` in the crop frame feed regressors that take a landmark map.
        """

    def predict_checked(
        self, crops: np.ndarray, landmarks: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict` and, where the regressor can tell, a per-crop disagreement ``(N,)`` in crop
        pixels that is large when the crop holds no face (:class:`~dasl.regressors.flip.FlipAveraged`:
        its two predictions' landmarks apart); ``None`` otherwise."""
        return self.predict(crops, landmarks), None

    def predict_from(self, crops: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`predict_checked` for crops whose faces are known to be near the parameters ``start``
        ``(N, 62)`` (each in its crop's model frame: the last video frame's face, moved into this frame's
        crop). The prediction ignores them unless the regressor can start from them
        (:class:`~dasl.regressors.map_source.DetectorFit`: the fit without the regressor's pass)."""
        return self.predict_checked(crops)

    @contextmanager
    def detector_mirroring(self, on: bool) -> Iterator[None]:
        """Within the block the landmark detector's mirror averaging is ``on`` (regressors with a landmark
        detector, :class:`~dasl.regressors.map_source.DetectorMap`: video's tracked crops turn it off for
        speed); nothing changes for the others."""
        yield
