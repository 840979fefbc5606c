"""What the AFLW2000-3D benchmark can measure: ground-truth references and regressors, behind one interface.

A candidate turns the benchmark's crops into 62-d parameters in each crop's model frame, plus the 3DMM
that decodes them. ``oracle`` and ``mean-shape`` read the ground truth (they prove the pipeline and give a
floor and a ceiling); every other candidate is a model string's stages (:class:`~dasl.stages.crops.CropStages`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dasl.eval.detection import found
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
    #: for the whole pipeline from the photo (``--crops detected``): photo ``i`` (RGB), and the ground-truth
    #: 68 landmarks in 0-based pixels ``(N, 68, 2)`` that say which detected face is the annotated one
    photo: Callable[[int], np.ndarray] | None = None
    labels_pixels: np.ndarray | None = None


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


class DetectedCandidate(StagesCandidate):
    """The whole photo pipeline (:meth:`dasl.Reconstructor.reconstruct`: the default face detector, the
    crop, the refinement crop, the stages) on each photo; of the faces returned, the one the annotated
    face's box finds (:func:`dasl.eval.detection.found`) with the landmarks nearest the labels. Its
    parameters are moved into the frame of the benchmark's ROI of the photo, so every metric reads them as
    a crop's; a photo where no face is found gives NaN parameters (a miss, counted by the benchmark)."""

    def __init__(self, rec, bfm: MorphableModel) -> None:
        super().__init__(rec.stages, bfm)
        self.rec = rec
        self.name = f"{rec.stages.name} (detected, {rec.detector_name})"

    def params(self, inputs: BenchmarkInputs) -> np.ndarray:
        out = np.full((len(inputs.roi), 62), np.nan)
        for i in range(len(inputs.roi)):
            truth = inputs.labels_pixels[i]
            faces = [f for f in self.rec.reconstruct(inputs.photo(i)) if found(f.box[None], truth)]
            if faces:
                face = min(faces, key=lambda f: np.linalg.norm(f.landmarks_2d - truth, axis=-1).mean())
                out[i] = image_to_crop_params(face.image_params[None], inputs.roi[i : i + 1], inputs.image_height)[0]
        return out


REFERENCES = {"oracle": Oracle, "mean-shape": MeanShape}


def make_candidate(name: str, bfm: MorphableModel, shared) -> Candidate:
    """A candidate by name: ``oracle``, ``mean-shape``, or any model string (:mod:`dasl.stages.spec`),
    mirror-averaged only when it says ``+flip``."""
    if name in REFERENCES:
        return REFERENCES[name](bfm)
    return StagesCandidate(load_stages(name, shared, flip=False), bfm)
