"""FaceBoxes (Zhang et al., "FaceBoxes: A CPU Real-time Face Detector with High Accuracy", 2017), the face
detector of the 3DDFA_V2 peer's own pipeline, for side-by-side baselines only (weights
``models/peers/faceboxes_prod.pth`` in the shared folder; PyTorch).

The network, from the paper: a rapidly digested part (7x7 convolution of stride 4 and 5x5 of stride 2, each
with batch norm and a concatenated ReLU, each followed by a 3x3 max pool of stride 2), three inception
blocks (1x1; 3x3 average pool then 1x1; 1x1 then 3x3; 1x1 then two 3x3: 32 channels each), then two
1x1 + 3x3 (stride 2) pairs; anchors on three maps of stride 32, 64 and 128: sides 32 (densified 4x4),
64 (2x2) and 128 on the first, 256 and 512 on the others. Box offsets decode SSD-style with variances
0.1 and 0.2. As 3DDFA_V2 runs it: BGR input minus the means (104, 117, 123), photos taller than 720 rows
scaled to 720, boxes of face probability above 0.5 after non-maximum suppression at IoU 0.3.
"""

from __future__ import annotations

from functools import cache

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from dasl.detect.base import Detections, FaceDetector, RoiCalibration
from dasl.geometry.boxes import nms
from dasl.paths import SharedData

#: 3DDFA_V2's crop rule for FaceBoxes' boxes (``roi_from_box``'s defaults: side 1.58 times the mean side,
#: centre moved down 0.14 of it)
PEER_CALIBRATION = RoiCalibration(1.58, 0.0, 0.14)
MEANS_BGR = (104.0, 117.0, 123.0)
MAX_HEIGHT = 720
VARIANCES = (0.1, 0.2)
THRESHOLD, NMS_IOU = 0.5, 0.3


class _Conv(nn.Module):
    """Convolution (no bias) + batch norm, then ReLU, or with ``crelu`` the concatenated ReLU."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0, crelu: bool = False):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, kernel, stride, padding, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)
        self.crelu = crelu

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        return F.relu(torch.cat([x, -x], 1) if self.crelu else x)


class _Inception(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.branch1x1 = _Conv(128, 32, 1)
        self.branch1x1_2 = _Conv(128, 32, 1)
        self.branch3x3_reduce = _Conv(128, 24, 1)
        self.branch3x3 = _Conv(24, 32, 3, padding=1)
        self.branch3x3_reduce_2 = _Conv(128, 24, 1)
        self.branch3x3_2 = _Conv(24, 32, 3, padding=1)
        self.branch3x3_3 = _Conv(32, 32, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.branch1x1_2(F.avg_pool2d(x, 3, 1, 1))
        single = self.branch3x3(self.branch3x3_reduce(x))
        double = self.branch3x3_3(self.branch3x3_2(self.branch3x3_reduce_2(x)))
        return torch.cat([self.branch1x1(x), pooled, single, double], 1)


class FaceBoxesNet(nn.Module):
    """Image ``(N, 3, H, W)`` -> box offsets ``(N, A, 4)`` and face probabilities ``(N, A)`` of the anchors of
    :func:`anchors` (see the module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _Conv(3, 24, 7, 4, 3, crelu=True)
        self.conv2 = _Conv(48, 64, 5, 2, 2, crelu=True)
        self.inception1, self.inception2, self.inception3 = _Inception(), _Inception(), _Inception()
        self.conv3_1 = _Conv(128, 128, 1)
        self.conv3_2 = _Conv(128, 256, 3, 2, 1)
        self.conv4_1 = _Conv(256, 128, 1)
        self.conv4_2 = _Conv(128, 256, 3, 2, 1)
        # per location of the first map 21 anchors (16 + 4 + 1), one on the others
        self.loc = nn.ModuleList([nn.Conv2d(c, k * 4, 3, padding=1) for c, k in ((128, 21), (256, 1), (256, 1))])
        self.conf = nn.ModuleList([nn.Conv2d(c, k * 2, 3, padding=1) for c, k in ((128, 21), (256, 1), (256, 1))])

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = F.max_pool2d(self.conv1(x), 3, 2, 1)
        x = F.max_pool2d(self.conv2(x), 3, 2, 1)
        first = self.inception3(self.inception2(self.inception1(x)))
        second = self.conv3_2(self.conv3_1(first))
        third = self.conv4_2(self.conv4_1(second))
        locs, confs = [], []
        for source, loc, conf in zip((first, second, third), self.loc, self.conf, strict=True):
            locs.append(loc(source).permute(0, 2, 3, 1).reshape(x.shape[0], -1, 4))
            confs.append(conf(source).permute(0, 2, 3, 1).reshape(x.shape[0], -1, 2))
        return torch.cat(locs, 1), F.softmax(torch.cat(confs, 1), -1)[..., 1]


def anchors(height: int, width: int) -> np.ndarray:
    """Anchors ``(A, 4)`` ``[cx, cy, w, h]`` in fractions of the image, in the heads' order (see the module
    docstring)."""
    out = []
    for step, sides in ((32, (32, 64, 128)), (64, (256,)), (128, (512,))):
        rows, cols = int(np.ceil(height / step)), int(np.ceil(width / step))
        for i in range(rows):
            for j in range(cols):
                for side in sides:
                    offsets = {32: (0, 0.25, 0.5, 0.75), 64: (0, 0.5)}.get(side, (0.5,))
                    for dy in offsets:
                        for dx in offsets:
                            out.append([(j + dx) * step / width, (i + dy) * step / height, side / width, side / height])
    return np.array(out, dtype=np.float64)


@cache
def _network(shared_root: str) -> FaceBoxesNet:
    path = SharedData.find(shared_root).require("faceboxes")
    net = FaceBoxesNet()
    state = torch.load(path, map_location="cpu", weights_only=True)
    net.load_state_dict({k.removeprefix("module."): v for k, v in state.items()})
    return net.eval()


class FaceBoxesDetector(FaceDetector):
    """The peer's face detector (see the module docstring); boxes in 0-based pixels."""

    name = "faceboxes"
    enlarge_small = False  # the peer runs photos at their size (taller ones scaled to 720 rows)

    def __init__(self, shared: SharedData | None = None) -> None:
        self.calibration = PEER_CALIBRATION
        self.net = _network(str((shared or SharedData.find()).root))

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        scale = min(1.0, MAX_HEIGHT / h)
        work = image if scale == 1.0 else cv2.resize(image, (round(w * scale), round(h * scale)))
        x = work[:, :, ::-1].astype(np.float32) - np.array(MEANS_BGR, np.float32)
        with torch.inference_mode():
            loc, prob = self.net(torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None])
        loc, prob = loc[0].numpy().astype(np.float64), prob[0].numpy()
        priors = anchors(*work.shape[:2])
        centre = priors[:, :2] + loc[:, :2] * VARIANCES[0] * priors[:, 2:]
        size = priors[:, 2:] * np.exp(loc[:, 2:] * VARIANCES[1])
        corners = np.concatenate([centre - size / 2, centre + size / 2], 1) * ([work.shape[1], work.shape[0]] * 2)
        keep = prob > THRESHOLD
        boxes, scores = corners[keep] / scale, prob[keep]
        order = nms(boxes, scores, NMS_IOU)
        return Detections(np.column_stack([boxes[order], scores[order]]), self.name, self.calibration)
