"""A 4-channel regressor whose landmark map comes from dasl's 2D landmark detector
(:class:`dasl.detect.dasl_landmarks.DaslLandmarker`) instead of the regressor's own iterated prediction:
the paper's arrangement, where a strong 2D detector (FAN) draws the map (:class:`DetectorMap`); and,
further, the prediction fitted to the detector's 68 landmarks (:class:`DetectorFit`: a 3DMM fit that
starts at the prediction and pulls its coefficients towards it).

The detector runs once per crop; a mirror-averaged regressor inside gets the detector's landmarks
mirrored for its mirrored pass (:class:`dasl.regressors.flip.FlipAveraged`).
"""

from __future__ import annotations

import numpy as np

from dasl.detect.dasl_landmarks import DaslLandmarker
from dasl.errors import OptionError
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE
from dasl.morphable.pose import complete_depth_row
from dasl.regressors.base import Regressor


class DetectorMap(Regressor):
    """``inner`` with its map drawn from ``landmarker``'s landmarks (landmarks given to :meth:`predict`
    still win)."""

    def __init__(self, inner: Regressor, landmarker: DaslLandmarker) -> None:
        if not inner.uses_landmarks:
            raise OptionError(f"{inner.name} takes no landmark map (a 3-channel model): +det does not apply")
        self.inner, self.landmarker = inner, landmarker
        self.morphable, self.uses_landmarks = inner.morphable, True
        self.name = inner.name  # load_regressor names the whole stack from its spec

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        return self.predict_checked(crops, landmarks)[0]

    def predict_checked(self, crops: np.ndarray, landmarks: np.ndarray | None = None):
        if landmarks is None:
            landmarks = self.landmarker.crop_landmarks(np.asarray(crops))
        return self.inner.predict_checked(crops, landmarks)


class DetectorFit(DetectorMap):
    """:class:`DetectorMap`, then the 3DMM fitted to the detector's 68 landmarks from the prediction
    (``iterations`` Levenberg-Marquardt steps, coefficients' prior of weight ``prior`` centred on the
    prediction's: :meth:`dasl.fitting.LandmarkFitter.fit` with ``start``)."""

    def __init__(self, inner: Regressor, landmarker: DaslLandmarker, prior: float = 2.0, iterations: int = 2):
        super().__init__(inner, landmarker)
        self.fitter = LandmarkFitter(inner.morphable, prior=prior, iterations=iterations, marching=False)

    def predict_checked(self, crops: np.ndarray, landmarks: np.ndarray | None = None):
        if landmarks is None:
            landmarks = self.landmarker.crop_landmarks(np.asarray(crops))
        params, disagreement = self.inner.predict_checked(crops, landmarks)
        # crop-frame points fitted for an "image" of height 120 give parameters in the crop's model frame
        fitted = self.fitter.fit(landmarks, image_height=CROP_SIZE, start=params).params
        return complete_depth_row(fitted), disagreement
