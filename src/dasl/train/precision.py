"""Mixed precision for training on a CPU: bfloat16 autocast with channels_last tensors.

On a CPU with AMX-bf16 (Sapphire Rapids and later) oneDNN runs bf16 convolutions and matrix products
several times faster than fp32 for most backbones; for some (MobileNetV3, with its many small depthwise
layers) it does not help. :data:`BF16_FASTER` lists the backbones where a full 2DASL training step was
measured faster (``dasl benchmark train-speed``, table in ``docs/training.md``). Only the networks' forward
passes run in bf16: their outputs are cast back to float32 before the losses, and weights, gradients and
optimiser state stay float32.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

#: backbones whose full training step is faster in bf16 + channels_last on this machine (measured)
BF16_FASTER: frozenset[str] = frozenset({"resnet50", "resnet18", "mobilenet_v1", "mobilenet_v1_05", "landmark_net"})


def cpu_has_bf16() -> bool:
    """Whether oneDNN can use fast bf16 kernels here (AVX-512 bf16 or AMX)."""
    backend = getattr(torch.backends, "mkldnn", None)
    return bool(backend is not None and backend.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def resolve(precision: str, backbone: str) -> str:
    """``"bf16"`` or ``"fp32"`` for a config's ``run.precision`` (``auto`` decides by backbone and CPU)."""
    if precision == "auto":
        return "bf16" if backbone in BF16_FASTER and cpu_has_bf16() else "fp32"
    return precision


class Precision:
    """How a run executes its networks: :meth:`prepare` a module, :meth:`inputs` a batch, and run the
    forward passes inside :meth:`autocast`."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.bf16 = mode == "bf16"

    def prepare(self, module: nn.Module) -> nn.Module:
        return module.to(memory_format=torch.channels_last) if self.bf16 else module

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.bf16 and x.dim() == 4 else x

    def autocast(self):
        if not self.bf16:
            return contextlib.nullcontext()
        return torch.autocast("cpu", dtype=torch.bfloat16)

    def forward(self, module: nn.Module, x: torch.Tensor, *rest: torch.Tensor) -> torch.Tensor:
        """``module(x, *rest)`` in this precision, the output as float32."""
        with self.autocast():
            out = module(self.inputs(x), *rest)
        return out.float()
