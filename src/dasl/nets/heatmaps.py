"""Landmarks from heatmaps: the soft-argmax decoding of dasl's landmark detector and how sure each heatmap
is, on NumPy arrays (inference without PyTorch) and torch tensors (training, differentiable) alike.

A heatmap of ``H x W`` cells covers the 120x120 crop at :data:`STRIDE` crop pixels per cell: cell ``j``
spans crop-frame ``[4j, 4j + 4)``, its centre at ``4j + 2`` (:mod:`dasl.geometry.frames`).
"""

from __future__ import annotations

import numpy as np

from dasl.morphable.layout import Array, torch_if_tensor

#: crop pixels per heatmap cell
STRIDE = 4


def cell_centres(size: int, like: Array) -> Array:
    """Crop-frame coordinate of each of ``size`` cells along an axis (the kind and dtype of ``like``)."""
    torch = torch_if_tensor(like)
    if torch is None:
        return ((np.arange(size) + 0.5) * STRIDE).astype(like.dtype)
    return (torch.arange(size, dtype=like.dtype, device=like.device) + 0.5) * STRIDE


def softmax_maps(logits: Array) -> Array:
    """Softmax over the cells of each map: logits ``(N, K, H, W)`` to float32 probabilities."""
    torch = torch_if_tensor(logits)
    n, k, h, w = logits.shape
    if torch is not None:
        return logits.float().flatten(2).softmax(-1).view(n, k, h, w)
    flat = np.asarray(logits, dtype=np.float32).reshape(n, k, h * w)
    e = np.exp(flat - flat.max(-1, keepdims=True))
    return (e / e.sum(-1, keepdims=True)).reshape(n, k, h, w)


def soft_argmax(logits: Array) -> tuple[Array, Array]:
    """Crop-frame coordinates ``(N, K, 2)`` and the softmax heatmaps ``(N, K, H, W)`` of logits: each
    coordinate the expectation of its cell centres under the softmax."""
    prob = softmax_maps(logits)
    xs, ys = cell_centres(prob.shape[-1], prob), cell_centres(prob.shape[-2], prob)
    x = (prob.sum(2) * xs).sum(-1)
    y = (prob.sum(3) * ys).sum(-1)
    torch = torch_if_tensor(prob)
    return (np.stack([x, y], -1) if torch is None else torch.stack([x, y], -1)), prob


def heatmap_spread(prob: Array, points: Array) -> Array:
    """Spread ``(N, K)`` of softmax heatmaps ``(N, K, H, W)`` about their soft-argmax ``points`` ``(N, K, 2)``:
    the root of the summed x and y variances, in crop pixels (a flat, unsure heatmap spreads wide)."""
    xs, ys = cell_centres(prob.shape[-1], prob), cell_centres(prob.shape[-2], prob)
    var_x = (prob.sum(2) * (xs - points[..., :1]) ** 2).sum(-1)
    var_y = (prob.sum(3) * (ys - points[..., 1:]) ** 2).sum(-1)
    return (var_x + var_y) ** 0.5
