"""A z-buffer triangle rasteriser (numba), for depth maps, overlays and face profiling.

Coordinates are **0-based pixel centres**: pixel ``(row r, column c)`` is sampled at ``x = c, y = r``.
Depth grows towards the camera (the 3DMM's z): a larger depth wins. Callers convert from their frame
(image frame: ``x - 1, y - 1``; crop frame: ``x - 0.5, y - 0.5``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np


@cache
def _compiled():
    """The rasteriser compiled by numba, imported and compiled on first use only (numba's import alone is
    about 0.3 s, which a run that writes no picture or mesh does not pay)."""
    import numba

    return numba.njit(cache=True, nogil=True)(_raster)


def _raster(xs, ys, zs, triangles, height, width, depth, tri_index, bary):  # pragma: no cover - compiled
    for t in range(triangles.shape[0]):
        i0, i1, i2 = triangles[t, 0], triangles[t, 1], triangles[t, 2]
        x0, y0, z0 = xs[i0], ys[i0], zs[i0]
        x1, y1, z1 = xs[i1], ys[i1], zs[i1]
        x2, y2, z2 = xs[i2], ys[i2], zs[i2]
        area = (x1 - x0) * (y2 - y0) - (x2 - x0) * (y1 - y0)
        if area == 0.0 or not (np.isfinite(area)):
            continue
        cmin = max(int(np.ceil(min(x0, min(x1, x2)))), 0)
        cmax = min(int(np.floor(max(x0, max(x1, x2)))), width - 1)
        rmin = max(int(np.ceil(min(y0, min(y1, y2)))), 0)
        rmax = min(int(np.floor(max(y0, max(y1, y2)))), height - 1)
        inv = 1.0 / area
        for r in range(rmin, rmax + 1):
            for c in range(cmin, cmax + 1):
                w0 = ((x1 - c) * (y2 - r) - (x2 - c) * (y1 - r)) * inv
                w1 = ((x2 - c) * (y0 - r) - (x0 - c) * (y2 - r)) * inv
                w2 = 1.0 - w0 - w1
                if w0 < -1e-9 or w1 < -1e-9 or w2 < -1e-9:  # tolerance: pixels on shared edges
                    continue
                z = w0 * z0 + w1 * z1 + w2 * z2
                if z > depth[r, c]:
                    depth[r, c] = z
                    tri_index[r, c] = t
                    bary[r, c, 0] = w0
                    bary[r, c, 1] = w1
                    bary[r, c, 2] = w2


@dataclass
class Raster:
    """``depth`` ``(H, W)`` (``-inf`` where empty), ``triangle`` ``(H, W)`` index (-1 where empty),
    ``bary`` ``(H, W, 3)`` barycentric weights of the triangle's three vertices."""

    depth: np.ndarray
    triangle: np.ndarray
    bary: np.ndarray
    triangles: np.ndarray

    @property
    def mask(self) -> np.ndarray:
        return self.triangle >= 0

    def interpolate(self, attributes: np.ndarray, fill: float = 0.0) -> np.ndarray:
        """Per-pixel interpolation of per-vertex ``attributes`` ``(V, A)`` -> ``(H, W, A)``."""
        attrs = np.asarray(attributes, dtype=np.float64)
        out = np.full((*self.triangle.shape, attrs.shape[1]), fill, dtype=np.float64)
        m = self.mask
        corners = self.triangles[self.triangle[m]]  # (P, 3)
        out[m] = np.einsum("pk,pka->pa", self.bary[m], attrs[corners])
        return out


def rasterize(vertices: np.ndarray, triangles: np.ndarray, height: int, width: int) -> Raster:
    """Rasterise a mesh: ``vertices`` ``(V, 3)`` as (x, y, depth) in 0-based pixel-centre coordinates,
    ``triangles`` ``(T, 3)`` vertex indices."""
    v = np.ascontiguousarray(vertices, dtype=np.float64)
    tri = np.ascontiguousarray(triangles, dtype=np.int64)
    depth = np.full((height, width), -np.inf)
    index = np.full((height, width), -1, dtype=np.int64)
    bary = np.zeros((height, width, 3))
    _compiled()(v[:, 0].copy(), v[:, 1].copy(), v[:, 2].copy(), tri, height, width, depth, index, bary)
    return Raster(depth, index, bary, tri)
