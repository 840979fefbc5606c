"""A 4-channel regressor whose landmark map comes from dasl's 2D landmark detector
(:class:`dasl.detect.dasl_landmarks.DaslLandmarker`) instead of the regressor's own iterated prediction:
the paper's arrangement, where a strong 2D detector (FAN) draws the map (:class:`DetectorMap`); and,
further, the prediction fitted to the detector's 68 landmarks (:class:`DetectorFit`: a 3DMM fit that
starts at the prediction and pulls its coefficients towards it).

The detector runs once per crop; a mirror-averaged regressor inside gets the detector's landmarks
mirrored for its mirrored pass (:class:`dasl.regressors.flip.FlipAveraged`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np

from dasl.detect.dasl_landmarks import DaslLandmarker, LandmarkEstimate
from dasl.errors import OptionError
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, crop_landmarks
from dasl.morphable.pose import complete_depth_row
from dasl.regressors.base import Regressor

#: :class:`DetectorFit`'s disagreement above which a crop holds no face: held-out faces above it 0.2%
#: (AFLW) and 1.3% (AFLW profiles; 9.2% above 6), background windows below it about 16%
#: (``scripts/confidence_threshold.py``, docs/product.md)
FIT_MAX_DISAGREEMENT = 12.0


class DetectorMap(Regressor):
    """``inner`` with its map drawn from ``landmarker``'s landmarks (landmarks given to :meth:`predict`
    still win)."""

    def __init__(self, inner: Regressor, landmarker: DaslLandmarker) -> None:
        if not inner.uses_landmarks:
            raise OptionError(f"{inner.name} takes no landmark map (a 3-channel model): +det does not apply")
        self.inner, self.landmarker = inner, landmarker
        self.morphable, self.uses_landmarks = inner.morphable, True
        self.max_disagreement = inner.max_disagreement  # the inner regressor's disagreement, passed on
        self.name = inner.name  # load_regressor names the whole stack from its spec

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        return self.predict_checked(crops, landmarks)[0]

    @contextmanager
    def detector_mirroring(self, on: bool) -> Iterator[None]:
        before, self.landmarker.flip = self.landmarker.flip, on
        try:
            yield
        finally:
            self.landmarker.flip = before

    def predict_checked(self, crops: np.ndarray, landmarks: np.ndarray | None = None):
        if landmarks is None:
            landmarks = self.landmarker.crop_landmarks(np.asarray(crops))
        return self.inner.predict_checked(crops, landmarks)


class DetectorFit(DetectorMap):
    """:class:`DetectorMap`, then the 3DMM fitted to the detector's 68 landmarks from the prediction
    (``iterations`` Levenberg-Marquardt steps, coefficients' prior of weight ``prior`` centred on the
    prediction's: :meth:`dasl.fitting.LandmarkFitter.fit` with ``start``). Each landmark counts as much as
    the detector is sure of it (:meth:`dasl.detect.dasl_landmarks.LandmarkEstimate.weights`: its heatmap's
    spread and, mirror-averaged, how far the mirrored crop put it; ``weighted=False``: all alike).

    Its disagreement (:meth:`predict_checked`) is how far apart the two independent networks put the
    68 landmarks: the regressor's before the fit and the detector's (mean distance, crop pixels). Two
    networks that agree have found a face; on a crop of background they do not
    (:data:`FIT_MAX_DISAGREEMENT`, measured with ``scripts/confidence_threshold.py``)."""

    def __init__(
        self,
        inner: Regressor,
        landmarker: DaslLandmarker,
        prior: float = 2.0,
        iterations: int = 2,
        weighted: bool = True,
    ):
        super().__init__(inner, landmarker)
        self.max_disagreement, self.weighted = FIT_MAX_DISAGREEMENT, weighted
        self.fitter = LandmarkFitter(inner.morphable, prior=prior, iterations=iterations, marching=False)

    def predict_checked(self, crops: np.ndarray, landmarks: np.ndarray | None = None):
        if landmarks is not None:  # given landmarks: all equally sure
            found = LandmarkEstimate(np.asarray(landmarks, dtype=np.float64), np.zeros(np.shape(landmarks)[:2]))
        else:
            found = self.landmarker.locate(np.asarray(crops))
        return self.fit_landmarks(found, self.inner.predict(crops, found.points))

    def predict_from(self, crops: np.ndarray, start: np.ndarray):
        """The fit to the detector's landmarks from ``start`` instead of the regressor's pass (about a third
        of the time saved; for tracked video faces, whose last frame gives the start). The disagreement is
        then the detector's landmarks against ``start``'s."""
        found = self.landmarker.locate(np.asarray(crops))
        return self.fit_landmarks(found, np.asarray(start, dtype=np.float64))

    def fit_landmarks(self, found: LandmarkEstimate, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The fit to the detector's landmarks ``found`` from the parameters ``start`` ``(N, 62)``, each
        landmark weighed by ``found``'s certainty (unless ``weighted`` is off), and the disagreement."""
        apart = np.linalg.norm(crop_landmarks(self.morphable, start)[..., :2] - found.points, axis=-1).mean(-1)
        weights = found.weights() if self.weighted else None
        # crop-frame points fitted for an "image" of height 120 give parameters in the crop's model frame
        fitted = self.fitter.fit(found.points, weights, image_height=CROP_SIZE, start=start).params
        return complete_depth_row(fitted), apart
