"""The 3D reconstruction error of 2DASL's Fig. 7 (the protocol of PRNet it follows): each reconstructed face
is rigidly aligned to the ground-truth point cloud by Iterative Closest Points, then every reconstructed point
is matched to its nearest ground-truth point, and the mean distance is divided by the face's box size.

Steps, per image (``docs/benchmarks.md``, ``--metric icp``):

1. Both point clouds are the face region (:attr:`~dasl.morphable.model.MorphableModel.face_vertices`) in the
   photo's pixels, x right, y down; each cloud's depth is centred (depth is known only up to an offset).
2. Rigid ICP (rotation and translation, no scale) moves the reconstruction: each step matches every
   reconstructed point to its nearest ground-truth point (a k-d tree over the ground truth) and solves the
   rotation and translation that bring the points closest to the ground-truth surface's tangent planes at
   their partners (point-to-plane, linearised; the mesh's vertex normals), which slides to the true
   alignment where point-to-point pairs stall (a face moved by 6 degrees and 10 px: 0.40 px left with
   point pairs, under 0.05 with planes); a step that does not lower the mean distance is replaced by a
   point-pair step (Kabsch), and when neither lowers it the alignment ends, so the distance never grows
   (a linearised plane step can overshoot on a profile). Without the ground truth's triangles, point
   pairs only. It stops after :data:`ICP_STEPS` steps or when the mean distance improves by less than
   :data:`ICP_TOLERANCE` pixels.
3. The error is the mean nearest-point distance after the alignment, in percent of ``sqrt(w * h)`` of the
   ground-truth 68 landmarks' 2D box (the normalisation of every NME here).

Correspondence is by nearest point, not by vertex index, so a model whose mesh is not the 3DMM's could be
scored too; for the reconstruction every :data:`ICP_EVERY`-th face-region vertex is used (3,837 of 38,365),
the ground truth whole.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from dasl.eval.metrics import centre_depth
from dasl.fitting import rodrigues
from dasl.render.texture import vertex_normals

ICP_STEPS = 30
ICP_TOLERANCE = 1e-4
ICP_EVERY = 10


def kabsch(source: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rotation ``(3, 3)`` and translation ``(3,)`` that move the points ``source`` ``(K, 3)`` closest to
    their partners ``target`` in least squares (a proper rotation, never a reflection)."""
    cs, ct = source.mean(0), target.mean(0)
    u, _, vt = np.linalg.svd((source - cs).T @ (target - ct))
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    return rotation, ct - rotation @ cs


def _plane_step(source: np.ndarray, target: np.ndarray, normals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The small rotation and translation that move ``source`` onto the tangent planes of ``target`` (points
    and unit ``normals`` of their partners), linearised: each pair gives ``(p - q).n + w.(p x n) + t.n``."""
    rows = np.concatenate([np.cross(source, normals), normals], 1)  # (K, 6)
    residual = ((source - target) * normals).sum(1)
    solution = np.linalg.lstsq(rows, -residual, rcond=None)[0]
    return rodrigues(solution[:3]), solution[3:]


def icp_distance(reconstruction: np.ndarray, truth: np.ndarray, triangles: np.ndarray | None = None) -> float:
    """The mean distance from each point of ``reconstruction`` ``(K, 3)`` to the nearest point of ``truth``
    ``(M, 3)`` after rigid ICP (the module docstring's steps 1-2), in their unit. ``triangles`` ``(T, 3)``:
    the ground truth's mesh, for point-to-plane steps."""
    source = centre_depth(np.asarray(reconstruction, dtype=np.float64))
    target = centre_depth(np.asarray(truth, dtype=np.float64))
    normals = None if triangles is None else vertex_normals(target, triangles)
    tree = cKDTree(target)
    moved = source
    distance, nearest = tree.query(moved)
    best = float(distance.mean())
    for _ in range(ICP_STEPS):
        # a plane step where there are normals, else (or where it does not lower the distance) point pairs
        steps = [] if normals is None else [_plane_step(moved, target[nearest], normals[nearest])]
        steps.append(kabsch(moved, target[nearest]))
        for rotation, shift in steps:
            trial = moved @ rotation.T + shift
            trial_distance, trial_nearest = tree.query(trial)
            if trial_distance.mean() < best:
                break
        else:
            break  # neither step helps: the alignment is done
        improvement = best - float(trial_distance.mean())
        moved, distance, nearest, best = trial, trial_distance, trial_nearest, float(trial_distance.mean())
        if improvement < ICP_TOLERANCE:
            break
    return best


def icp_errors(
    reconstructions: np.ndarray, truths: np.ndarray, norm: np.ndarray, triangles: np.ndarray | None = None
) -> np.ndarray:
    """Per-image ICP error in percent ``(N,)`` of face clouds ``(N, K, 3)`` against ``(N, M, 3)`` (meshes of
    ``triangles``), each divided by its ``norm`` ``(N,)`` (NaN where a reconstruction is missing)."""
    out = np.full(len(reconstructions), np.nan)
    for i, (points, truth) in enumerate(zip(reconstructions, truths, strict=True)):
        if np.isfinite(points).all():
            out[i] = 100.0 * icp_distance(points, truth, triangles) / norm[i]
    return out
