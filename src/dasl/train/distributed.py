"""Process-group set-up for ``torchrun`` (one machine or many): gloo on CPU, nccl on GPU."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    local_world: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world > 1


def init_distributed() -> DistContext:
    """Join the process group that ``torchrun`` describes in the environment, or run alone."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return DistContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", str(world)))
    use_cuda = torch.cuda.is_available() and torch.cuda.device_count() > local_rank
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    return DistContext(rank, world, local_rank, local_world, device)


def all_reduce_mean(values: dict[str, float], ctx: DistContext) -> dict[str, float]:
    """Average scalar logs over processes. Every process must call it; a process may lack keys that others
    have (one whose share of a validation split was empty), which count as 0 in its place."""
    if not ctx.enabled:
        return values
    named: list[list[str] | None] = [None] * ctx.world
    dist.all_gather_object(named, sorted(values))
    keys = sorted({k for part in named for k in (part or [])})
    if not keys:
        return values
    t = torch.tensor([values.get(k, 0.0) for k in keys], dtype=torch.float64)
    dist.all_reduce(t)
    return {k: float(v) / ctx.world for k, v in zip(keys, t, strict=True)}


def shutdown() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
