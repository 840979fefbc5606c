"""What every backend of a dasl network shares: batching, the network's input rule, the landmark-map
passes (:func:`dasl.nets.inputs.predict_whitened`) and the decoding of its output.

A backend only says how to run the network on one input batch (:meth:`NetworkRegressor.forward`):
PyTorch (:mod:`dasl.regressors.dasl_model`) or ONNX Runtime (:mod:`dasl.regressors.onnx_model`).
"""

from __future__ import annotations

from abc import abstractmethod
from pathlib import Path

import numpy as np

from dasl.errors import BadInputError
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import complete_depth_row
from dasl.nets.inputs import normalise_images, predict_whitened
from dasl.nets.model_file import ModelMeta
from dasl.regressors.base import Regressor, display_name


def raw_params(whitened: np.ndarray, morphable: MorphableModel) -> np.ndarray:
    """Raw parameters ``(N, 62)`` of a dasl network's whitened output, the third row of ``f*R`` rebuilt
    from the first two (:func:`~dasl.morphable.pose.complete_depth_row`: stage 1 does not learn it from its
    2D-weighted errors; see docs/models.md)."""
    return complete_depth_row(morphable.unwhiten(np.asarray(whitened, np.float64)))


class NetworkRegressor(Regressor):
    """A dasl network behind :class:`Regressor`. 4-channel networks take 68 crop-frame landmarks for their
    map; without them they run ``passes`` passes, the first on an empty map, then on their own landmarks.
    ``name`` defaults to the file's :func:`~dasl.regressors.base.display_name`."""

    def __init__(
        self,
        path: str | Path,
        morphable: MorphableModel,
        name: str | None = None,
        passes: int = 2,
        batch_size: int = 64,
    ) -> None:
        path = Path(path)
        meta = self.open(path)
        mean, std = meta.statistics
        if not (np.allclose(mean, morphable.param_mean) and np.allclose(std, morphable.param_std)):
            raise BadInputError(path, "trained with other whitening statistics than this 3DMM")
        self.meta, self.morphable, self.name = meta, morphable, name or display_name(path)
        self.uses_landmarks = meta.uses_landmark_map
        self.passes, self.batch_size = passes, batch_size

    @abstractmethod
    def open(self, path: Path) -> ModelMeta:
        """Load the network of the file ``path``; return its metadata."""

    @abstractmethod
    def forward(self, inputs: np.ndarray) -> np.ndarray:
        """The network on ``(B, C, 120, 120)`` float32 inputs: whitened parameters ``(B, 62)`` (NumPy in
        and out, whatever the backend)."""

    def predict_whitened(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        out = []
        for s in range(0, len(crops), self.batch_size):
            images = normalise_images(crops[s : s + self.batch_size])
            points = None
            if landmarks is not None and self.uses_landmarks:
                points = to_subset18(np.asarray(landmarks[s : s + self.batch_size], np.float32))
            out.append(predict_whitened(self.forward, images, self.morphable, self.uses_landmarks, points, self.passes))
        return np.concatenate(out) if out else np.zeros((0, 62), np.float32)

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        return raw_params(self.predict_whitened(crops, landmarks), self.morphable)
