"""How well 3DMM fitting recovers faces from landmarks, measured on AFLW2000-3D's ground truth.

The fitter gets each test image's 68 ground-truth 2D landmarks and nothing else. Reported: the 68-point
2D NME of the fitted face by |yaw| bin (the fit's residual, to compare with the oracle's ~0.9), pose
MAE against ``Pose_Para`` (images with all angles within +-99 degrees), the dense 3D NME of the
face-region mesh against the ground-truth mesh (depth centred, normalised like the NME), and time per
face. Nothing is tuned on these images.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from dasl.data.aflw2000 import AFLW2000, IMAGE_SIZE
from dasl.eval import metrics
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import image_landmarks
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import decompose


@dataclass
class FittingReport:
    name: str
    nme_2d: dict
    pose: dict
    dense_3d: dict
    ms_per_face: float


def run_fitting_benchmark(
    data: AFLW2000, model: MorphableModel, marching: bool, prior: float = 2.0, batch: int = 250
) -> FittingReport:
    fitter = LandmarkFitter(model, prior=prior, marching=marching)
    started = time.perf_counter()
    params = np.concatenate(
        [
            fitter.fit(data.landmarks_3d[s : s + batch, :, :2], image_height=IMAGE_SIZE).params
            for s in range(0, len(data), batch)
        ]
    )
    seconds = time.perf_counter() - started
    fitted = image_landmarks(model, params, IMAGE_SIZE)
    nme = metrics.nme(fitted, data.landmarks_3d, metrics.box_size(data.landmarks_3d))
    gt_pose = data.pose_deg
    keep = (np.abs(gt_pose) <= 99).all(1)
    errors = metrics.angle_errors(decompose(params).angles, gt_pose)[keep]
    face = model.subset(model.face_vertices)
    dense = []
    for s in range(0, len(data), 100):
        pred = face.vertices(params[s : s + 100].astype(np.float32))
        gt = face.vertices(data.image_params[s : s + 100].astype(np.float32))
        dense.append(metrics.nme(pred, gt, metrics.box_size(data.landmarks_3d[s : s + 100]), dims=3))
    return FittingReport(
        name=f"fit (prior {prior:g}, marching {'on' if marching else 'off'})",
        nme_2d=metrics.summarize_by_yaw(nme, data.yaw),
        pose={
            "yaw": float(errors[:, 0].mean()),
            "pitch": float(errors[:, 1].mean()),
            "roll": float(errors[:, 2].mean()),
            "mean": float(errors.mean()),
            "count": int(keep.sum()),
        },
        dense_3d=metrics.summarize_by_yaw(np.concatenate(dense), data.yaw),
        ms_per_face=1000 * seconds / len(data),
    )
