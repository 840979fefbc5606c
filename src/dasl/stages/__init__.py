"""Inference as explicit stages, composed once: face boxes (:mod:`dasl.detect`) -> crop
(:mod:`dasl.geometry.crop`, upright by quarter turns: :mod:`dasl.geometry.turns`) -> 2D landmarks
(:mod:`dasl.landmarkers`) -> landmark map and regressor pass (:mod:`dasl.regressors`) -> 3DMM fit
(:mod:`dasl.fitting`). :class:`~dasl.stages.crops.CropStages` runs the stages after the crop; a model string
(:mod:`dasl.stages.spec`) says which stages and models (:func:`load_stages`).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dasl.errors import OptionError
from dasl.fitting import LandmarkFitter
from dasl.landmarkers import SHIPPED_NAME, make_landmarker
from dasl.paths import SharedData
from dasl.regressors import Backend, FlipAveraged, load_regressor
from dasl.stages.crops import CropResult, CropStages
from dasl.stages.spec import MapSource, ModelSpec, parse_model

#: the fit of the default configuration: Levenberg-Marquardt steps, the weight of the coefficients' prior
#: centred on the regressor's prediction (chosen on held-out faces, ``scripts/fit_settings.py``) and the
#: damping trials per step (4; one trial is as good on frontal held-out faces but leaves turned ones
#: unfitted: held-out AFLW profiles 2.214 -> 2.414, docs/experiments.md "Damping trials of the fit")
FIT_ITERATIONS, FIT_PRIOR, FIT_TRIALS = 2, 2.0, 4


def load_stages(
    model: str | Path | ModelSpec,
    shared: SharedData | str | Path | None = None,
    backend: Backend = "auto",
    flip: bool | None = False,
    map_source: MapSource | None = None,
    landmark_model: str | Path = SHIPPED_NAME,
) -> CropStages:
    """The stages a model string (or a parsed :class:`ModelSpec`) names, on ``backend``. ``flip`` is the
    regressor's mirror averaging when the string has no ``+flip`` suffix: off by default here (a benchmark
    row is what its name says), ``None`` for "on where the model can be mirrored" (what
    :class:`dasl.Reconstructor` does). ``map_source`` where the string says none (``self``, ``dlib``,
    ``detector``); ``landmark_model``: the detector file of ``detector`` (dasl-landmarks)."""
    spec = model if isinstance(model, ModelSpec) else parse_model(model, backend, flip, map_source)
    shared = shared if isinstance(shared, SharedData) else SharedData.find(shared)
    regressor = load_regressor(spec.regressor, shared, flip=spec.mirror)
    landmarker = None
    if spec.map_source != "self":
        if not regressor.uses_landmarks and not spec.fit:
            raise OptionError(f"{regressor.name} takes no landmark map (a 3-channel model): +det does not apply")
        name = "dlib" if spec.map_source == "dlib" else landmark_model
        backend = "onnx" if spec.backend == "onnx" else "torch"
        landmarker = make_landmarker(name, backend, spec.detector_flip, int8=spec.int8)
    fitter = None
    if spec.fit:
        fitter = LandmarkFitter(
            regressor.morphable, prior=FIT_PRIOR, iterations=FIT_ITERATIONS, marching=False, trials=FIT_TRIALS
        )
    label = replace(spec, flip=isinstance(regressor, FlipAveraged)).label
    return CropStages(regressor, landmarker, fitter, name=label)


__all__ = ["CropResult", "CropStages", "ModelSpec", "load_stages", "parse_model"]
