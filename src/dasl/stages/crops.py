"""The stages after the crop, composed once: 2D landmarks (a landmark source, with their certainty) ->
landmark map -> regressor pass (crop + map -> 62 parameters) -> 3DMM fit to the landmarks.

:class:`CropStages` is what the API (photos), the tracker (video), the benchmarks and the scripts run on
120x120 crops; each stage is its own object (:attr:`CropStages.landmarker`, :attr:`CropStages.regressor`,
:attr:`CropStages.fitter`), any of them may be absent:

* no landmark source: a 4-channel regressor iterates on its own prediction (the paper's inference);
* a landmark source without the fit (``+det``): the map is drawn from the source's landmarks;
* with the fit (``+fit``, the default): the 3DMM is then fitted to the source's 68 landmarks, starting at
  (and held near) the regressor's prediction, each landmark weighed by the source's certainty.

Every run also tells how sure the stages are that a crop holds a face (:class:`CropResult`): the
regressor's landmarks against the source's (two independent networks agree on a face, not on
background), the source's own doubt (:meth:`~dasl.landmarkers.base.LandmarkEstimate.doubt`), or a
mirror-averaged regressor's two predictions apart.

Per-stage wall time is summed in :attr:`CropStages.seconds` (``dasl reconstruct --profile``).
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, crop_landmarks
from dasl.landmarkers import Landmarker, LandmarkEstimate
from dasl.morphable.pose import complete_depth_row
from dasl.regressors import FlipAveraged, Regressor

#: the regressor's and the landmark source's 68 landmarks apart (mean, crop pixels) above which a crop
#: holds no face: held-out faces above it 0.2% (AFLW) and 1.3% (AFLW profiles; 9.2% above 6), background
#: windows below it about 16% (``scripts/confidence_threshold.py``, docs/product.md)
FIT_MAX_DISAGREEMENT = 12.0
#: a mirror-averaged regressor's two predictions apart above which a crop holds no face: held-out faces
#: above it 0.2% HELEN/AFW, 0.4% AFLW, 9.0% AFLW profiles; background windows below it 9%
FLIP_MAX_DISAGREEMENT = 6.0
#: the landmark source's doubt (:meth:`~dasl.landmarkers.base.LandmarkEstimate.doubt`, crop pixels) above
#: which a crop holds no face, mirror-averaged (its heatmaps' spread and the mirrored crop's distance) and
#: not (the spread alone) (``scripts/confidence_threshold.py``, docs/product.md)
MAX_DOUBT = 10.0
MAX_DOUBT_SINGLE = 8.0


@dataclass
class CropResult:
    """What the stages give for crops ``(N, ...)``: raw ``params`` ``(N, 62)`` in each crop's model frame,
    the landmark source's ``landmarks`` (``None`` without one), and ``disagreement`` ``(N,)`` in crop
    pixels, large where a crop holds no face (NaN where the stages cannot tell; see the module
    docstring)."""

    params: np.ndarray
    landmarks: LandmarkEstimate | None
    disagreement: np.ndarray

    @property
    def doubt(self) -> np.ndarray:
        """The landmark source's doubt ``(N,)`` (NaN without a source)."""
        if self.landmarks is None:
            return np.full(len(self.params), np.nan)
        return self.landmarks.doubt()


class CropStages:
    """Landmark source, regressor and fit on crops (see the module docstring). ``name``: the configuration's
    name in reports (its model string)."""

    def __init__(
        self,
        regressor: Regressor,
        landmarker: Landmarker | None = None,
        fitter: LandmarkFitter | None = None,
        weighted: bool = True,
        name: str | None = None,
    ) -> None:
        self.regressor, self.landmarker, self.fitter, self.weighted = regressor, landmarker, fitter, weighted
        self.name = name or regressor.name
        self.morphable = regressor.morphable
        self.seconds: dict[str, float] = defaultdict(float)
        if fitter is not None and landmarker is None:
            raise ValueError("the fit needs a landmark source")
        if fitter is not None:
            self.max_disagreement = FIT_MAX_DISAGREEMENT
        elif isinstance(regressor, FlipAveraged) and landmarker is None:
            self.max_disagreement = FLIP_MAX_DISAGREEMENT
        else:
            self.max_disagreement = float("inf")

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        """Adds the block's wall time to :attr:`seconds` under ``stage`` (the photo's stages count there too:
        face boxes, crop, reading and writing)."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] += time.perf_counter() - started

    @contextmanager
    def mirroring(self, on: bool) -> Iterator[None]:
        """Within the block the landmark source's mirror averaging is ``on`` (video's tracked crops)."""
        if self.landmarker is None:
            yield
            return
        with self.landmarker.mirroring(on):
            yield

    def locate(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> LandmarkEstimate | None:
        """The landmark stage: ``landmarks`` ``(N, 68, 2)`` given (crop frame) win; else the source's."""
        if landmarks is not None:
            return LandmarkEstimate.given(landmarks)
        if self.landmarker is None:
            return None
        with self.timed("landmarks"):
            return self.landmarker.locate(crops)

    def regress(self, crops: np.ndarray, found: LandmarkEstimate | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The regressor stage on the map of ``found``'s landmarks (a 4-channel model), and a mirror-averaged
        regressor's two predictions apart (``None`` for others)."""
        points = None if found is None or not self.regressor.uses_landmarks else found.points
        with self.timed("regressor"):
            if isinstance(self.regressor, FlipAveraged):
                return self.regressor.predict_and_apart(crops, points)
            return self.regressor.predict(crops, points), None

    def fit(self, found: LandmarkEstimate, start: np.ndarray) -> np.ndarray:
        """The fit stage: the 3DMM fitted to ``found``'s landmarks from ``start`` ``(N, 62)`` (crop model
        frame), each landmark weighed by its certainty unless ``weighted`` is off."""
        weights = found.weights() if self.weighted else None
        with self.timed("fit"):
            # crop-frame points fitted for an "image" of height 120 give parameters in the crop's model frame
            fitted = self.fitter.fit(found.points, weights, image_height=CROP_SIZE, start=start).params
        return complete_depth_row(fitted)

    def run(
        self, crops: np.ndarray, landmarks: np.ndarray | None = None, start: np.ndarray | None = None
    ) -> CropResult:
        """Every stage on RGB uint8 crops ``(N, 120, 120, 3)``. ``landmarks`` ``(N, 68, 2)`` (crop frame): given
        landmarks instead of the source's. ``start`` ``(N, 62)``: parameters known to be near the faces (a
        tracked face's last frame, in this crop's model frame): with a fit, the regressor's pass is skipped
        and the fit starts there."""
        crops = np.asarray(crops)
        found = self.locate(crops, landmarks)
        if start is not None and self.fitter is not None:
            params, apart = np.asarray(start, dtype=np.float64), None
        else:
            params, apart = self.regress(crops, found)
        disagreement = np.full(len(crops), np.nan) if apart is None else apart
        if found is not None and (self.fitter is not None or apart is None):
            own = crop_landmarks(self.morphable, params)[..., :2]
            disagreement = np.linalg.norm(own - found.points, axis=-1).mean(-1)
        if self.fitter is not None:
            params = self.fit(found, params)
        return CropResult(params, found, disagreement)

    def holds_face(self, result: CropResult) -> np.ndarray:
        """Which crops ``(N,)`` pass the confidence test: the disagreement at most :attr:`max_disagreement` and
        the landmark source's doubt low enough (:meth:`doubt_passes`; NaN, where the stages cannot tell,
        passes)."""
        return ~(result.disagreement > self.max_disagreement) & self.doubt_passes(result)

    @staticmethod
    def doubt_passes(result: CropResult) -> np.ndarray:
        """Which crops ``(N,)`` the landmark source doubts little enough to hold a face: :data:`MAX_DOUBT`
        mirror-averaged, :data:`MAX_DOUBT_SINGLE` not (no source: all)."""
        if result.landmarks is None:
            return np.ones(len(result.params), dtype=bool)
        limit = MAX_DOUBT if result.landmarks.flip_distance is not None else MAX_DOUBT_SINGLE
        return ~(result.doubt > limit)

    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        """:meth:`run`'s parameters only."""
        return self.run(crops, landmarks).params
