"""Pictures of reconstructions: the overlay (shaded mesh, 68 landmarks, pose axes) and the depth map.

Meshes come in image pixels (0-based, y down, depth towards the camera); pictures are RGB uint8.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path
from dasl.render.raster import rasterize
from dasl.render.texture import sample_bilinear, vertex_normals


def _scene(meshes: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    vertices, triangles, offset = [], [], 0
    for v, t in meshes:
        vertices.append(v)
        triangles.append(t + offset)
        offset += len(v)
    return np.concatenate(vertices), np.concatenate(triangles)


def overlay(
    image: np.ndarray,
    meshes: Sequence[tuple[np.ndarray, np.ndarray]],
    landmarks: Sequence[np.ndarray] = (),
    axes: Sequence[tuple[np.ndarray, np.ndarray, float]] = (),
    alpha: float = 0.6,
) -> np.ndarray:
    """The photo with each mesh ``(vertices, triangles)`` drawn shaded (light from the camera), each face's
    68 ``landmarks`` ``(68, >=2)`` as dots, and pose ``axes`` ``(origin (3,), rotation (3, 3) in the
    y-up model frame, length)`` as red (x), green (y), blue (z) lines."""
    out = image.copy()
    h, w = image.shape[:2]
    if meshes:
        vertices, triangles = _scene(meshes)
        # only the meshes' bounding window is rasterised and blended (a face is a small part of a frame)
        x0, y0 = (max(0, int(np.floor(v))) for v in vertices[:, :2].min(0))
        x1, y1 = min(w, int(np.ceil(vertices[:, 0].max())) + 1), min(h, int(np.ceil(vertices[:, 1].max())) + 1)
        if x1 > x0 and y1 > y0:
            shifted = vertices - np.array([x0, y0, 0.0])
            raster = rasterize(shifted, triangles, y1 - y0, x1 - x0)
            shade = np.clip(vertex_normals(vertices, triangles)[:, 2], 0, 1) ** 0.8
            pixel = raster.interpolate(shade[:, None])[..., 0]
            m = raster.mask
            tone = np.array([200.0, 205.0, 215.0])
            window, source = out[y0:y1, x0:x1], image[y0:y1, x0:x1]
            blend = (1 - alpha) * source[m] + alpha * (pixel[m, None] * tone + 30)
            window[m] = np.clip(blend, 0, 255).astype(np.uint8)
    thickness = max(1, round(max(h, w) / 500))
    for points in landmarks:
        for x, y in np.asarray(points)[:, :2]:
            cv2.circle(out, (int(round(x)), int(round(y))), thickness + 1, (0, 255, 0), -1, cv2.LINE_AA)
    for origin, rotation, length in axes:
        start = (int(round(origin[0])), int(round(origin[1])))
        for k, color in enumerate([(255, 0, 0), (0, 200, 0), (0, 0, 255)]):
            direction = rotation[:, k] * [1.0, -1.0, 1.0]  # y-up model frame -> image (y down)
            end = (int(round(origin[0] + length * direction[0])), int(round(origin[1] + length * direction[1])))
            cv2.line(out, start, end, color, thickness + 1, cv2.LINE_AA)
    return out


def depth_map(shape: tuple[int, int], meshes: Sequence[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    """16-bit depth picture ``(H, W)``: 0 where no face, else 1..65535 from the farthest to the nearest
    visible surface point of all meshes."""
    h, w = shape
    out = np.zeros((h, w), np.uint16)
    if not meshes:
        return out
    vertices, triangles = _scene(meshes)
    raster = rasterize(vertices, triangles, h, w)
    m = raster.mask
    if m.any():
        d = raster.depth[m]
        lo, hi = d.min(), d.max()
        out[m] = (1 + (d - lo) / max(hi - lo, 1e-9) * 65534).astype(np.uint16)
    return out


def write_png(path: Path, picture: np.ndarray) -> Path:
    """A PNG of an RGB uint8 or a 16-bit grey picture, written atomically."""
    data = picture[:, :, ::-1] if picture.ndim == 3 else picture
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), data):
            raise OSError(f"cannot write {path}")
    return Path(path)


def textured_view(
    vertices: np.ndarray, triangles: np.ndarray, uv: np.ndarray, texture: np.ndarray, yaw: float = 30.0, size: int = 400
) -> np.ndarray:
    """A picture ``(size, size, 3)`` of a textured mesh (pixels, y down) turned by ``yaw`` degrees about its
    centre, on white, lightly shaded: to look at what an OBJ holds without a 3D viewer."""
    centre = vertices.mean(0)
    a = np.radians(yaw)
    rot = np.array([[np.cos(a), 0.0, np.sin(a)], [0.0, 1.0, 0.0], [-np.sin(a), 0.0, np.cos(a)]])
    v = (vertices - centre) @ rot.T
    extent = np.ptp(v[:, :2], axis=0).max()
    v[:, :2] = v[:, :2] / extent * (0.9 * size) + size / 2
    raster = rasterize(v, triangles, size, size)
    m = raster.mask
    th, tw = texture.shape[:2]
    coords = raster.interpolate(np.column_stack([uv[:, 0] * (tw - 1), (1 - uv[:, 1]) * (th - 1)]))[m]
    shade = np.clip(raster.interpolate(vertex_normals(v, triangles)[:, 2:3])[m], 0.3, 1.0) ** 0.5
    out = np.full((size, size, 3), 255, np.uint8)
    out[m] = np.clip(sample_bilinear(texture, coords) * shade, 0, 255).astype(np.uint8)
    return out


def render_obj(path: Path, yaws: Sequence[float] = (0.0, 35.0), size: int = 400) -> np.ndarray:
    """Views of a textured OBJ file (as :func:`dasl.export.mesh.write_obj` writes it: image pixels, y down)
    turned by each of ``yaws`` degrees, side by side ``(size, size * len(yaws), 3)``: what the file holds,
    reloaded from disk."""
    import trimesh

    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "mesh file")
    try:
        mesh = trimesh.load(path, process=False, force="mesh")
    except Exception as error:  # trimesh raises many kinds on a bad file
        raise BadInputError(path, f"not a readable OBJ mesh ({error})") from None
    visual = mesh.visual
    uv, material = getattr(visual, "uv", None), getattr(visual, "material", None)
    image = getattr(material, "image", None)
    if uv is None or image is None:
        raise BadInputError(path, "the mesh has no texture coordinates or no texture image (see its .mtl)")
    texture = np.asarray(image.convert("RGB"))
    vertices, triangles = np.asarray(mesh.vertices, np.float64), np.asarray(mesh.faces)
    return np.concatenate([textured_view(vertices, triangles, np.asarray(uv), texture, y, size) for y in yaws], 1)
