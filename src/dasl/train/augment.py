"""Augmentation that keeps labels exact: mirror, zoom and shift, colour, occlusion.

Geometric changes move the labels with the pixels: a mirrored crop gets mirrored parameters (see
:mod:`dasl.morphable.symmetry`) and relabelled landmarks; a zoomed or shifted crop gets parameters and
landmarks through the same crop-frame map. Photometric changes leave labels alone.
Every random draw comes from the generator passed in, so a sample's augmentation is reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import cv2
import numpy as np

from dasl.data.sample import Sample
from dasl.geometry.frames import CROP_SIZE, mirror_x
from dasl.geometry.params import crop_similarity_matrix, crop_similarity_params
from dasl.morphable.landmarks import FLIP_18
from dasl.morphable.symmetry import Mirror


@dataclass
class AugmentConfig:
    flip: float = 0.5  # probability of a mirror
    scale: float = 0.1  # zoom factor drawn from zoom * [1 - scale, 1 + scale]
    zoom: float = 1.0  # centre of the zoom draw (a landmark detector trained at zoom z sees crops zoomed by z)
    shift: float = 0.05  # shift drawn from +- shift * crop size, per axis
    rotate: float = 0.0  # in-plane turn drawn from +- rotate degrees
    color: float = 0.8  # probability of a colour change (brightness, contrast, saturation, channel gains)
    gray: float = 0.05  # probability of a grey image
    blur: float = 0.1  # probability of a Gaussian blur
    occlusion: float = 0.2  # probability of one occluding rectangle

    @classmethod
    def none(cls) -> AugmentConfig:
        return cls(flip=0, scale=0, zoom=1.0, shift=0, rotate=0, color=0, gray=0, blur=0, occlusion=0)


def mirror_sample(sample: Sample, mirror: Mirror | None) -> Sample:
    """The horizontally mirrored sample (``x -> 120 - x``)."""
    points = mirror_x(sample.points18, FLIP_18).astype(sample.points18.dtype)
    params = None
    if sample.params is not None:
        if mirror is None:
            raise ValueError("mirroring a 3D-annotated sample needs the 3DMM's mirror map")
        params = mirror.flip_params(sample.params[None], CROP_SIZE)[0]
    crop = np.ascontiguousarray(sample.crop[:, ::-1])
    return replace(sample, crop=crop, points18=points, visible18=sample.visible18[FLIP_18].copy(), params=params)


def zoom_shift_sample(sample: Sample, scale: float, shift: tuple[float, float], angle: float = 0.0) -> Sample:
    """The crop zoomed by ``scale`` and turned by ``angle`` degrees (clockwise in the image) about its
    centre and moved by ``shift`` (crop pixels), black outside; labels through the same map
    (:func:`~dasl.geometry.params.crop_similarity_params`), so they stay exact.

    Crop-frame map: ``x' = M x + b`` (:func:`~dasl.geometry.params.crop_similarity_matrix`). Crop pixel
    ``j`` spans ``[j, j+1)``, so in OpenCV's pixel-centre coordinates ``u = x - 0.5`` the warp is
    ``u' = M u + (M (0.5, 0.5) + b - 0.5)``.
    """
    matrix = crop_similarity_matrix(scale, shift, angle)
    m, b = matrix[:, :2], matrix[:, 2]
    warp = np.column_stack([m, m @ [0.5, 0.5] + b - 0.5])
    crop = cv2.warpAffine(sample.crop, warp, (CROP_SIZE, CROP_SIZE), flags=cv2.INTER_LINEAR)
    points = sample.points18 @ m.T + b
    params = None if sample.params is None else crop_similarity_params(sample.params[None], scale, shift, angle)[0]
    return replace(sample, crop=crop, points18=points, params=params)


def _colour(crop: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig) -> np.ndarray:
    img = crop.astype(np.float32)
    if rng.random() < cfg.color:
        mean = img.mean()
        img = (img - mean) * rng.uniform(0.7, 1.3) + mean * rng.uniform(0.7, 1.3)  # contrast, brightness
        grey = img.mean(-1, keepdims=True)
        img = grey + (img - grey) * rng.uniform(0.6, 1.4)  # saturation
        img = img * rng.uniform(0.9, 1.1, size=3)  # white balance
    if rng.random() < cfg.gray:
        img = np.repeat(img.mean(-1, keepdims=True), 3, -1)
    if rng.random() < cfg.blur:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.5, 1.5))
    return np.clip(img, 0, 255).astype(np.uint8)


def _occlude(crop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = crop.copy()
    h, w = rng.integers(CROP_SIZE // 8, CROP_SIZE // 2, size=2)
    y, x = rng.integers(0, CROP_SIZE - h), rng.integers(0, CROP_SIZE - w)
    if rng.random() < 0.5:
        out[y : y + h, x : x + w] = rng.integers(0, 256, size=3, dtype=np.uint8)
    else:
        out[y : y + h, x : x + w] = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
    return out


def augment(sample: Sample, rng: np.random.Generator, cfg: AugmentConfig, mirror: Mirror | None) -> Sample:
    """One random augmentation of a sample (labels follow every geometric change)."""
    if cfg.flip and rng.random() < cfg.flip:
        sample = mirror_sample(sample, mirror)
    if cfg.scale or cfg.shift or cfg.rotate or cfg.zoom != 1.0:
        scale = cfg.zoom * rng.uniform(1 - cfg.scale, 1 + cfg.scale)
        shift = tuple(rng.uniform(-cfg.shift, cfg.shift, size=2) * CROP_SIZE)
        angle = rng.uniform(-cfg.rotate, cfg.rotate) if cfg.rotate else 0.0
        sample = zoom_shift_sample(sample, scale, shift, angle)
    crop = _colour(sample.crop, rng, cfg)
    if cfg.occlusion and rng.random() < cfg.occlusion:
        crop = _occlude(crop, rng)
    return replace(sample, crop=crop)


class AugmentedDataset:
    """Wraps a dataset of :class:`Sample`; item ``(index, epoch)`` is sample ``index`` augmented with a
    generator seeded by ``(seed, epoch, index)`` (the items a :class:`ResumableBatchSampler` yields)."""

    def __init__(self, base, cfg: AugmentConfig, mirror: Mirror | None, seed: int = 0) -> None:
        self.base, self.cfg, self.mirror, self.seed = base, cfg, mirror, seed

    def __len__(self) -> int:
        return len(self.base)

    def __getitem__(self, item: tuple[int, int]) -> Sample:
        index, epoch = item
        rng = np.random.default_rng([self.seed, epoch, index])
        return augment(self.base[index], rng, self.cfg, self.mirror)
