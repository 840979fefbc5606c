"""Synthetic training data for tests: photos of noise with known 3DMM labels (never AFLW2000-3D)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dasl.data.labelled3d import write_label_file


def make_3d_folder(folder: Path, bfm, n: int = 16, seed: int = 0, size: int = 160) -> Path:
    """``n`` textured-noise photos with labels3d.npz: plausible faces centred in the photo."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    names, params = [], []
    for i in range(n):
        noise = rng.random((size // 8, size // 8, 3)) * 255
        image = cv2.resize(noise, (size, size), interpolation=cv2.INTER_CUBIC).clip(0, 255).astype(np.uint8)
        name = f"person{i:03d}_0.jpg"
        cv2.imwrite(str(folder / name), image)
        p = bfm.param_mean.astype(np.float64) + rng.standard_normal(62) * bfm.param_std * 0.3
        p[[3, 7]] = size / 2 + rng.uniform(-5, 5, 2)
        names.append(name)
        params.append(p)
    write_label_file(folder, names, np.stack(params))
    return folder
