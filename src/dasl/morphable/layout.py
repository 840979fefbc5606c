"""The 62-parameter layout of the 3DMM (3DDFA convention), named in one place.

A parameter vector ``p`` (shape ``(62,)``, or ``(N, 62)`` for a batch) holds:

=============  ===========  ==================================================================
slice          size         meaning
=============  ===========  ==================================================================
``p[0:12]``    12           row-major 3x4 matrix ``[f*R | t]``: scaled rotation and translation
``p[12:52]``   40           identity (shape) coefficients ``alpha_s``
``p[52:62]``   10           expression coefficients ``alpha_exp``
=============  ===========  ==================================================================

A face is ``V = (f*R) @ S + t`` with ``S = reshape(mean + A_s @ alpha_s + A_exp @ alpha_exp, (K, 3))``,
in the *model frame* (see ``docs/conventions.md``).

Networks regress *whitened* parameters ``(p - param_mean) / param_std``; :func:`whiten` and
:func:`unwhiten` convert, with the statistics of the 3DMM file the parameters belong to.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

if TYPE_CHECKING:
    import torch

N_PARAMS = 62
#: side of the crop whose model frame the parameters live in (3DDFA's 120x120 crops; the whitening
#: statistics ``param_mean`` / ``param_std`` hold in that frame only). :mod:`dasl.geometry.frames` uses it.
CROP_SIZE = 120
N_SHAPE = 40
N_EXP = 10
POSE = slice(0, 12)
SHAPE = slice(12, 52)
EXPRESSION = slice(52, 62)
#: the third row of ``f*R`` (depth; it does not move the 2D projection)
DEPTH_ROW = slice(8, 11)

Array = TypeVar("Array", np.ndarray, "torch.Tensor")


def torch_if_tensor(value: Any):
    """The torch module when ``value`` is a torch tensor, else ``None``; never imports torch itself (the
    inference path runs without it: a tensor can only exist once something else imported torch)."""
    torch = sys.modules.get("torch")
    return torch if torch is not None and isinstance(value, torch.Tensor) else None


def affine(params: Array) -> tuple[Array, Array]:
    """Split parameters ``(..., 62)`` into ``f*R`` ``(..., 3, 3)`` and ``t`` ``(..., 3)``."""
    m = params[..., POSE].reshape(*params.shape[:-1], 3, 4)
    return m[..., :3], m[..., 3]


def compose(scaled_rotation: Array, translation: Array, shape: Array, expression: Array) -> Array:
    """Inverse of :func:`affine` plus the coefficients: ``(..., 3, 3), (..., 3), (..., 40), (..., 10)``
    to ``(..., 62)``."""
    torch = torch_if_tensor(scaled_rotation)
    if torch is not None:
        pose = torch.cat([scaled_rotation, translation[..., None]], dim=-1).flatten(-2)
        return torch.cat([pose, shape, expression], dim=-1)
    pose = np.concatenate([scaled_rotation, translation[..., None]], axis=-1)
    pose = pose.reshape(*pose.shape[:-2], 12)
    return np.concatenate([pose, shape, expression], axis=-1)


def _stats_like(stats: np.ndarray, like: Array) -> Array:
    torch = torch_if_tensor(like)
    if torch is not None:
        return torch.as_tensor(stats, dtype=like.dtype, device=like.device)
    return stats.astype(like.dtype, copy=False) if np.issubdtype(like.dtype, np.floating) else stats


def whiten(params: Array, mean: np.ndarray, std: np.ndarray) -> Array:
    """Raw parameters to the network's whitened space: ``(p - mean) / std``."""
    return (params - _stats_like(mean, params)) / _stats_like(std, params)


def unwhiten(params: Array, mean: np.ndarray, std: np.ndarray) -> Array:
    """Whitened parameters back to raw ones: ``p * std + mean``."""
    return params * _stats_like(std, params) + _stats_like(mean, params)
