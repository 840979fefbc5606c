"""What the AFLW2000-3D benchmark can measure: ground-truth references and regressors, behind one interface.

A candidate turns the benchmark's crops into 62-d parameters in each crop's model frame, plus the 3DMM
that decodes them. ``oracle`` and ``mean-shape`` read the ground truth (they prove the pipeline and give a
floor and a ceiling); every other candidate is a model string's stages (:class:`~dasl.stages.crops.CropStages`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from dasl.geometry.params import image_to_crop_params
from dasl.morphable import layout
from dasl.morphable.model import MorphableModel
from dasl.stages import CropStages, load_stages


@dataclass
class BenchmarkInputs:
    """What a candidate may look at: RGB crops ``(N, 120, 120, 3)``, their ROI boxes ``(N, 4)`` and, for
    the references only, the ground-truth parameters in the image model frame ``(N, 62)``."""

    crops: np.ndarray
    roi: np.ndarray
    image_height: float
    gt_image_params: np.ndarray
    #: 68 crop-frame landmarks ``(N, 68, 2)`` for models that take a landmark map (``None``: their own)
    landmarks: np.ndarray | None = None


class Candidate(ABC):
    name: str
    #: the 3DMM that decodes this candidate's parameters into the 68 landmarks
    morphable: MorphableModel
    #: the dense 3DMM for mesh metrics, and whether it is the candidate's own
    dense_morphable: MorphableModel
    dense_is_own: bool = True

    @abstractmethod
    def params(self, inputs: BenchmarkInputs) -> np.ndarray:
        """``(N, 62)`` raw parameters in the crops' model frame."""


class Oracle(Candidate):
    """Ground-truth parameters truncated to 40 identity / 10 expression coefficients."""

    name = "oracle"

    def __init__(self, bfm: MorphableModel) -> None:
        self.morphable = bfm
        self.dense_morphable = bfm

    def params(self, inputs: BenchmarkInputs) -> np.ndarray:
        return image_to_crop_params(inputs.gt_image_params, inputs.roi, inputs.image_height)


class MeanShape(Oracle):
    """Ground-truth pose with the mean face (all coefficients zero)."""

    name = "mean-shape"

    def params(self, inputs: BenchmarkInputs) -> np.ndarray:
        p = super().params(inputs)
        p[:, layout.SHAPE.start :] = 0.0
        return p


class StagesCandidate(Candidate):
    """A model string's stages on the crops."""

    def __init__(self, stages: CropStages, bfm: MorphableModel) -> None:
        self.stages = stages
        self.name = stages.name
        self.morphable = stages.morphable
        # a landmark-only peer's parameters share the BFM's layout; its dense mesh is decoded with the
        # project's BFM, an approximation that the report flags
        self.dense_is_own = stages.morphable.keypoints is not None
        self.dense_morphable = stages.morphable if self.dense_is_own else bfm

    def params(self, inputs: BenchmarkInputs) -> np.ndarray:
        return self.stages.predict(inputs.crops, inputs.landmarks)


REFERENCES = {"oracle": Oracle, "mean-shape": MeanShape}


def make_candidate(name: str, bfm: MorphableModel, shared) -> Candidate:
    """A candidate by name: ``oracle``, ``mean-shape``, or any model string (:mod:`dasl.stages.spec`),
    mirror-averaged only when it says ``+flip``."""
    if name in REFERENCES:
        return REFERENCES[name](bfm)
    return StagesCandidate(load_stages(name, shared, flip=False), bfm)
