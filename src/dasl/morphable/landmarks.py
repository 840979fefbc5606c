"""Landmark sets on the 68-point iBUG/300-W markup (0-based indices) and 2DASL's 18-point subset.

The 18 landmarks of 2DASL (paper section 3.4, Fig. 4) drop the face contour, which does not correspond to
fixed 3D points. dasl's reading of Fig. 4, with the paper's statement that central points weigh most
and the 4:2:1 ratio:

=========  ==================================================  ======
group      points (68-point indices; centres are means)        weight
=========  ==================================================  ======
central    eye centres (mean of 36-41, of 42-47), nose tip 30,  4
           mouth centre (midpoint of corners 48 and 54)
middle     eye corners 36, 39, 42, 45; nostrils 31, 35;         2
           mouth corners 48, 54
outer      eyebrows 17, 19, 21, 22, 24, 26                      1
=========  ==================================================  ======

The subset is a fixed linear map of the 68 points, :data:`SUBSET18` ``(18, 68)``, so it applies to numpy
arrays and torch tensors alike: ``to_subset18(points)`` for points ``(N, 68, D)``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dasl.morphable.layout import Array, torch_if_tensor

if TYPE_CHECKING:  # annotations only: the inference path runs without torch
    import torch

#: Named groups of the 68-point markup (0-based, inclusive ranges as lists).
JAW = list(range(0, 17))
RIGHT_BROW = list(range(17, 22))  # the subject's right: the left side of a frontal photo
LEFT_BROW = list(range(22, 27))
NOSE_BRIDGE = list(range(27, 31))
NOSTRILS = list(range(31, 36))
RIGHT_EYE = list(range(36, 42))
LEFT_EYE = list(range(42, 48))
OUTER_LIPS = list(range(48, 60))
INNER_LIPS = list(range(60, 68))

#: Permutation that relabels the 68 points of a horizontally mirrored face: ``flipped = pts[FLIP_68]``.
FLIP_68 = np.array(
    list(range(16, -1, -1))
    + list(range(26, 21, -1))
    + list(range(21, 16, -1))
    + [27, 28, 29, 30]
    + [35, 34, 33, 32, 31]
    + [45, 44, 43, 42, 47, 46]
    + [39, 38, 37, 36, 41, 40]
    + [54, 53, 52, 51, 50, 49, 48, 59, 58, 57, 56, 55]
    + [64, 63, 62, 61, 60, 67, 66, 65],
    dtype=np.int64,
)


def _subset18() -> tuple[np.ndarray, np.ndarray, list[str]]:
    rows: list[tuple[str, dict[int, float], float]] = [
        ("right brow outer", {17: 1.0}, 1.0),
        ("right brow middle", {19: 1.0}, 1.0),
        ("right brow inner", {21: 1.0}, 1.0),
        ("left brow inner", {22: 1.0}, 1.0),
        ("left brow middle", {24: 1.0}, 1.0),
        ("left brow outer", {26: 1.0}, 1.0),
        ("right eye outer corner", {36: 1.0}, 2.0),
        ("right eye centre", {i: 1 / 6 for i in RIGHT_EYE}, 4.0),
        ("right eye inner corner", {39: 1.0}, 2.0),
        ("left eye inner corner", {42: 1.0}, 2.0),
        ("left eye centre", {i: 1 / 6 for i in LEFT_EYE}, 4.0),
        ("left eye outer corner", {45: 1.0}, 2.0),
        ("right nostril", {31: 1.0}, 2.0),
        ("nose tip", {30: 1.0}, 4.0),
        ("left nostril", {35: 1.0}, 2.0),
        ("right mouth corner", {48: 1.0}, 2.0),
        ("mouth centre", {48: 0.5, 54: 0.5}, 4.0),
        ("left mouth corner", {54: 1.0}, 2.0),
    ]
    matrix = np.zeros((len(rows), 68), dtype=np.float32)
    for r, (_, coeffs, _) in enumerate(rows):
        for c, v in coeffs.items():
            matrix[r, c] = v
    weights = np.array([w for _, _, w in rows], dtype=np.float32)
    return matrix, weights, [n for n, _, _ in rows]


#: ``(18, 68)`` linear map from the 68 landmarks to 2DASL's 18.
SUBSET18, _W18, NAMES18 = _subset18()
#: The 4:2:1 weight mask of the 18 landmarks ``(18,)``; weights sum to 18 after normalisation below.
MASK18 = _W18 * (len(_W18) / _W18.sum())
#: Uniform weights for the "without mask" ablation.
NO_MASK18 = np.ones(18, dtype=np.float32)
#: The 18 landmarks of a mirrored face: ``to_subset18(pts68[:, FLIP_68]) == to_subset18(pts68)[:, FLIP_18]``.
FLIP_18 = np.array([5, 4, 3, 2, 1, 0, 11, 10, 9, 8, 7, 6, 14, 13, 12, 17, 16, 15], dtype=np.int64)


def _apply(matrix: np.ndarray, points68: Array) -> Array:
    torch = torch_if_tensor(points68)
    if torch is not None:
        return torch.as_tensor(matrix, dtype=points68.dtype, device=points68.device) @ points68
    return matrix.astype(points68.dtype, copy=False) @ points68


def to_subset18(points68: Array) -> Array:
    """``(N, 68, D)`` landmarks to the 18-point subset ``(N, 18, D)`` (numpy or torch)."""
    return _apply(SUBSET18, points68)


#: AFLW's 21 points (0-based, in the file order of ``aflw-wild/annotations.npz`` and
#: ``AFLW2000-3D.pts21.npy``) that stand for each of the 18 landmarks, in :data:`NAMES18` order. AFLW's
#: eye centres, nose centre and mouth centre stand for dasl's eye centres, nose tip and mouth centre.
AFLW21_TO_18 = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 17, 18, 19], dtype=np.int64)
#: AFLW's 18 points as combinations of the 68 landmarks ``(18, 68)``, for fitting the 3DMM to them and for
#: scoring against them: :data:`SUBSET18`, except that AFLW's mouth centre is the middle of the lips' line
#: (inner lips 62 and 66), not the midpoint of the mouth corners (2DASL's mouth centre, which lies inside
#: the mouth and, on a turned face, projects far behind the lips). AFLW2000-3D's own labels against their
#: photos' AFLW points (a property of the labels, no model involved), NME by yaw bin 0-30 / 30-60 / 60-90:
#: corners' midpoint 4.1 / 8.4 / 11.1, lips' middle 2.1 / 2.7 / 3.1, every other point 1.8-4.6
#: (docs/data.md, "AFLW's mouth centre").
AFLW_SCHEME18 = SUBSET18.copy()
#: index of the mouth centre among the 18, the one landmark where AFLW's reading and 2DASL's differ
MOUTH_CENTRE18 = NAMES18.index("mouth centre")
AFLW_SCHEME18[MOUTH_CENTRE18] = 0.0
AFLW_SCHEME18[MOUTH_CENTRE18, [62, 66]] = 0.5


def to_aflw18(points68: Array) -> Array:
    """``(N, 68, D)`` landmarks to the 18 points as AFLW annotates them ``(N, 18, D)`` (:data:`AFLW_SCHEME18`):
    what to compare with AFLW's own points (numpy or torch)."""
    return _apply(AFLW_SCHEME18, points68)


def to_labelled18(points68: Array, aflw_mouth: Array | None) -> Array:
    """``(N, 68, D)`` landmarks to the 18 points as each face's label reads them ``(N, 18, D)``: AFLW's
    reading (:func:`to_aflw18`, the mouth centre at the lips' middle) where ``aflw_mouth`` ``(N,)`` is true,
    2DASL's (:func:`to_subset18`) elsewhere and for every face when it is ``None``. The two differ only in
    the mouth centre."""
    if aflw_mouth is None:
        return to_subset18(points68)
    torch = torch_if_tensor(points68)
    where = np.where if torch is None else torch.where
    out = to_subset18(points68)
    out[:, MOUTH_CENTRE18] = where(aflw_mouth[:, None], to_aflw18(points68)[:, MOUTH_CENTRE18], out[:, MOUTH_CENTRE18])
    return out


#: the mouth corners among the 18 (2DASL's mouth centre is their midpoint)
MOUTH_CORNERS18 = (NAMES18.index("right mouth corner"), NAMES18.index("left mouth corner"))


def map_points18(
    points18: torch.Tensor, visible18: torch.Tensor, aflw_mouth: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled 18 points ``(N, 18, 2)`` (torch) as the landmark map draws them: the map's mouth centre is
    2DASL's, the corners' midpoint (what :func:`to_subset18` gives from a detector's 68 points at inference),
    so where a face's label is AFLW's lips' middle (``aflw_mouth`` ``(N,)`` true) the mouth centre becomes
    the midpoint of the two labelled corners, or is left out of the map (``visible18`` false) when a corner
    is not visible. ``aflw_mouth=None``: the labels are returned as they are. Returns ``(points, visible)``."""
    if aflw_mouth is None:
        return points18, visible18
    right, left = MOUTH_CORNERS18
    midpoint = (points18[:, right] + points18[:, left]) / 2
    both = visible18[:, right] & visible18[:, left]
    points = points18.clone()
    visible = visible18.clone()
    points[:, MOUTH_CENTRE18] = midpoint.where(aflw_mouth[:, None], points18[:, MOUTH_CENTRE18])
    visible[:, MOUTH_CENTRE18] = both.where(aflw_mouth, visible18[:, MOUTH_CENTRE18])
    return points, visible


#: AFLW's chin point (its index among the 21) and the 68-point landmark it stands for: both mark the lowest
#: point of the chin's midline (iBUG's 9th point). Not one of 2DASL's 18, but the one annotated point of the
#: jaw: ``dasl data fit-aflw`` fits it (docs/experiments.md, "AFLW's chin in the fits").
AFLW_CHIN, CHIN_68 = 20, 8
