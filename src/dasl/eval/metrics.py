"""Alignment metrics of the 3DDFA protocol, batched.

NME (normalised mean error): the mean Euclidean distance between predicted and ground-truth points,
divided by ``sqrt(w * h)`` of the ground-truth 68 landmarks' 2D bounding box, in percent. 3D variants
first remove the mean depth of each point set (depth is only known up to an offset in a photo). Every
NME in dasl (benchmarks, training validation, held-out scoring, label agreement) is :func:`nme`; it
takes numpy arrays or torch tensors.
"""

from __future__ import annotations

import numpy as np
import torch

from dasl.morphable.layout import Array

#: upper edges of the |yaw| bins in degrees: [0, 30], (30, 60], (60, 90+]
YAW_BIN_EDGES = (30.0, 60.0)
YAW_BIN_NAMES = ("0-30", "30-60", "60-90")


def box_size(landmarks: Array) -> Array:
    """``sqrt(w * h)`` of the 2D bounding boxes of ``(N, K, >=2)`` points."""
    if isinstance(landmarks, torch.Tensor):
        points = landmarks[..., :2]
        extent = points.amax(-2) - points.amin(-2)
        return (extent[..., 0] * extent[..., 1]).sqrt()
    extent = np.ptp(np.asarray(landmarks)[..., :2], axis=-2)
    return np.sqrt(extent[..., 0] * extent[..., 1])


def centre_depth(points: Array) -> Array:
    out = points.clone() if isinstance(points, torch.Tensor) else np.array(points)
    out[..., 2] -= out[..., 2].mean(-1, keepdims=True)
    return out


def point_errors(pred: Array, gt: Array, norm: Array | float, dims: int = 2) -> Array:
    """Per-point errors in percent ``(N, K)``: the distance over ``dims`` (2 or 3; depth centred per image)
    coordinates of ``(N, K, >=dims)`` points, divided by ``norm`` ``(N,)`` (see :func:`box_size`). Every NME
    of dasl is a mean of these (:func:`nme`)."""
    is_torch = isinstance(pred, torch.Tensor)
    p, g = (pred, gt) if is_torch else (np.asarray(pred), np.asarray(gt))
    if dims == 3:
        p, g = centre_depth(p[..., :3]), centre_depth(g[..., :3])
    difference = p[..., :dims] - g[..., :dims]
    per_point = difference.norm(dim=-1) if is_torch else np.linalg.norm(difference, axis=-1)
    scale = norm[..., None] if getattr(norm, "ndim", 0) else norm  # one norm per image, or one for all
    return 100.0 * per_point / scale


def nme(pred: Array, gt: Array, norm: Array | float, dims: int = 2, visible: Array | None = None) -> Array:
    """Per-image NME in percent ``(N,)``: the mean of :func:`point_errors` over each image's points. With
    ``visible`` ``(N, K)`` only those points count (missing ground truth may be NaN there)."""
    per_point = point_errors(pred, gt, norm, dims)
    if visible is None:
        return per_point.mean(-1)
    if isinstance(per_point, torch.Tensor):
        return torch.where(visible, per_point, 0.0).sum(-1) / visible.sum(-1).clamp_min(1)
    return np.where(visible, np.nan_to_num(per_point), 0.0).sum(-1) / visible.sum(-1).clip(1)


def yaw_bins(yaw_deg: np.ndarray) -> np.ndarray:
    """Bin index 0, 1, 2 of each |yaw| (``<= 30``, ``<= 60``, beyond)."""
    return np.digitize(np.abs(yaw_deg), YAW_BIN_EDGES, right=True)


def summarize_by_yaw(errors: np.ndarray, yaw_deg: np.ndarray) -> dict[str, float]:
    """Mean error per |yaw| bin, the mean of the three bins (``mean``) and over all images (``all``)."""
    bins = yaw_bins(yaw_deg)
    out = {name: float(errors[bins == b].mean()) for b, name in enumerate(YAW_BIN_NAMES)}
    out["mean"] = float(np.mean([out[name] for name in YAW_BIN_NAMES]))
    out["all"] = float(errors.mean())
    out["count"] = {name: int((bins == b).sum()) for b, name in enumerate(YAW_BIN_NAMES)}
    return out


def angle_errors(pred_deg: np.ndarray, gt_deg: np.ndarray) -> np.ndarray:
    """Absolute angle differences ``(N, 3)`` in degrees, wrapped to [0, 180]."""
    diff = np.abs(np.asarray(pred_deg) - np.asarray(gt_deg)) % 360.0
    return np.minimum(diff, 360.0 - diff)


def rotation_errors(pred: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """The angle in degrees ``(N,)`` of the rotation between rotation matrices ``(N, 3, 3)`` (geodesic
    distance): one number per face that does not depend on how a rotation is split into Euler angles, which
    near 90 degrees of yaw turns a small error into large, opposite pitch and roll errors."""
    relative = np.einsum("nij,nkj->nik", np.asarray(pred, dtype=np.float64), np.asarray(gt, dtype=np.float64))
    cosine = (np.trace(relative, axis1=1, axis2=2) - 1) / 2
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def cumulative_curve(errors: np.ndarray, upto: float, steps: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Error thresholds ``(steps,)`` and the fraction of images at or below each."""
    thresholds = np.linspace(0.0, upto, steps)
    fractions = (np.sort(errors)[None, :] <= thresholds[:, None]).mean(-1)
    return thresholds, fractions
