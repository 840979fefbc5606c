"""The landmark stage's interface: 120x120 crops (3DDFA protocol, RGB uint8 ``(N, 120, 120, 3)``) in, 68
crop-frame landmarks with their certainty out (:class:`LandmarkEstimate`).

A landmark source feeds a 4-channel regressor's landmark map and the 3DMM fit of the default pipeline
(:mod:`dasl.stages`); its certainty weighs each landmark in the fit and tells a face from a false box.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

#: crop pixels at which an uncertainty halves a landmark's weight (:meth:`LandmarkEstimate.weights`), chosen
#: on held-out faces (``python scripts/fit_weights.py``, docs/experiments.md)
FLIP_TAU = 1.0
SPREAD_TAU = 2.0


@dataclass
class LandmarkEstimate:
    """68 crop-frame landmarks ``points`` ``(N, 68, 2)`` and how sure the source is of each ``(N, 68)``, in
    crop pixels: ``spread``, the root variance of its heatmap about the point (zeros for a source that
    cannot tell), and, when mirror-averaged, ``flip_distance``, how far apart the crop's and the mirrored
    crop's landmark were (else ``None``)."""

    points: np.ndarray
    spread: np.ndarray
    flip_distance: np.ndarray | None = None

    @classmethod
    def given(cls, points: np.ndarray) -> LandmarkEstimate:
        """Landmarks given from outside, all equally sure."""
        points = np.asarray(points, dtype=np.float64)
        return cls(points, np.zeros(points.shape[:2]))

    @classmethod
    def empty(cls, mirrored: bool = False) -> LandmarkEstimate:
        return cls(np.zeros((0, 68, 2)), np.zeros((0, 68)), np.zeros((0, 68)) if mirrored else None)

    @classmethod
    def concatenate(cls, parts: list[LandmarkEstimate]) -> LandmarkEstimate:
        flips = [p.flip_distance for p in parts]
        return cls(
            np.concatenate([p.points for p in parts]),
            np.concatenate([p.spread for p in parts]),
            None if flips[0] is None else np.concatenate(flips),
        )

    def weights(self, spread_tau: float = SPREAD_TAU, flip_tau: float = FLIP_TAU) -> np.ndarray:
        """Per-landmark weights ``(N, 68)``, mean 1 over each face's landmarks: ``1 / (1 + (u / tau)^2)``
        for each uncertainty ``u`` there is, multiplied (a landmark half as sure as ``tau`` says counts
        about as much as a sure one)."""
        w = 1 / (1 + (self.spread / spread_tau) ** 2)
        if self.flip_distance is not None:
            w = w / (1 + (self.flip_distance / flip_tau) ** 2)
        return w / w.mean(-1, keepdims=True)

    def doubt(self) -> np.ndarray:
        """How unsure the source is that each crop holds a face ``(N,)``, crop pixels: the mean over the 68
        landmarks of the heatmap's spread and, when mirror-averaged, the mirrored crop's distance. Faces give
        small values, a crop of background large ones (:data:`dasl.stages.crops.MAX_DOUBT`)."""
        doubt = self.spread.mean(-1)
        if self.flip_distance is not None:
            doubt = doubt + self.flip_distance.mean(-1)
        return doubt


class Landmarker(ABC):
    """A landmark source on crops (see the module docstring)."""

    name: str
    #: whether :meth:`locate` averages with the mirrored crop (its :attr:`LandmarkEstimate.flip_distance`)
    flip: bool = False

    @abstractmethod
    def locate(self, crops: np.ndarray) -> LandmarkEstimate:
        """The landmarks of ``crops`` with their uncertainties."""

    def crop_landmarks(self, crops: np.ndarray) -> np.ndarray:
        """The landmarks ``(N, 68, 2)`` of ``crops`` (:meth:`locate` without the uncertainties)."""
        return self.locate(crops).points

    @contextmanager
    def mirroring(self, on: bool) -> Iterator[None]:
        """Within the block the source's mirror averaging is ``on`` where it has one (video's tracked crops
        turn it off for speed)."""
        before, self.flip = self.flip, on
        try:
            yield
        finally:
            self.flip = before
