"""Colours of a fitted mesh from the photo it was fitted to, with self-occlusion filled by symmetry.

Each vertex takes the colour of the photo where it projects. Vertices the photo does not show (hidden
by the face itself, or seen at a grazing angle) blend in the colour of their mirror partner, weighted by
how squarely each of the two faces the camera; the weights are smoothed over the mesh so that colours
change gradually instead of alternating vertex by vertex.

Coordinates are 0-based pixel centres with depth towards the camera (see :mod:`dasl.render.raster`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dasl.render.raster import rasterize


def sample_bilinear(image: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear samples ``(P, C)`` of an ``(H, W, C)`` image at points ``(P, 2)`` (clamped to the image)."""
    h, w = image.shape[:2]
    x = np.clip(points[:, 0], 0, w - 1)
    y = np.clip(points[:, 1], 0, h - 1)
    x0, y0 = np.floor(x).astype(int), np.floor(y).astype(int)
    x1, y1 = np.minimum(x0 + 1, w - 1), np.minimum(y0 + 1, h - 1)
    fx, fy = (x - x0)[:, None], (y - y0)[:, None]
    img = image.astype(np.float64)
    top = img[y0, x0] * (1 - fx) + img[y0, x1] * fx
    bottom = img[y1, x0] * (1 - fx) + img[y1, x1] * fx
    return top * (1 - fy) + bottom * fy


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Unit vertex normals ``(V, 3)`` (area-weighted), oriented so that most of the mesh faces +z."""
    a, b, c = (vertices[triangles[:, i]] for i in range(3))
    normals = np.cross(b - a, c - a)
    corners = triangles.T.ravel()  # each triangle's normal goes to its three vertices (bincount: no add.at)
    per_vertex = np.stack(
        [np.bincount(corners, np.tile(normals[:, k], 3), minlength=len(vertices)) for k in range(3)], 1
    )
    per_vertex /= np.linalg.norm(per_vertex, axis=1, keepdims=True) + 1e-12
    return per_vertex if np.median(per_vertex[:, 2]) >= 0 else -per_vertex


def smooth_on_mesh(values: np.ndarray, triangles: np.ndarray, rounds: int = 3) -> np.ndarray:
    """Average each vertex's value with its mesh neighbours ``rounds`` times."""
    from scipy import sparse  # imported here: SciPy's import is a tenth of a JSON-only run's start-up

    n = len(values)
    rows = triangles[:, [0, 1, 2, 1, 2, 0]].ravel()
    cols = triangles[:, [1, 2, 0, 0, 1, 2]].ravel()
    adjacency = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    adjacency.data[:] = 1.0
    degree = np.asarray(adjacency.sum(1)).ravel() + 1
    for _ in range(rounds):
        values = (adjacency @ values + values) / degree
    return values


@dataclass
class VertexColors:
    colors: np.ndarray  # (V, 3) float, 0..255
    trust: np.ndarray  # (V,) how much of each colour is the vertex's own pixel (0..1)


def vertex_colors(image: np.ndarray, vertices: np.ndarray, triangles: np.ndarray, mirror: np.ndarray) -> VertexColors:
    """Colours of a mesh ``vertices`` ``(V, 3)`` (0-based pixels + depth) from ``image`` ``(H, W, 3)``;
    ``mirror`` ``(V,)`` is each vertex's mirror partner (itself when it has none)."""
    h, w = image.shape[:2]
    size = float(np.sqrt(np.ptp(vertices[:, 0]) * np.ptp(vertices[:, 1])))
    raster = rasterize(vertices, triangles, h, w)
    cols = np.clip(np.round(vertices[:, 0]).astype(int), 0, w - 1)
    rows = np.clip(np.round(vertices[:, 1]).astype(int), 0, h - 1)
    inside = (vertices[:, 0] >= 0) & (vertices[:, 0] <= w - 1) & (vertices[:, 1] >= 0) & (vertices[:, 1] <= h - 1)
    visible = inside & (vertices[:, 2] >= raster.depth[rows, cols] - 0.01 * size)
    facing = vertex_normals(vertices, triangles)[:, 2]
    trust = smooth_on_mesh(visible * np.clip((facing - 0.1) / 0.3, 0.0, 1.0), triangles)
    own, partner = sample_bilinear(image, vertices[:, :2]), sample_bilinear(image, vertices[mirror, :2])
    w_partner = trust[mirror] * (1 - trust)
    total = trust + w_partner
    colors = np.where(
        total[:, None] > 1e-6,
        (trust[:, None] * own + w_partner[:, None] * partner) / np.maximum(total, 1e-6)[:, None],
        own,
    )
    return VertexColors(colors, trust)
