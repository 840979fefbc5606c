"""Face profiling (300W-LP style): the same photo re-rendered with the head turned, with exact labels.

The fitted face and the photo around it become one textured 3D mesh:

* the face: the 3DMM's face region (no ears, no neck), each vertex coloured from the photo where it
  projects; vertices hidden in the photo (self-occlusion) blend in the colour of their mirror partner,
  so a cheek that turns into view is filled from the other cheek;
* the surroundings: a grid over the photo (and a margin), triangulated together with the face mesh's
  boundary vertices, on a depth that blends from the face boundary to the boundary's median depth away
  from the face, so face and background stay joined without seams; the share of the head's turn a
  background vertex follows fades the same way, so the far background stays put and fills the frame.

Turning the mesh about the head's centre and rendering it with the z-buffer gives the new photo; turning
the 62 parameters by the same rotation gives its labels, exactly (the rendered face is the 3DMM mesh).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import cv2
import numpy as np
from scipy.spatial import Delaunay, cKDTree

from dasl.geometry.frames import flip_y, image_to_pixels, pixels_to_image
from dasl.geometry.params import affine_params
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import rotation_from_euler
from dasl.morphable.symmetry import face_region
from dasl.render.raster import rasterize
from dasl.render.texture import vertex_colors


def mesh_boundary_vertices(triangles: np.ndarray) -> np.ndarray:
    """Vertices on the boundary of a triangle mesh (edges used by one triangle only)."""
    edges = np.sort(np.concatenate([triangles[:, [0, 1]], triangles[:, [1, 2]], triangles[:, [2, 0]]]), axis=1)
    unique, counts = np.unique(edges, axis=0, return_counts=True)
    return np.unique(unique[counts == 1])


@dataclass
class Profile:
    """One synthesised view: the photo ``image`` (RGB uint8) and its ``params`` (image model frame)."""

    image: np.ndarray
    params: np.ndarray
    yaw_delta: float
    pitch_delta: float


class FaceProfiler:
    """Builds the textured scene of one photo once, then renders it at any head rotation."""

    def __init__(self, model: MorphableModel, grid_step: int = 12, margin: float = 0.6, falloff: float = 1.5) -> None:
        """``grid_step`` pixels between background vertices; ``margin`` of the photo's size added around it;
        ``falloff`` (in face sizes) how far the background follows the face boundary's depth. A slow
        falloff keeps the background's depth gradient small, so it turns without folding over itself."""
        if model.triangles is None or model.symmetric_pairs is None:
            raise ValueError("profiling needs the dense 3DMM with triangles and symmetric pairs")
        self.model, self.grid_step, self.margin, self.falloff = model, grid_step, margin, falloff

    @cached_property
    def _face(self) -> tuple[MorphableModel, np.ndarray, np.ndarray, np.ndarray]:
        """The face-region sub-model (no ears, no neck), its triangles, boundary and mirror map."""
        region = face_region(self.model)
        sub = self.model.subset(region.vertex_ids, name="face")
        return sub, region.triangles, mesh_boundary_vertices(region.triangles), region.mirror

    def scene(self, image: np.ndarray, params: np.ndarray) -> Scene:
        """The textured mesh of a photo ``(H, W, 3)`` whose face has ``params`` ``(62,)`` (image model frame)."""
        h, w = image.shape[:2]
        model, face_triangles, boundary, mirror = self._face
        face = image_to_pixels(flip_y(model.vertices(params[None]), size=h))[0]
        size = float(np.sqrt(np.ptp(face[:, 0]) * np.ptp(face[:, 1])))
        raster = rasterize(face, face_triangles, h, w)
        colors = vertex_colors(image, face, face_triangles, mirror).colors

        # the surroundings: a grid over the photo plus a margin, outside the face's silhouette
        pad = int(self.margin * max(h, w))
        gx, gy = np.meshgrid(
            np.arange(-pad, w + pad + 1, self.grid_step, dtype=np.float64),
            np.arange(-pad, h + pad + 1, self.grid_step, dtype=np.float64),
        )
        grid = np.column_stack([gx.ravel(), gy.ravel()])
        silhouette = cv2.dilate(raster.mask.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        gc = np.clip(np.round(grid[:, 0]).astype(int), 0, w - 1)
        gr = np.clip(np.round(grid[:, 1]).astype(int), 0, h - 1)
        inside_photo = (grid[:, 0] >= 0) & (grid[:, 0] < w) & (grid[:, 1] >= 0) & (grid[:, 1] < h)
        grid = grid[~(silhouette[gr, gc] & inside_photo)]
        anchors = face[boundary]
        reference = float(np.median(anchors[:, 2]))
        distance, nearest = cKDTree(anchors[:, :2]).query(grid)
        blend = np.exp(-0.5 * (distance / (self.falloff * size)) ** 2)
        grid_depth = reference + (anchors[nearest, 2] - reference) * blend
        points2d = np.concatenate([anchors[:, :2], grid])
        tri = Delaunay(points2d).simplices
        # triangles between three face-boundary vertices may span the face: keep those outside it only
        only_boundary = (tri < len(boundary)).all(1)
        centroid = points2d[tri[only_boundary]].mean(1)
        cc = np.clip(np.round(centroid[:, 0]).astype(int), 0, w - 1)
        cr = np.clip(np.round(centroid[:, 1]).astype(int), 0, h - 1)
        drop = np.zeros(len(tri), dtype=bool)
        drop[only_boundary] = raster.mask[cr, cc]
        tri = tri[~drop]
        # the background's own copies of the boundary vertices: same position, but textured from where
        # they are in the photo (a face vertex may take its colour from its mirror partner)
        vertices = np.concatenate([face, anchors, np.column_stack([grid, grid_depth])])
        sources = np.concatenate([face[:, :2], anchors[:, :2], grid])
        triangles = np.concatenate([face_triangles, len(face) + tri])
        pivot = face.mean(0)
        # face vertices carry their colour (no texture coordinates: a triangle whose corners take colour
        # from both cheeks must blend colours, not stretch the photo between the cheeks)
        # how much of the head's turn each vertex follows: all of it on the face, fading out with distance
        # so that the far background stays put and keeps the frame filled
        follow = np.concatenate([np.ones(len(face) + len(anchors)), blend])
        return Scene(image, params, vertices, sources, triangles, pivot, len(face_triangles), colors, follow)


@dataclass
class Scene:
    image: np.ndarray
    params: np.ndarray
    vertices: np.ndarray  # (V, 3) 0-based pixel x, y (down) and depth
    sources: np.ndarray  # (V, 2) where each vertex takes its colour in the photo
    triangles: np.ndarray
    pivot: np.ndarray  # (3,) centre of rotation (0-based pixels, depth)
    n_face_triangles: int  # the first triangles are the face mesh's
    colors: np.ndarray  # (n_face_vertices, 3) colour of each face vertex
    follow: np.ndarray  # (V,) share of the rotation each vertex follows (1 on the face)

    def render(self, yaw_delta: float, pitch_delta: float = 0.0) -> Profile:
        """The photo with the head turned by ``yaw_delta`` (and tilted by ``pitch_delta``) degrees, in the
        sign convention of :mod:`dasl.morphable.pose`, and its exact parameters."""
        h, w = self.image.shape[:2]
        # rotation in the y-up image model frame; the rasteriser's frame has y down: conjugate by flipping y
        angles = np.array([yaw_delta, pitch_delta, 0.0])
        rot_up = rotation_from_euler(angles[None])[0]
        flip = np.diag([1.0, -1.0, 1.0])
        rot_down = flip @ rotation_from_euler(self.follow[:, None] * angles) @ flip  # (V, 3, 3)
        moved = np.einsum("vij,vj->vi", rot_down, self.vertices - self.pivot) + self.pivot
        raster = rasterize(moved, self.triangles, h, w)
        uv = raster.interpolate(self.sources, fill=-1.0).astype(np.float32)
        out = cv2.remap(self.image, uv[..., 0], uv[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        on_face = (raster.triangle >= 0) & (raster.triangle < self.n_face_triangles)
        colors = np.zeros((len(self.vertices), 3))
        colors[: len(self.colors)] = self.colors
        out[on_face] = np.clip(raster.interpolate(colors)[on_face], 0, 255).astype(np.uint8)
        out[~raster.mask] = 0
        # labels: V' = R (V - c) + c in the image model frame, where c is the pivot there
        c_up = flip_y(pixels_to_image(self.pivot[None]), size=h)[0]
        params = affine_params(self.params[None], rot_up, c_up - rot_up @ c_up)[0]
        return Profile(out, params, yaw_delta, pitch_delta)
