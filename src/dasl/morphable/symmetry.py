"""Horizontal mirroring of faces and of their 62 parameters (for flip augmentation).

Mirroring a crop (``x -> 120 - x`` in the crop frame) turns a face ``V = fR S + t`` into the face whose
vertex ``k`` is the mirror of vertex ``mirror[k]``. With ``P = diag(-1, 1, 1)`` the mirrored parameters
are ``fR' = P fR P``, ``t' = (120 - t_x, t_y, t_z)``, and coefficients ``c' = F c + f0``, where ``F``
``(50, 50)`` and ``f0`` ``(50,)`` are the least-squares map of the basis and the mean onto their mirror
images (``symmetric_pairs`` of the 3DMM file).

The 40 BFM identity components are not closed under mirroring, so ``c'`` is the nearest face the model
can express: on 500 faces drawn from the parameter statistics (mean + std * N(0, 1)) its 68 landmarks lie
0.31 px (mean) from the mirrored landmarks in a 120x120 crop, 0.25 px over the dense mesh; at half the
spread 0.22 and 0.17 px (``tests/test_symmetry.py``).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from dasl.fileio import atomic_path
from dasl.morphable import layout
from dasl.morphable.model import MorphableModel

_P = np.diag([-1.0, 1.0, 1.0])


@dataclass(frozen=True)
class Mirror:
    vertex_map: np.ndarray  # (K,) vertex k of a mirrored face is the mirror of vertex vertex_map[k]
    coeff_matrix: np.ndarray  # (50, 50)
    coeff_offset: np.ndarray  # (50,)

    def flip_params(self, params: np.ndarray, size: int = layout.CROP_SIZE) -> np.ndarray:
        """Parameters ``(N, 62)`` in a crop's model frame to those of the horizontally mirrored crop."""
        p = np.array(params, dtype=np.float64)
        scaled_rotation, translation = layout.affine(p)
        flipped_rotation = _P @ scaled_rotation @ _P
        flipped_t = translation.copy()
        flipped_t[..., 0] = size - translation[..., 0]
        coeffs = p[..., layout.SHAPE.start :] @ self.coeff_matrix.T + self.coeff_offset
        return layout.compose(flipped_rotation, flipped_t, coeffs[..., : layout.N_SHAPE], coeffs[..., layout.N_SHAPE :])


def vertex_mirror_map(model: MorphableModel) -> np.ndarray:
    """``(K,)`` mirror partner of every vertex from the file's ``symmetric_pairs``."""
    if model.symmetric_pairs is None:
        raise ValueError(f"{model.name} has no symmetric_pairs")
    pairs = np.asarray(model.symmetric_pairs)
    mapping = np.arange(model.n_vertices)
    mapping[pairs[0]] = pairs[1]
    mapping[pairs[1]] = pairs[0]
    return mapping


def _cache_file(model: MorphableModel) -> Path:
    """Where the mirror map of ``model`` is kept between runs (``$XDG_CACHE_HOME/dasl`` or ``~/.cache/dasl``),
    named by a digest of the arrays it comes from."""
    digest = hashlib.sha1()
    for array in (model.basis[::97], model.mean[::97], np.asarray(model.symmetric_pairs)):
        digest.update(np.ascontiguousarray(array).tobytes())
    root = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "dasl"
    return root / f"mirror-{model.n_vertices}-{digest.hexdigest()[:16]}.npz"


@cache
def mirror_of(model: MorphableModel) -> Mirror:
    """The mirror of a dense model: computed once (a least-squares solve over the mesh, about half a
    second), then read from the user's cache folder on later runs; a cache that cannot be written or read
    is simply not used."""
    cache_file = _cache_file(model)
    try:
        with np.load(cache_file) as stored:
            return Mirror(stored["vertex_map"], stored["coeff_matrix"], stored["coeff_offset"])
    except (OSError, KeyError, ValueError):
        pass
    mirror = _solve_mirror(model)
    try:
        with atomic_path(cache_file) as tmp, open(tmp, "wb") as fh:
            np.savez(
                fh, vertex_map=mirror.vertex_map, coeff_matrix=mirror.coeff_matrix, coeff_offset=mirror.coeff_offset
            )
    except OSError:
        pass
    return mirror


def _solve_mirror(model: MorphableModel) -> Mirror:
    mapping = vertex_mirror_map(model)
    k = model.n_vertices
    basis = model.basis.reshape(k, 3, -1).astype(np.float64)
    mean = model.mean.reshape(k, 3).astype(np.float64)
    signs = np.array([-1.0, 1.0, 1.0])
    mirrored_basis = (basis * signs[None, :, None])[mapping].reshape(3 * k, -1)
    mirrored_mean = (mean * signs)[mapping].reshape(-1)
    flat = basis.reshape(3 * k, -1)
    targets = np.column_stack([mirrored_basis, mirrored_mean - mean.reshape(-1)])
    # least squares by the normal equations: a 50x50 solve instead of an SVD of the (3K, 50) basis (the
    # basis is well conditioned; the same solution to 1e-9, in a tenth of the time: start-up matters)
    solution = np.linalg.solve(flat.T @ flat, flat.T @ targets)
    return Mirror(mapping, solution[:, :-1], solution[:, -1])


@dataclass(frozen=True)
class FaceRegion:
    """The 3DMM's face region (no ears, no neck) as a mesh of its own."""

    vertex_ids: np.ndarray  # (K,) into the full model
    triangles: np.ndarray  # (T, 3) into the region
    mirror: np.ndarray  # (K,) mirror partner in the region (itself when it has none)
    uv: np.ndarray | None  # (K, 2)

    def take(self, values: np.ndarray) -> np.ndarray:
        """Rows of a per-vertex array of the full model that belong to the region."""
        return values[..., self.vertex_ids, :]


@cache
def face_region(model: MorphableModel) -> FaceRegion:
    ids = np.asarray(model.face_vertices)
    position = np.full(model.n_vertices, -1)
    position[ids] = np.arange(len(ids))
    mirror = position[vertex_mirror_map(model)[ids]]
    mirror = np.where(mirror >= 0, mirror, np.arange(len(ids)))
    uv = None if model.uv is None else np.asarray(model.uv)[ids]
    return FaceRegion(ids, np.asarray(model.face_triangles), mirror, uv)
