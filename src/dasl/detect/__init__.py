"""Face detectors and 2D landmarkers behind one small interface.

Boxes are ``(N, 5)`` ``[x0, y0, x1, y1, score]`` and landmarks ``(N, 68, 2)``, both in the image frame
(1-based pixels, see ``docs/conventions.md``). Images are RGB uint8 ``(H, W, 3)``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np


class FaceDetector(ABC):
    name: str

    @abstractmethod
    def detect(self, image: np.ndarray) -> np.ndarray:
        """Face boxes ``(N, 5)`` with scores, best first."""


class Landmarker(ABC):
    name: str

    @abstractmethod
    def landmarks(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """68 landmarks ``(N, 68, 2)`` for the faces in ``boxes`` ``(N, >=4)``."""
