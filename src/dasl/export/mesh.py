"""Mesh files of a reconstructed face: Wavefront OBJ with its material and texture, and PLY with colours.

Vertices are written in image pixels (0-based, x right, y down, z towards the camera), so that a mesh
lies over its photo; most 3D viewers show y down as upside down, which is the photo's own convention.
Every file is written under a temporary name and renamed, so no half-written mesh is ever left behind.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dasl.fileio import atomic_path
from dasl.render.raster import rasterize
from dasl.render.texture import sample_bilinear


def uv_texture(
    image: np.ndarray,
    vertices: np.ndarray,
    triangles: np.ndarray,
    uv: np.ndarray,
    colors: np.ndarray,
    trust: np.ndarray,
    size: int = 512,
) -> np.ndarray:
    """The texture ``(size, size, 3)`` RGB uint8 of a mesh laid out by ``uv`` ``(V, 2)`` in [0, 1].

    Texels of well-seen surface sample the photo directly (full resolution); elsewhere they take the
    interpolated vertex ``colors`` (which fill self-occlusion from the mirror side).
    """
    layout = np.column_stack([uv[:, 0] * (size - 1), (1 - uv[:, 1]) * (size - 1), np.zeros(len(uv))])
    raster = rasterize(layout, triangles, size, size)
    attrs = raster.interpolate(np.column_stack([vertices[:, :2], trust, colors]))
    texture = np.zeros((size, size, 3), np.float64)
    mask = raster.mask
    direct = sample_bilinear(image, attrs[mask][:, :2])
    weight = np.clip((attrs[mask][:, 2] - 0.7) / 0.3, 0, 1)[:, None]
    texture[mask] = weight * direct + (1 - weight) * attrs[mask][:, 3:6]
    # bleed colours a few texels past the layout's edges so that filtering at seams stays in colour
    filled = cv2.inpaint(np.clip(texture, 0, 255).astype(np.uint8), (~mask).astype(np.uint8), 3, cv2.INPAINT_TELEA)
    return filled


def write_obj(
    path: Path, vertices: np.ndarray, triangles: np.ndarray, uv: np.ndarray, texture: np.ndarray
) -> list[Path]:
    """``path`` (.obj), its ``.mtl`` and ``_texture.png``: returns the three paths."""
    path = Path(path)
    mtl, png = path.with_suffix(".mtl"), path.with_name(path.stem + "_texture.png")
    faces = triangles + 1
    lines = [
        f"# dasl face mesh: {len(vertices)} vertices, {len(triangles)} triangles, image pixels",
        f"mtllib {mtl.name}",
        "usemtl face",
    ]
    body = "\n".join(
        [
            *lines,
            "\n".join(f"v {x:.4f} {y:.4f} {z:.4f}" for x, y, z in vertices),
            "\n".join(f"vt {u:.6f} {v:.6f}" for u, v in uv),
            "\n".join(f"f {a}/{a} {b}/{b} {c}/{c}" for a, b, c in faces),
        ]
    )
    with atomic_path(png) as tmp:
        if not cv2.imwrite(str(tmp), texture[:, :, ::-1]):
            raise OSError(f"cannot write {png}")
    with atomic_path(mtl) as tmp:
        tmp.write_text(f"newmtl face\nKa 1 1 1\nKd 1 1 1\nKs 0 0 0\nd 1\nillum 1\nmap_Kd {png.name}\n")
    with atomic_path(path) as tmp:
        tmp.write_text(body + "\n")
    return [path, mtl, png]


def write_ply(path: Path, vertices: np.ndarray, triangles: np.ndarray, colors: np.ndarray) -> Path:
    """Binary little-endian PLY with per-vertex RGB colours."""
    n, t = len(vertices), len(triangles)
    header = (
        "ply\nformat binary_little_endian 1.0\ncomment dasl face mesh, image pixels\n"
        f"element vertex {n}\nproperty float x\nproperty float y\nproperty float z\n"
        "property uchar red\nproperty uchar green\nproperty uchar blue\n"
        f"element face {t}\nproperty list uchar int vertex_indices\nend_header\n"
    ).encode()
    vertex = np.zeros(n, dtype=[("xyz", "<f4", 3), ("rgb", "u1", 3)])
    vertex["xyz"] = vertices
    vertex["rgb"] = np.clip(np.round(colors), 0, 255)
    face = np.zeros(t, dtype=[("count", "u1"), ("index", "<i4", 3)])
    face["count"] = 3
    face["index"] = triangles
    with atomic_path(path) as tmp:
        tmp.write_bytes(header + vertex.tobytes() + face.tobytes())
    return Path(path)
