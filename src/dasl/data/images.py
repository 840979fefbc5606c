"""Reading images with errors that name the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from dasl.errors import BadInputError, MissingFileError


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 ``(H, W, 3)``; grayscale and alpha are converted."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "image")
    data = np.fromfile(str(path), dtype=np.uint8)
    if data.size == 0:
        raise BadInputError(path, "the file is empty")
    image = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if image is None:
        raise BadInputError(path, "not a readable image")
    return image[:, :, ::-1].copy()
