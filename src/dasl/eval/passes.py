"""Where a 4-channel model's landmark map should come from, measured on held-out training faces (never
AFLW2000-3D): the 68-point NME after each pass, for each source of the first pass's map.

Sources: ``empty`` (the first pass on an empty map: what ``self`` iterates from), ``detector`` (dasl's
landmark detector), ``dlib`` and, as a diagnostic bound that is never a result, ``ground-truth`` (the
faces' own landmarks drawn into the map). Pass ``k > 1`` always takes the map of pass ``k - 1``'s own
landmarks, so "self, 2 passes" is the ``empty`` row's pass 2. Alongside: the detector's own 68-point NME
by |yaw| bin next to the regressor's first pass (empty map) and its pass on the detector's map.
"""

from __future__ import annotations

import numpy as np

from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers import Landmarker
from dasl.landmarkers.dlib68 import DlibCropLandmarker
from dasl.morphable.landmarks import to_subset18
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import decompose
from dasl.nets.inputs import normalise_images, predict_passes
from dasl.regressors.network import NetworkRegressor, raw_params


def faces_yaw(params: np.ndarray) -> np.ndarray:
    """Yaw (degrees) of crop-frame parameters ``(N, 62)``."""
    return decompose(params).angles[:, 0]


def pass_errors(
    regressor: NetworkRegressor,
    crops: np.ndarray,
    gt_params: np.ndarray,
    gt_model: MorphableModel,
    sources: dict[str, np.ndarray | None],
    passes: int = 3,
    batch: int = 64,
) -> dict[str, np.ndarray]:
    """NME ``(passes, N)`` of every pass for each map source (68 crop-frame landmarks ``(N, 68, 2)``, or
    ``None`` for an empty first map)."""
    gt = crop_landmarks(gt_model, gt_params)[..., :2]
    norm = box_size(gt)
    out = {}
    for name, marks in sources.items():
        per_pass = [[] for _ in range(passes)]
        for s in range(0, len(crops), batch):
            images = normalise_images(np.ascontiguousarray(crops[s : s + batch]))
            points = None if marks is None else to_subset18(marks[s : s + batch]).astype(np.float32)
            for k, whitened in enumerate(
                predict_passes(regressor.forward, images, regressor.morphable, points, passes)
            ):
                raw = raw_params(whitened, regressor.morphable)
                pred = crop_landmarks(regressor.morphable, raw)[..., :2]
                per_pass[k].append(nme(pred, gt[s : s + batch], norm[s : s + batch]))
        out[name] = np.stack([np.concatenate(p) for p in per_pass])
    return out


def map_sources(
    crops: np.ndarray,
    gt_params: np.ndarray,
    gt_model: MorphableModel,
    landmarker: Landmarker | None,
    with_dlib: bool,
) -> dict[str, np.ndarray | None]:
    """The first-pass landmarks of every source (see the module docstring)."""
    sources: dict[str, np.ndarray | None] = {"empty": None}
    if landmarker is not None:
        sources["detector"] = landmarker.crop_landmarks(crops)
    if with_dlib:
        sources["dlib"] = DlibCropLandmarker().crop_landmarks(crops)
    sources["ground-truth"] = crop_landmarks(gt_model, gt_params)[..., :2]
    return sources


def detector_errors(marks: np.ndarray, gt_params: np.ndarray, gt_model: MorphableModel) -> np.ndarray:
    """The detector's own 68-point NME per face."""
    gt = crop_landmarks(gt_model, gt_params)[..., :2]
    return nme(marks, gt, box_size(gt))
