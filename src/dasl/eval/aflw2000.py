"""The AFLW2000-3D benchmark (3DDFA protocol) with its variants, several candidates in one run.

Protocol (``docs/benchmarks.md``): each candidate regresses parameters from 120x120 crops; its 68
landmarks are mapped from the crop frame back to the photo with the crop's ROI box and compared with the
ground truth. Reported per |yaw| bin (0-30, 30-60, 60-90 degrees), the mean of the bins and the mean over
all images.

Metrics:

* ``2d``: 68-point 2D NME (the headline figure).
* ``3d``: 68-point 3D NME, depth centred per face.
* ``pose``: mean absolute yaw / pitch / roll error (degrees) against ``Pose_Para``, on the images whose
  ground-truth angles all lie within [-99, 99] degrees; beside them the rotation error (the angle of the
  rotation between prediction and ground truth), which does not depend on the Euler split.
* ``dense``: NME over the face-region vertices (``noneck_vertices``, 38,365 points) against the
  ground-truth mesh rebuilt from the truncated ground-truth parameters, in 2D and in 3D (depth centred),
  normalised like the 68-point NME.
* ``icp``: 2DASL's Fig. 7 reconstruction error: the face-region cloud rigidly aligned to the ground truth's
  by ICP, then nearest-point distances (:mod:`dasl.eval.icp`), normalised like the 68-point NME.
* ``dense-dsfnet``: DSFNet's dense 3D figure: the 3D distance over the face-region vertices by index (depth
  centred) over ``sqrt(w * h)`` of the ground-truth 68 landmarks' 2D box, its headline the mean over all
  images (the ``all`` column; the bins beside it). It is the ``dense`` 3D error under its published name.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from dasl.data.aflw2000 import AFLW2000, IMAGE_SIZE
from dasl.errors import OptionError
from dasl.eval import metrics
from dasl.eval.candidates import BenchmarkInputs, Candidate
from dasl.eval.icp import ICP_EVERY, icp_errors
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import CROP_FRAME_OFFSETS, crop_to_image, flip_y, image_to_pixels, model_to_crop
from dasl.landmarkers.dlib68 import DlibCropLandmarker
from dasl.morphable.landmarks import to_aflw18
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import decompose, rotation_from_euler

CropSource = Literal["stored", "cut", "own-roi", "detected"]
LandmarkSource = Literal["self", "dlib", "2dasl"]
#: "human": the 18 points AFLW annotates, read from the 68 as AFLW marks them (``to_aflw18``), against AFLW's
#: own annotated points of the photos (people's, where the 68-point labels are a 3DMM fit), visible points
#: only, normalised like "2d"
METRICS = ("2d", "3d", "pose", "dense", "human", "icp", "dense-dsfnet")
#: what a run scores unless told: all but ICP (two to three minutes a model) and DSFNet's name for dense 3D
DEFAULT_METRICS = ("2d", "3d", "pose", "dense", "human")
#: the metrics scored on the dense face-region meshes
DENSE_METRICS = ("dense", "icp", "dense-dsfnet")
#: the per-image errors summarised by yaw bin
PER_IMAGE_KEYS = ("nme_2d", "nme_human", "nme_3d", "dense_2d", "dense_3d", "icp", "dense_dsfnet")
POSE_LIMIT_DEG = 99.0
_DENSE_CHUNK = 100


@dataclass
class Settings:
    image_list: str = "aflw2000"
    labels: str = "original"
    yaw: str = "original"
    crops: CropSource = "stored"
    metrics: tuple[str, ...] = DEFAULT_METRICS
    landmarks: LandmarkSource = "self"
    #: the crop frame the candidates' points are read in: "3ddfa" (dasl's), or "3ddfa-v2"
    #: (:data:`dasl.geometry.frames.CROP_FRAME_OFFSETS`)
    frame: str = "3ddfa"


@dataclass
class CandidateResult:
    name: str
    seconds: float
    per_image: dict[str, np.ndarray] = field(default_factory=dict)
    summary: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def benchmark_inputs(data: AFLW2000, crops: CropSource) -> BenchmarkInputs:
    """Crops and ROI boxes for a crop source.

    ``stored``: the benchmark's own crops and boxes. ``cut``: the stored boxes, cut from the photos by
    :func:`~dasl.geometry.crop.crop_image`. ``own-roi``: square boxes from the ground-truth landmarks by
    :func:`~dasl.geometry.crop.roi_from_landmarks`, not clipped to the photo. ``detected``: the whole
    pipeline from the photos (:class:`~dasl.eval.candidates.DetectedCandidate`; the stored boxes only
    give the frame its parameters are read in).
    """
    if crops == "detected":
        return BenchmarkInputs(
            data.stored_crops(),
            data.roi,
            float(IMAGE_SIZE),
            data.image_params,
            None,
            data.photo,
            image_to_pixels(data.landmarks_2d),
        )
    if crops == "stored":
        roi, images = data.roi, data.stored_crops()
    else:
        roi = data.roi if crops == "cut" else roi_from_landmarks(data.landmarks_3d)
        images = np.stack([crop_image(data.photo(i), roi[i]) for i in range(len(data))])
    return BenchmarkInputs(images, roi, float(IMAGE_SIZE), data.image_params)


def map_landmarks(data: AFLW2000, inputs: BenchmarkInputs, source: LandmarkSource) -> np.ndarray | None:
    """68 crop-frame landmarks for the landmark map of 4-channel models.

    ``self``: none (the models iterate on their own prediction). ``dlib``: dlib's detector cascade and
    68-point predictor on each crop. ``2dasl``: the points 2DASL's authors detected on the benchmark's
    crops (``detect_testData.txt``; their map marks pixel ``floor(x)``, so they are crop-frame values;
    the two images it lacks get an empty map).
    """
    if source == "self":
        return None
    if source == "2dasl":
        path = data.shared.root / "data/aflw2000-3d/protocol/detect_testData.txt"
        rows = {}
        for line in path.read_text().splitlines():
            name, *values = line.strip().split(",")
            if len(values) == 136:  # two of the 2000 images have no detection (the AFLW1998 list omits them)
                rows[name] = np.array(values, dtype=np.float64).reshape(68, 2)
        missing = np.full((68, 2), np.nan)  # an empty map
        return np.stack([rows.get(n, missing) for n in data.names])
    return DlibCropLandmarker().crop_landmarks(inputs.crops)


def predicted_landmarks(candidate: Candidate, params: np.ndarray, roi: np.ndarray, frame: str = "3ddfa") -> np.ndarray:
    """The candidate's 68 landmarks in the image frame ``(N, 68, 3)``, read in the crop ``frame``."""
    return crop_to_image(model_to_crop(candidate.morphable.landmarks(params), frame), roi)


def _dense_errors(
    candidates: Sequence[Candidate],
    params: Sequence[np.ndarray],
    inputs: BenchmarkInputs,
    bfm: MorphableModel,
    norm: np.ndarray,
    frame: str = "3ddfa",
    icp: bool = False,
) -> list[dict[str, np.ndarray]]:
    """Per candidate, the dense 2D and 3D NME (``dense_2d``, ``dense_3d``) and with ``icp`` the ICP error
    (``icp``) per image, in chunks that share the ground-truth mesh (float32)."""
    face_ids = bfm.face_vertices
    gt_model = bfm.subset(face_ids)
    models = [c.dense_morphable.subset(face_ids) for c in candidates]
    keys = ("dense_2d", "dense_3d", "icp") if icp else ("dense_2d", "dense_3d")
    out: list[dict[str, list]] = [{k: [] for k in keys} for _ in candidates]
    height = int(inputs.image_height)
    for s in range(0, len(inputs.roi), _DENSE_CHUNK):
        sl = slice(s, s + _DENSE_CHUNK)
        gt = flip_y(gt_model.vertices(inputs.gt_image_params[sl].astype(np.float32)), size=height)
        for model, p, parts in zip(models, params, out, strict=True):
            pred = crop_to_image(model_to_crop(model.vertices(p[sl].astype(np.float32)), frame), inputs.roi[sl])
            parts["dense_2d"].append(metrics.nme(pred, gt, norm[sl], dims=2))
            parts["dense_3d"].append(metrics.nme(pred, gt, norm[sl], dims=3))
            if icp:
                parts["icp"].append(icp_errors(pred[:, ::ICP_EVERY], gt, norm[sl], bfm.face_triangles))
    return [{k: np.concatenate(v) for k, v in parts.items()} for parts in out]


def _sparse_metrics(
    result: CandidateResult, candidate: Candidate, params: np.ndarray, data: AFLW2000, inputs, settings
) -> None:
    landmarks = predicted_landmarks(candidate, params, inputs.roi, settings.frame)
    per = result.per_image
    if "2d" in settings.metrics:
        per["nme_2d"] = metrics.nme(landmarks, data.landmarks_2d, metrics.box_size(data.landmarks_2d), dims=2)
    if "human" in settings.metrics:
        points, visible = data.human_points
        norm = metrics.box_size(data.landmarks_2d)
        per["nme_human"] = metrics.nme(to_aflw18(landmarks), points, norm, dims=2, visible=visible)
    if "3d" in settings.metrics:
        per["nme_3d"] = metrics.nme(landmarks, data.landmarks_3d, metrics.box_size(data.landmarks_3d), dims=3)
    if "pose" in settings.metrics:
        gt = data.pose_deg
        keep = (np.abs(gt) <= POSE_LIMIT_DEG).all(-1) & np.isfinite(params).all(-1)
        pose = decompose(params)
        errors = metrics.angle_errors(pose.angles, gt)
        rotation = metrics.rotation_errors(pose.rotation, rotation_from_euler(gt))
        per["pose_error"] = errors
        per["pose_kept"] = keep
        per["rotation_error"] = rotation
        mae = errors[keep].mean(0)
        result.summary["pose"] = {
            "yaw": float(mae[0]),
            "pitch": float(mae[1]),
            "roll": float(mae[2]),
            "mean": float(mae.mean()),
            "rotation": float(rotation[keep].mean()),
            "rotation_by_yaw": metrics.summarize_by_yaw(rotation[keep], data.yaw[keep]),
            "count": int(keep.sum()),
        }


def run(
    candidates: Sequence[Candidate],
    data: AFLW2000,
    settings: Settings,
    bfm: MorphableModel,
    progress: Callable[[str], None] = lambda _: None,
) -> list[CandidateResult]:
    """Prepare the crops once, run every candidate on them, and score them side by side."""
    if settings.frame not in CROP_FRAME_OFFSETS:
        raise OptionError(f"unknown crop frame {settings.frame!r}; use {' or '.join(CROP_FRAME_OFFSETS)}")
    unknown = set(settings.metrics) - set(METRICS)
    if unknown:
        raise OptionError(f"unknown metrics {sorted(unknown)}; choose from {', '.join(METRICS)}")
    progress(f"preparing {len(data)} crops ({settings.crops})")
    inputs = benchmark_inputs(data, settings.crops)
    if settings.landmarks != "self":
        progress(f"landmarks for the map ({settings.landmarks})")
        inputs.landmarks = map_landmarks(data, inputs, settings.landmarks)
    results, all_params = [], []
    for candidate in candidates:
        progress(f"running {candidate.name}")
        start = time.perf_counter()
        params = candidate.params(inputs)
        results.append(CandidateResult(candidate.name, time.perf_counter() - start))
        all_params.append(params)
        _sparse_metrics(results[-1], candidate, params, data, inputs, settings)
    if set(DENSE_METRICS) & set(settings.metrics):
        icp = "icp" in settings.metrics
        progress("dense metrics" + (" (ICP: two to three minutes a model)" if icp else ""))
        norm = metrics.box_size(data.landmarks_3d)
        dense = _dense_errors(candidates, all_params, inputs, bfm, norm, settings.frame, icp)
        for result, candidate, errors in zip(results, candidates, dense, strict=True):
            if "dense" in settings.metrics:
                result.per_image["dense_2d"], result.per_image["dense_3d"] = errors["dense_2d"], errors["dense_3d"]
            if "dense-dsfnet" in settings.metrics:
                result.per_image["dense_dsfnet"] = errors["dense_3d"]
            if icp:
                result.per_image["icp"] = errors["icp"]
            if not candidate.dense_is_own:
                result.notes.append("dense mesh decoded with the project's BFM (the model ships landmarks only)")
    for result, params in zip(results, all_params, strict=True):
        missed = np.isnan(params).any(-1)
        if missed.any():  # the whole pipeline found no face there: scored on the faces found, misses counted
            result.summary["missed"] = {
                "count": int(missed.sum()),
                "images": [data.names[i] for i in np.nonzero(missed)[0]],
            }
            result.notes.append(f"no face found in {int(missed.sum())} of {len(missed)} photos; scored on the others")
        for key in PER_IMAGE_KEYS:
            if key in result.per_image:
                errors = result.per_image[key]
                result.summary[key] = metrics.summarize_by_yaw(errors[~missed], data.yaw[~missed])
    return results
