"""Training speed: images per second of a full 2DASL step for each backbone, on this machine.

A step is what ``dasl train`` does per batch in stage 1 with every loss on: one regressor pass over the
3D and in-the-wild faces, the cycle pass, the encoder and critic, both optimiser steps. Inputs are
synthetic tensors, so the figure is the compute alone; ``data_img_per_s`` measures the data pipeline
(reading, cropping, augmenting) separately on real files when a dataset is given.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from dasl.data.sample import Batch
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.landmarks import to_subset18
from dasl.nets.backbones import build_regressor
from dasl.nets.landmark_net import LandmarkNet
from dasl.train.augment import AugmentConfig, AugmentedDataset
from dasl.train.config import load_config
from dasl.train.datasets import Datasets
from dasl.train.landmark_loop import BACKBONE as LANDMARK_BACKBONE
from dasl.train.landmark_loop import LandmarkTrainer
from dasl.train.loop import TrainingLoop
from dasl.train.precision import Precision
from dasl.train.trainer import Trainer


@dataclass
class SpeedResult:
    backbone: str
    precision: str
    batch: int
    seconds_per_step: float
    img_per_s: float
    parameters: int


def _synthetic_batch(trainer: TrainingLoop, n: int, with_params: bool, rng: np.random.Generator) -> Batch:
    bfm = trainer.bfm
    params = bfm.param_mean + rng.standard_normal((n, 62)) * bfm.param_std * 0.2
    params[:, [3, 7]] = 60.0
    points = to_subset18(crop_landmarks(bfm, params)[..., :2])
    return Batch(
        images=torch.from_numpy(rng.uniform(-1, 1, (n, 3, 120, 120)).astype(np.float32)),
        points18=torch.from_numpy(points).float(),
        visible18=torch.ones(n, 18, dtype=torch.bool),
        params=torch.from_numpy(params).float() if with_params else None,
    )


def measure(
    backbone: str, precision: str = "fp32", batch_3d: int = 16, batch_2d: int = 16, steps: int = 5, warmup: int = 2
) -> SpeedResult:
    """Mean seconds of ``steps`` full training steps after ``warmup`` steps, in ``precision``
    (``fp32``, ``bf16``: :mod:`dasl.train.precision`). ``landmark_net`` is the landmark detector's step
    (:mod:`dasl.train.landmark_loop`)."""
    overrides = ['data.train_3d=["-"]', 'data.wild=["-"]', f'run.precision="{precision}"']
    placeholder = [None] * (batch_3d + batch_2d)
    if backbone == LANDMARK_BACKBONE:
        cfg = load_config(None, [*overrides, 'run.task="landmarks"', "landmarks.imagenet=false"])
        trainer = LandmarkTrainer(cfg, datasets=Datasets(placeholder, [], placeholder), progress=False)
    else:
        cfg = load_config(None, [*overrides, f'model.backbone="{backbone}"'])
        trainer = Trainer(cfg, datasets=Datasets(placeholder, [], placeholder), progress=False)
    rng = np.random.default_rng(0)
    b3 = _synthetic_batch(trainer, batch_3d, True, rng)
    b2 = _synthetic_batch(trainer, batch_2d, False, rng)
    for _ in range(warmup):
        trainer.train_step(b3, b2)
    started = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(b3, b2)
    per_step = (time.perf_counter() - started) / steps
    network = trainer.net if isinstance(trainer, LandmarkTrainer) else trainer.regressor
    count = sum(p.numel() for p in network.parameters())
    n = batch_3d + batch_2d
    return SpeedResult(backbone, trainer.precision.mode, n, per_step, n / per_step, count)


def convolution_kernels(backbone: str, precision: str = "bf16", batch: int = 8) -> dict[str, int]:
    """The convolution operators one forward and backward pass of a backbone runs, with their counts (from
    the profiler): under bf16 they should be oneDNN's (``aten::mkldnn_convolution``), not a slow fallback
    (PyTorch issue 183815 reports bf16 convolution slowdowns on CPU for some layouts)."""
    from torch.profiler import ProfilerActivity, profile

    mode = Precision(precision)
    net = mode.prepare(LandmarkNet() if backbone == LANDMARK_BACKBONE else build_regressor(backbone, 4))
    x = torch.randn(batch, 3 if backbone == LANDMARK_BACKBONE else 4, 120, 120)
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        mode.forward(net, x).sum().backward()
    counts: dict[str, int] = {}
    for event in prof.key_averages():
        if "conv" in event.key.lower():
            counts[event.key] = event.count
    return counts


def measure_data(dataset, mirror=None, samples: int = 64) -> float:
    """Samples per second of a dataset's loading, cropping and augmentation (one process)."""
    wrapped = AugmentedDataset(dataset, AugmentConfig(), mirror)
    started = time.perf_counter()
    for i in range(samples):
        wrapped[(i % len(dataset), 0)]
    return samples / (time.perf_counter() - started)
