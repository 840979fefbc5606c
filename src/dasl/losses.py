"""The 2DASL losses (paper sections 3.3-3.5), one pure function each: tensors in, a scalar out.

Conventions: parameters are ``(N, 62)``; ``*_raw`` are raw (unwhitened), ``*_w`` whitened. Landmarks are
in the crop frame (pixels of the 120x120 crop, y down), 68 points ``(N, 68, D)`` or 2DASL's 18 points
``(N, 18, 2)`` with a visibility mask ``(N, 18)``. Losses sum over points and average over the batch,
as the paper writes them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from dasl.morphable import layout
from dasl.morphable.landmarks import to_labelled18
from dasl.morphable.model import MorphableModel


def _distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distance over the last axis with a finite gradient where the points coincide."""
    return ((a - b).pow(2).sum(-1) + 1e-12).sqrt()


@torch.no_grad()
def coefficient_weights(
    pred_raw: torch.Tensor, gt_raw: torch.Tensor, landmark_model: MorphableModel, dims: int = 2
) -> torch.Tensor:
    """The weights ``w_i`` of L3d ``(N, 62)``, normalised to sum to 1 per sample (no gradient).

    ``w_i = || H(a_i) - H(a*) ||`` where ``a_i`` is the ground truth with its i-th coefficient taken from
    the prediction and ``H`` the projection of the 68 landmarks (x, y; ``dims = 3`` adds depth). ``H`` is
    affine in each single coefficient, so every ``w_i`` has a closed form and all 62 come from one batched
    computation: ``|da_i| * g_i`` with ``g_i`` the norm of the landmarks' derivative along coefficient i.
    """
    n = gt_raw.shape[0]
    k = landmark_model.n_vertices
    keep = torch.zeros(3, dtype=gt_raw.dtype, device=gt_raw.device)
    keep[:dims] = 1.0
    shape = landmark_model.shape(gt_raw)  # (N, K, 3), before pose
    scaled_rotation, _ = layout.affine(gt_raw)
    gains = torch.zeros(n, layout.N_PARAMS, dtype=gt_raw.dtype, device=gt_raw.device)
    # pose entry (r, c): moves row r of every point by shape[:, c] (c < 3) or by 1 (translation)
    column_norms = shape.norm(dim=1)  # (N, 3)
    pose = torch.cat([column_norms, torch.full((n, 1), k**0.5, dtype=gt_raw.dtype, device=gt_raw.device)], 1)
    gains[:, layout.POSE] = (keep[:, None] * pose[:, None, :]).reshape(n, 12)
    # coefficient j: moves the points by fR @ basis_j
    _, basis = landmark_model.arrays_like(gt_raw)
    basis = basis.reshape(k, 3, -1)  # (K, 3, 50)
    moved = torch.einsum("nrc,kcj->nrkj", scaled_rotation, basis) * keep[None, :, None, None]
    gains[:, layout.SHAPE.start :] = moved.pow(2).sum((1, 2)).sqrt()
    weights = (pred_raw - gt_raw).abs() * gains
    return weights / weights.sum(1, keepdim=True).clamp_min(torch.finfo(weights.dtype).tiny)


def weighted_parameter_loss(pred_w: torch.Tensor, gt_w: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """L3d ``= (a* - a)^T diag(w) (a* - a)`` on whitened parameters, averaged over the batch."""
    return (weights * (pred_w - gt_w).pow(2)).sum(1).mean()


def landmark_loss(
    pred68: torch.Tensor,
    target18: torch.Tensor,
    mask: torch.Tensor,
    visible: torch.Tensor | None = None,
    aflw_mouth: torch.Tensor | None = None,
) -> torch.Tensor:
    """L2d-con ``= sum_i v_i ||x_i - y_i||`` over the 18 landmarks (also Lcyc, on the second pass).

    ``pred68`` ``(N, 68, >=2)`` predicted crop-frame landmarks, ``target18`` ``(N, 18, 2)`` the input
    landmarks, ``mask`` ``(18,)`` the 4:2:1 weights (or ones), ``visible`` ``(N, 18)`` which targets exist,
    ``aflw_mouth`` ``(N,)`` which targets' mouth centre is AFLW's (the lips' middle; ``None``: none is).
    """
    target = target18 if visible is None else torch.where(visible[..., None], target18, 0.0)
    distance = _distance(to_labelled18(pred68[..., :2], aflw_mouth), target)  # (N, 18)
    weight = mask.to(distance)[None, :]
    if visible is not None:
        distance = torch.where(visible, distance, 0.0)
    return (weight * distance).sum(1).mean()


def landmark_consistency_3d(forward68: torch.Tensor, backward68: torch.Tensor) -> torch.Tensor:
    """L3d-con ``= sum_i ||x_i - x^_i||`` over the 68 3D landmarks of the forward and backward passes."""
    return _distance(forward68, backward68).sum(1).mean()


def critic_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """The critic's side of Lsc: ground-truth pairs are real, predicted pairs fake (binary cross-entropy)."""
    return F.binary_cross_entropy_with_logits(
        real_logits, torch.ones_like(real_logits)
    ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))


def adversarial_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """The regressor's side of Lsc: make predicted pairs look real (non-saturating form)."""
    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))


def vertex_distance_cost(pred_raw: torch.Tensor, gt_raw: torch.Tensor, model: MorphableModel) -> torch.Tensor:
    """VDC (stage 2): mean squared 3D distance between predicted and ground-truth vertices of ``model``
    (a subset of the mesh), in crop pixels squared."""
    return (model.vertices(pred_raw) - model.vertices(gt_raw)).pow(2).sum(-1).mean()


# ---------------------------------------------------------------------- the 2D landmark detector's loss
def detector_coordinate_terms(
    coords: torch.Tensor,
    prob: torch.Tensor,
    target: torch.Tensor,
    heat: torch.Tensor,
    jaw_weight: torch.Tensor | None = None,
    jaw: tuple[int, ...] = (),
) -> dict[str, torch.Tensor]:
    """The landmark detector's terms on 3D-labelled faces: ``coords``, the mean distance of its soft-argmax
    points ``(N, 68, 2)`` to the labels ``target`` (crop pixels), and ``heatmap``, the cross-entropy of its
    heatmaps ``prob`` ``(N, 68, H, W)`` to Gaussian targets ``heat`` (DSNT's regulariser). With ``jaw_weight``
    ``(N,)`` the landmarks ``jaw`` of each face count that much in both means (the others 1)."""
    distance = (coords - target).norm(dim=-1)  # (N, 68)
    entropy = -(heat * prob.clamp_min(1e-12).log()).sum((-2, -1))
    if jaw_weight is None:
        return {"coords": distance.mean(), "heatmap": entropy.mean()}
    weight = torch.ones_like(distance)
    weight[:, list(jaw)] = jaw_weight[:, None].to(weight)
    return {"coords": (weight * distance).sum() / weight.sum(), "heatmap": (weight * entropy).sum() / weight.sum()}


def detector_wild_term(
    coords: torch.Tensor, points18: torch.Tensor, visible18: torch.Tensor, aflw_mouth: torch.Tensor | None = None
) -> torch.Tensor:
    """The landmark detector's term on in-the-wild faces: the mean distance of its 68 points, read as the 18
    labelled ones (:func:`dasl.morphable.landmarks.to_labelled18`), to the visible labels (crop pixels)."""
    distance = (to_labelled18(coords, aflw_mouth) - torch.nan_to_num(points18)).norm(dim=-1)
    return torch.where(visible18, distance, 0.0).sum() / visible18.sum().clamp_min(1)
