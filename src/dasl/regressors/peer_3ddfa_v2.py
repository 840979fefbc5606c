"""3DDFA_V2's MobileNetV1x0.5 (Guo et al. 2020) as a peer regressor, from its released weights.

Input protocol of the peer: 120x120 **BGR** crops, ``(x - 127.5) / 128``; output: whitened parameters
for its own 68-landmark basis and statistics (``3ddfa_v2_bfm68.npz``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from dasl.errors import BadInputError
from dasl.morphable.model import MorphableModel
from dasl.nets.mobilenet_v1 import MobileNetV1
from dasl.paths import SharedData
from dasl.regressors.base import PEER_MB05, Regressor


def load_peer_network(weights: Path) -> MobileNetV1:
    """The peer's network with its weights; the unused landmark head ``fc_lm`` is dropped."""
    try:
        checkpoint = torch.load(weights, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise BadInputError(weights, f"cannot read the peer weights ({exc})") from exc
    state = checkpoint.get("state_dict", checkpoint)
    state = {k.removeprefix("module."): v for k, v in state.items() if not k.startswith("module.fc_lm")}
    net = MobileNetV1(width=0.5, in_channels=3, num_outputs=62)
    result = net.load_state_dict(state, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise BadInputError(
            weights,
            f"not a 3DDFA_V2 mb05 checkpoint (missing {result.missing_keys[:3]}, "
            f"unexpected {result.unexpected_keys[:3]})",
        )
    return net.eval()


class Peer3DDFAv2(Regressor):
    """The 3DDFA_V2 ``mb05`` peer."""

    name = PEER_MB05

    def __init__(self, shared: SharedData | None = None, batch_size: int = 128) -> None:
        shared = shared or SharedData.find()
        self.net = load_peer_network(shared.require("peer_mb05_weights"))
        self.morphable = MorphableModel.load(shared.require("peer_mb05_bfm68"), name="3ddfa-v2-bfm68")
        self.batch_size = batch_size

    @torch.inference_mode()
    def predict(self, crops: np.ndarray, landmarks: np.ndarray | None = None) -> np.ndarray:
        out = []
        for start in range(0, len(crops), self.batch_size):
            batch = np.ascontiguousarray(crops[start : start + self.batch_size, :, :, ::-1])  # RGB -> BGR
            x = torch.from_numpy(batch).permute(0, 3, 1, 2).float().sub_(127.5).div_(128.0)
            out.append(self.net(x).numpy())
        whitened = np.concatenate(out) if out else np.zeros((0, 62), np.float32)
        return self.morphable.unwhiten(whitened.astype(np.float64))
