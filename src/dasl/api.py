"""dasl's public Python API: ``Reconstructor`` turns photos into ``Face`` records.

>>> from dasl import Reconstructor
>>> faces = Reconstructor().reconstruct("photo.jpg")
>>> faces[0].landmarks_2d, faces[0].pose.yaw, faces[0].vertices

**Coordinates** in every ``Face`` are 0-based pixels of the photo (x right, y down; the top-left pixel's
centre is (0, 0), as in OpenCV), with depth ``z`` towards the camera in the same pixel units.
``Face.params`` are the 62 raw 3DMM parameters in the model frame of the face's 120x120 crop
(``docs/conventions.md``); ``Face.image_params`` the same face in the photo's model frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Literal

import numpy as np

from dasl.data.images import array_to_rgb8, read_rgb
from dasl.detect import DEFAULT_DETECTOR, DETECTOR_NAMES, Detections, calibration, find_faces, make_detector
from dasl.errors import OptionError
from dasl.export.mesh import uv_texture, write_glb, write_obj, write_ply
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import (
    CROP_ROI,
    CROP_SIZE,
    crop_landmarks,
    crop_pixels_to_crop,
    crop_to_image,
    crop_to_pixels,
    flip_y,
)
from dasl.geometry.params import crop_to_image_params, image_to_crop_params
from dasl.geometry.turns import turn_image, unturn_params, unturn_points
from dasl.morphable import layout
from dasl.morphable.model import MorphableModel, load_bfm
from dasl.morphable.pose import decompose
from dasl.morphable.symmetry import face_region
from dasl.paths import SharedData
from dasl.regressors import Backend, Regressor
from dasl.render.texture import vertex_colors
from dasl.stages import CropResult, load_stages
from dasl.stages.spec import MAP_SOURCES, MapSource, parse_model

#: how the refinement crop is placed: around the landmarks of a whole first pass of the stages (``stages``), or
#: of the landmark source alone, one pass without mirror averaging (``landmarks``; cheaper)
REFINE_WITH = ("stages", "landmarks")
DetectorName = Literal[
    "mtcnn", "mtcnn-turns", "blazeface", "blazeface-turns", "dlib", "dlib-hog", "dlib-mmod", "faceboxes"
]


@dataclass(frozen=True)
class HeadPose:
    """``yaw``, ``pitch``, ``roll`` in degrees (AFLW2000-3D signs: yaw > 0 turns the face to the image's
    left, pitch > 0 lifts the chin, roll > 0 tilts the head clockwise), ``rotation`` ``(3, 3)`` in the
    y-up model frame, ``scale`` (pixels per 3DMM unit) and ``translation`` ``(3,)`` of the photo's model
    frame."""

    yaw: float
    pitch: float
    roll: float
    rotation: np.ndarray
    scale: float
    translation: np.ndarray


@dataclass
class Face:
    """One reconstructed face (see the module docstring for coordinates)."""

    box: np.ndarray  # (4,) x0, y0, x1, y1 of the detector (or given) box, photo pixels
    score: float
    roi: np.ndarray  # (4,) the crop box [sx, sy, ex, ey] (image frame, 1-based, of the turned photo)
    params: np.ndarray  # (62,) raw parameters, crop model frame
    image_height: int  # of the photo the crop was cut from (the turned photo)
    morphable: MorphableModel = field(repr=False)  # decodes ``params`` (the 68 landmarks at least)
    dense: MorphableModel | None = field(default=None, repr=False)  # the dense 3DMM for meshes
    #: quarter turns of the photo the crop was cut from (:mod:`dasl.geometry.turns`: a face lying down is
    #: cropped upright from the turned photo), and the photo's own ``(width, height)`` (needed when turned)
    turn: int = 0
    photo_size: tuple[int, int] | None = None
    #: how sure the stages are that this is a face (:class:`dasl.stages.crops.CropResult`, crop pixels;
    #: NaN where they cannot tell): the regressor's and the landmark source's landmarks apart, and the
    #: landmark source's doubt
    disagreement: float = float("nan")
    doubt: float = float("nan")

    def _to_photo(self, points: np.ndarray) -> np.ndarray:
        """Pixels of the turned photo to the photo's own."""
        return points if self.turn % 4 == 0 else unturn_points(points, self.turn, *self.photo_size)

    @cached_property
    def image_params(self) -> np.ndarray:
        """``(62,)`` parameters in the photo's model frame (``y_img = H + 1 - y``, 1-based)."""
        turned = crop_to_image_params(self.params[None], self.roi[None], self.image_height)
        return turned[0] if self.turn % 4 == 0 else unturn_params(turned, self.turn, *self.photo_size)[0]

    @cached_property
    def landmarks_3d(self) -> np.ndarray:
        """``(68, 3)`` landmarks: pixels and depth."""
        return self._to_photo(crop_to_pixels(crop_landmarks(self.morphable, self.params[None]), self.roi[None])[0])

    @property
    def landmarks_2d(self) -> np.ndarray:
        """``(68, 2)`` landmarks in pixels."""
        return self.landmarks_3d[:, :2]

    @cached_property
    def vertices(self) -> np.ndarray:
        """``(K, 3)`` dense mesh vertices (pixels and depth) of :attr:`dense`."""
        if self.dense is None:
            raise ValueError("this face has no dense 3DMM")
        return self._to_photo(crop_to_pixels(flip_y(self.dense.vertices(self.params[None])), self.roi[None])[0])

    @cached_property
    def pose(self) -> HeadPose:
        p = decompose(self.image_params[None])
        yaw, pitch, roll = p.angles[0]
        return HeadPose(float(yaw), float(pitch), float(roll), p.rotation[0], float(p.scale[0]), p.translation[0])

    # ------------------------------------------------------------------ meshes
    @property
    def region(self):
        """The 3DMM's face region (no ears, no neck): what mesh files hold."""
        return face_region(self.dense)

    @property
    def mesh_vertices(self) -> np.ndarray:
        """``(K, 3)`` face-region vertices (pixels and depth)."""
        return self.region.take(self.vertices)

    def vertex_colors(self, image: np.ndarray):
        """Colours of the face-region vertices from ``image`` (the photo of this face), hidden parts filled
        from the mirror side (:func:`dasl.render.texture.vertex_colors`)."""
        return vertex_colors(image, self.mesh_vertices, self.region.triangles, self.region.mirror)

    def save_obj(self, path: str | Path, image: np.ndarray, texture_size: int = 512) -> list[Path]:
        """The face-region mesh as OBJ + MTL + texture PNG sampled from ``image``; returns the files."""
        colors = self.vertex_colors(image)
        region = self.region
        texture = uv_texture(
            image, self.mesh_vertices, region.triangles, region.uv, colors.colors, colors.trust, texture_size
        )
        return write_obj(Path(path), self.mesh_vertices, region.triangles, region.uv, texture)

    def expression_targets(self) -> np.ndarray:
        """``(10, K, 3)`` how the face-region vertices move (pixels and depth) when each expression
        coefficient grows by one standard deviation of the 3DMM's statistics (the glTF morph targets)."""
        out = []
        std = self.dense.param_std[layout.EXPRESSION]
        for k, step in enumerate(std):
            moved = self.params.copy()
            moved[layout.EXPRESSION.start + k] += step
            other = replace(self, params=moved)
            out.append(other.mesh_vertices - self.mesh_vertices)
        return np.stack(out)

    def save_glb(self, path: str | Path, image: np.ndarray, texture_size: int = 512, morph: bool = True) -> Path:
        """The face-region mesh as binary glTF: UV texture and vertex colours from ``image`` and, with
        ``morph``, the 10 expression bases as morph targets ``expression_0`` ... ``expression_9``
        (:func:`dasl.export.mesh.write_glb`; y up, 1 pixel = 1 mm)."""
        colors = self.vertex_colors(image)
        region = self.region
        texture = uv_texture(
            image, self.mesh_vertices, region.triangles, region.uv, colors.colors, colors.trust, texture_size
        )
        targets = self.expression_targets() if morph else None
        names = [f"expression_{k}" for k in range(len(targets))] if morph else None
        return write_glb(
            Path(path), self.mesh_vertices, region.triangles, region.uv, texture, colors.colors, targets, names
        )

    def save_ply(self, path: str | Path, image: np.ndarray) -> Path:
        """The face-region mesh as PLY with vertex colours from ``image``."""
        return write_ply(Path(path), self.mesh_vertices, self.region.triangles, self.vertex_colors(image).colors)

    def to_dict(self) -> dict:
        """A JSON-ready record: box, score, crop ROI, parameters, landmarks, pose."""
        pose = self.pose
        return {
            "box": np.round(self.box, 2).tolist(),
            "score": round(float(self.score), 4),
            "roi": np.round(self.roi, 2).tolist(),
            "turn": int(self.turn % 4),
            "disagreement": None if np.isnan(self.disagreement) else round(float(self.disagreement), 3),
            "doubt": None if np.isnan(self.doubt) else round(float(self.doubt), 3),
            "params": self.params.tolist(),
            "image_params": self.image_params.tolist(),
            "landmarks_2d": np.round(self.landmarks_2d, 3).tolist(),
            "landmarks_3d": np.round(self.landmarks_3d, 3).tolist(),
            "pose": {
                "yaw": round(pose.yaw, 3),
                "pitch": round(pose.pitch, 3),
                "roll": round(pose.roll, 3),
                "rotation": np.round(pose.rotation, 6).tolist(),
                "scale": pose.scale,
                "translation": np.round(pose.translation, 3).tolist(),
            },
        }


def _crops(image: np.ndarray, rois: np.ndarray) -> np.ndarray:
    """The 120x120 crops ``(N, 120, 120, 3)`` of a photo's ROIs ``(N, 4)`` (image frame)."""
    return np.stack([crop_image(image, r) for r in rois])


class Reconstructor:
    """Faces in, 3DMM reconstructions out.

    ``model``: a model string (:mod:`dasl.stages.spec`): ``"default"`` (``"dasl-light+fit+detflip"``: the
    shipped dasl-light on the map of dasl-landmarks mirror-averaged, fitted to its landmarks),
    ``"dasl-light"``, ``"dasl-resnet50"``,
    ``"3ddfa-v2-mb05"`` (the peer, weights from the shared folder), or a path to a dasl model file /
    training checkpoint / ONNX file; ``NAME+flip`` is ``flip=True``.
    ``backend``: ``"auto"`` (ONNX Runtime for dasl's networks, PyTorch for the peer), ``"torch"`` or
    ``"onnx"`` (dasl models: a ``.onnx`` path as it is, other models through an export made once and
    cached, :mod:`dasl.nets.onnx_runtime`).
    ``detector``: ``"mtcnn"`` (:mod:`dasl.detect.mtcnn`; the photo turned by quarter turns where the
    upright photo shows no face), ``"mtcnn-turns"`` (the turned photo always searched too), ``"blazeface"``
    and ``"blazeface-turns"`` (:mod:`dasl.detect.blazeface`, MediaPipe's BlazeFace), ``"dlib"``
    (HOG, then the MMOD CNN when HOG finds nothing), ``"dlib-hog"``, ``"dlib-mmod"``.
    ``map_source``: where a 4-channel model's landmark map comes from: ``"self"`` (its own prediction,
    iterated), ``"dlib"`` (dlib's 68-point predictor on the crop) or ``"detector"`` (dasl's landmark
    detector, :mod:`dasl.landmarkers`; the model-string suffix ``+det``); ``None``: what the model string
    says (``default``: the detector, and the fit). The stages after the crop are :attr:`stages`
    (:class:`dasl.stages.crops.CropStages`). ``refine``: crop again around
    the first prediction's landmarks and predict once more. ``flip``: average each prediction with the
    mirror of the prediction for the mirrored crop (:mod:`dasl.regressors.flip`; twice the regressor
    time); ``None`` turns it on for models whose 3DMM can be mirrored (dasl's) unless they are fitted to
    the detector (``+fit``, the default), off for the peer. ``verify``: drop the detector's boxes whose
    crops fail the stages' confidence test (:meth:`dasl.stages.crops.CropStages.holds_face`: false boxes
    on patterns that look like faces); boxes given to :meth:`reconstruct` are always kept.
    """

    def __init__(
        self,
        model: str | Path = "default",
        backend: Backend = "auto",
        detector: DetectorName = DEFAULT_DETECTOR,
        map_source: MapSource | None = None,
        refine: bool | int = True,
        flip: bool | None = None,
        shared: SharedData | str | Path | None = None,
        verify: bool = True,
        refine_with: str = "stages",
    ) -> None:
        if map_source is not None and map_source not in MAP_SOURCES:
            raise OptionError(f"unknown landmark map source {map_source!r}; use {', '.join(MAP_SOURCES)}")
        if detector not in DETECTOR_NAMES:
            raise OptionError(f"unknown detector {detector!r}; known: {', '.join(DETECTOR_NAMES)}")
        # "dasl-light+det+flip" is map_source="detector", flip=True
        spec = parse_model(model, backend, flip, map_source)
        shared = shared if isinstance(shared, SharedData) else SharedData.find(shared)
        self.bfm = load_bfm(shared)
        self.stages = load_stages(spec, shared)
        if refine_with not in REFINE_WITH:
            raise OptionError(f"unknown refinement {refine_with!r}; use {' or '.join(REFINE_WITH)}")
        self.detector_name, self.refine, self.verify, self.refine_with = detector, refine, verify, refine_with
        self._detector = self._upright = None
        #: the arguments this reconstructor was made with (a folder run's workers make their own from them)
        self.settings = {
            "model": str(model),
            "backend": backend,
            "detector": detector,
            "map_source": map_source,
            "refine": refine,
            "flip": flip,
            "shared": str(shared.root),
            "verify": verify,
            "refine_with": refine_with,
        }

    @property
    def regressor(self) -> Regressor:
        """The regressor stage (crop + map to parameters)."""
        return self.stages.regressor

    @property
    def detector(self):
        if self._detector is None:
            self._detector = make_detector(self.detector_name)
        return self._detector

    @property
    def upright_detector(self):
        """The detector without its turned-photo searches (:meth:`dasl.detect.base.FaceDetector.upright`)."""
        if self._upright is None:
            self._upright = self.detector.upright()
        return self._upright

    # ------------------------------------------------------------------ detection
    def detect(self, image: np.ndarray, resolution: float = 1.0, upright: bool = False) -> Detections:
        """The faces of a photo: boxes ``(N, 5)`` ``[x0, y0, x1, y1, score]`` in 0-based pixels, with the
        detector that found them (:func:`dasl.detect.find_faces`; ``resolution`` below 1: larger faces
        only, faster; ``upright``: no searches of the turned photo, as video runs it)."""
        with self.stages.timed("face boxes"):
            return find_faces(self.upright_detector if upright else self.detector, image, resolution)

    # ------------------------------------------------------------------ regression
    def regress(self, image: np.ndarray, rois: np.ndarray, start: np.ndarray | None = None) -> CropResult:
        """The stages after the crop (:class:`dasl.stages.crops.CropStages`) on the crops ``rois`` ``(N, 4)``
        (image frame) of a photo: parameters ``(N, 62)`` each in its crop's model frame, the landmark
        source's landmarks, and the disagreement (crop pixels; large on crops without a face). ``start``
        ``(N, 62)``: photo-frame parameters known to be near the faces (a tracked face's last frame): the
        default fits its landmark source's points from there and skips the regressor's pass."""
        with self.stages.timed("crop"):
            crops = _crops(image, rois)
        if start is not None:
            start = image_to_crop_params(start, rois, image.shape[0])
        return self.stages.run(crops, start=start)

    def reconstruct(self, image: np.ndarray | str | Path, boxes: np.ndarray | None = None) -> list[Face]:
        """Every face of a photo (a path, or an array: RGB(A) or grey, uint8, uint16 or float, converted as
        files are, :func:`dasl.data.images.array_to_rgb8`); ``boxes`` ``(N, >=4)`` in 0-based pixels
        skip the detector (they are taken to look like the detector's boxes: its ROI calibration applies,
        a cascade's first detector's; the faces upright). A face the detector finds lying down
        (:attr:`dasl.detect.base.Detections.turns`) is cropped upright from the photo turned by quarter
        turns, and its results turned back (:mod:`dasl.geometry.turns`)."""
        image = read_rgb(image) if not isinstance(image, np.ndarray) else array_to_rgb8(image)
        if boxes is None:
            found = self.detect(image)
        else:
            given = np.asarray(boxes, dtype=np.float64).reshape(-1, np.shape(boxes)[-1])
            if given.shape[1] == 4:
                given = np.column_stack([given, np.ones(len(given))])
            found = Detections(given, self.detector_name, calibration(self.detector_name))
        if len(found) == 0:
            return []
        h, w = image.shape[:2]
        rois = found.rois((w, h))
        params, checks = np.zeros((len(found), 62)), np.full((2, len(found)), np.nan)
        keep = np.ones(len(found), dtype=bool)
        for k in np.unique(found.turns):
            mine = found.turns == k
            photo = turn_image(image, int(k))
            for _ in range(int(self.refine)):  # True: once
                rois[mine] = self.refined_rois(photo, rois[mine])
            result = self.regress(photo, rois[mine])
            params[mine], checks[:, mine] = result.params, (result.disagreement, result.doubt)
            if self.verify and boxes is None:
                keep[mine] = self.stages.holds_face(result)
        faces = self.faces(params, rois, found.boxes, h, turns=found.turns, photo_size=(w, h))
        for face, (disagreement, doubt) in zip(faces, checks.T, strict=True):
            face.disagreement, face.doubt = float(disagreement), float(doubt)
        return [f for f, k in zip(faces, keep, strict=True) if k]

    def refined_rois(self, image: np.ndarray, rois: np.ndarray) -> np.ndarray:
        """The refinement crops of the crops ``rois`` ``(N, 4)`` of a photo (a detection's first crop): the
        landmark ROI rule (as the training and benchmark crops are cut) around a first estimate of the 68
        landmarks, from the whole stages or from the landmark source alone (:data:`REFINE_WITH`)."""
        if self.refine_with == "landmarks" and self.stages.landmarker is not None:
            with self.stages.timed("crop"):
                crops = _crops(image, rois)
            with self.stages.mirroring(False):
                points = self.stages.locate(crops).points
            return roi_from_landmarks(crop_to_image(points, rois))
        return self.landmark_rois(self.regress(image, rois).params, rois)

    def landmark_rois(self, params: np.ndarray, rois: np.ndarray) -> np.ndarray:
        """The crop ROIs around the 68 landmarks of parameters ``(N, 62)`` of the crops ``rois`` (the
        landmark ROI rule: the next crop of a refinement, or of a tracked face's next frame)."""
        return roi_from_landmarks(crop_to_image(crop_landmarks(self.stages.morphable, params), rois))

    def predict_crops(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> list[Face]:
        """The model on ready 120x120 RGB uint8 crops ``(N, 120, 120, 3)`` (3DDFA protocol), batched.

        Returned faces are in the crops' own 0-based pixels. ``landmarks`` ``(N, 68, 2)`` (crop pixels) replace
        the landmark source's (a 4-channel model's map, the fit); without them the stages run as configured.
        """
        crops = np.asarray(crops)
        if crops.ndim != 4 or crops.shape[1:] != (CROP_SIZE, CROP_SIZE, 3) or crops.dtype != np.uint8:
            raise OptionError(f"crops must be uint8 (N, {CROP_SIZE}, {CROP_SIZE}, 3), got {crops.dtype} {crops.shape}")
        marks = None if landmarks is None else crop_pixels_to_crop(landmarks)
        params = self.stages.predict(crops, marks)
        rois = np.tile(CROP_ROI, (len(crops), 1))  # each crop is its own photo
        boxes = np.tile([0.0, 0.0, CROP_SIZE - 1.0, CROP_SIZE - 1.0, 1.0], (len(crops), 1))  # first to last pixel
        return self.faces(params, rois, boxes, CROP_SIZE)

    def faces(
        self,
        params: np.ndarray,
        rois: np.ndarray,
        boxes: np.ndarray,
        image_height: int,
        turns: np.ndarray | None = None,
        photo_size: tuple[int, int] | None = None,
    ) -> list[Face]:
        """:class:`Face` records of parameters ``(N, 62)`` of the crops ``rois`` with their ``boxes``
        ``(N, 5)`` (0-based pixels, with a score); ``turns`` ``(N,)``: the quarter turns of the photo each
        crop was cut from (``rois`` are in that turned photo; ``image_height`` is then the photo's own,
        ``photo_size`` its ``(width, height)``)."""
        morphable = self.stages.morphable
        dense = morphable if morphable.triangles is not None else self.bfm
        turns = np.zeros(len(params), dtype=int) if turns is None else np.asarray(turns, dtype=int) % 4
        faces = []
        for i in range(len(params)):
            height = image_height if turns[i] % 2 == 0 else photo_size[0]
            faces.append(
                Face(
                    boxes[i, :4].copy(),
                    float(boxes[i, 4]),
                    rois[i].copy(),
                    params[i].copy(),
                    int(height),
                    morphable,
                    dense,
                    int(turns[i]),
                    photo_size,
                )
            )
        return faces
