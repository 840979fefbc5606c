"""Mesh files of a reconstructed face: Wavefront OBJ with its material and texture, PLY with colours, and
binary glTF (``.glb``) with its texture, vertex colours and the expression bases as named morph targets.

OBJ and PLY vertices are written in image pixels (0-based, x right, y down, z towards the camera), so that
a mesh lies over its photo; most 3D viewers show y down as upside down, which is the photo's own
convention. They are written here, not through trimesh: the code is a few lines of NumPy, and the tests
read every file back with trimesh. glTF is y up and in metres by its specification: a ``.glb`` holds the
face centred on its vertices' mean, y and z as glTF wants them, 1 pixel = 1 mm (:func:`gltf_frame`; the
node's ``extras.dasl_pixels`` gives the way back). It is written by trimesh, then its JSON gets what
trimesh does not write: the morph targets and vertex colours, and a plain white material under the
texture (trimesh's default tints it grey).
Every file is written under a temporary name and renamed, so no half-written mesh is ever left behind.
"""

from __future__ import annotations

import json
import struct
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


#: glTF units per image pixel (1 pixel = 1 mm: a face of 200 pixels is 0.2 m, as viewers expect a face)
GLTF_SCALE = 0.001


def gltf_frame(vertices: np.ndarray, centre: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Image-pixel vertices ``(K, 3)`` (y down, z towards the camera) in glTF's frame: centred on ``centre``
    (default: their mean), y up, z towards the viewer, :data:`GLTF_SCALE` metres per pixel; and the centre."""
    v = np.asarray(vertices, dtype=np.float64)
    centre = v.mean(0) if centre is None else np.asarray(centre, dtype=np.float64)
    out = (v - centre) * GLTF_SCALE
    out[:, 1] *= -1
    return out, centre


def _glb_chunks(data: bytes) -> tuple[dict, bytearray]:
    length = struct.unpack_from("<I", data, 12)[0]
    document = json.loads(data[20 : 20 + length])
    binary = bytearray(data[20 + length + 8 :]) if len(data) > 20 + length else bytearray()
    return document, binary


def _glb_bytes(document: dict, binary: bytes) -> bytes:
    binary = bytes(binary) + b"\0" * (-len(binary) % 4)
    document["buffers"][0]["byteLength"] = len(binary)
    text = json.dumps(document, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 4)
    total = 12 + 8 + len(text) + 8 + len(binary)
    return (
        struct.pack("<4sII", b"glTF", 2, total)
        + struct.pack("<I4s", len(text), b"JSON")
        + text
        + struct.pack("<I4s", len(binary), b"BIN\0")
        + binary
    )


def _add_accessor(document: dict, binary: bytearray, array: np.ndarray, component: int, kind: str, **extra) -> int:
    binary.extend(b"\0" * (-len(binary) % 4))
    document.setdefault("bufferViews", []).append({"buffer": 0, "byteOffset": len(binary), "byteLength": array.nbytes})
    binary.extend(array.tobytes())
    accessor = {
        "bufferView": len(document["bufferViews"]) - 1,
        "componentType": component,
        "count": len(array),
        "type": kind,
        **extra,
    }
    document.setdefault("accessors", []).append(accessor)
    return len(document["accessors"]) - 1


def write_glb(
    path: Path,
    vertices: np.ndarray,
    triangles: np.ndarray,
    uv: np.ndarray,
    texture: np.ndarray,
    colors: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    target_names: list[str] | None = None,
) -> Path:
    """Binary glTF of a face mesh (see the module docstring): image-pixel ``vertices`` ``(K, 3)``, ``uv``
    ``(K, 2)`` (v up, as OBJ) and ``texture`` ``(S, S, 3)`` RGB; optional vertex ``colors`` ``(K, 3)``
    0-255 (``COLOR_0``) and morph ``targets`` ``(M, K, 3)``, each a displacement in image pixels, named
    ``target_names`` (weights start at 0)."""
    import trimesh
    from PIL import Image

    gltf_vertices, centre = gltf_frame(vertices)
    visual = trimesh.visual.TextureVisuals(uv=np.asarray(uv, dtype=np.float64), image=Image.fromarray(texture))
    mesh = trimesh.Trimesh(gltf_vertices, np.asarray(triangles), visual=visual, process=False)
    document, binary = _glb_chunks(trimesh.exchange.gltf.export_glb(trimesh.Scene(mesh)))
    for material in document.get("materials", []):  # the texture as it is: no grey tint, not shiny
        pbr = material.setdefault("pbrMetallicRoughness", {})
        pbr.update(baseColorFactor=[1.0, 1.0, 1.0, 1.0], metallicFactor=0.0, roughnessFactor=1.0)
    primitive = document["meshes"][0]["primitives"][0]
    if colors is not None:
        rgb = np.clip(np.round(colors), 0, 255).astype(np.uint8)
        rgba = np.concatenate([rgb, np.full((len(rgb), 1), 255, np.uint8)], 1)
        primitive["attributes"]["COLOR_0"] = _add_accessor(document, binary, rgba, 5121, "VEC4", normalized=True)
    if targets is not None and len(targets):
        names = target_names or [f"target{k}" for k in range(len(targets))]
        primitive["targets"] = []
        for target in np.asarray(targets, dtype=np.float64):
            moved = target * GLTF_SCALE
            moved[:, 1] *= -1
            moved = moved.astype(np.float32)
            index = _add_accessor(
                document, binary, moved, 5126, "VEC3", min=moved.min(0).tolist(), max=moved.max(0).tolist()
            )
            primitive["targets"].append({"POSITION": index})
        document["meshes"][0]["weights"] = [0.0] * len(targets)
        document["meshes"][0].setdefault("extras", {})["targetNames"] = names
    document["nodes"][0].setdefault("extras", {})["dasl_pixels"] = {
        "about": "image pixels = glTF position / scale, y negated, plus centre",
        "scale": GLTF_SCALE,
        "centre": np.round(centre, 4).tolist(),
    }
    with atomic_path(path) as tmp:
        tmp.write_bytes(_glb_bytes(document, binary))
    return Path(path)
