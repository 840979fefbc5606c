"""Reading photos, with errors that name the file and the problem.

Everything comes back as RGB uint8 ``(H, W, 3)``: EXIF orientation applied, grey and palette images
expanded, alpha dropped, 16-bit images scaled to 8 bits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from dasl.errors import BadInputError, MissingFileError

#: file suffixes read as photos (``dasl reconstruct``, the dataset readers and builders)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
#: photos beyond this many pixels are refused (a 12000 x 12000 photo is 144 M)
MAX_PIXELS = 250_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS


def image_beside(path: Path) -> Path | None:
    """The photo with the same stem as ``path`` (a ``.pts`` or ``.mat`` label) and a photo suffix, if any."""
    return next((path.with_suffix(s) for s in IMAGE_SUFFIXES if path.with_suffix(s).is_file()), None)


def read_rgb(path: str | Path) -> np.ndarray:
    """An image file as RGB uint8 ``(H, W, 3)``."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "image")
    if path.stat().st_size == 0:
        raise BadInputError(path, "the file is empty")
    try:
        with Image.open(path) as img:
            img.load()
            img = ImageOps.exif_transpose(img)
            return to_rgb8(np.asarray(img), img.mode)
    except UnidentifiedImageError as exc:
        raise BadInputError(path, "not an image (format not recognised)") from exc
    except Image.DecompressionBombError as exc:
        raise BadInputError(path, f"too large to read ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInputError(path, f"truncated or corrupt image data ({exc})") from exc


def to_rgb8(array: np.ndarray, mode: str = "") -> np.ndarray:
    """Any decoded image array to RGB uint8: grey, grey + alpha, RGBA, 16-bit and float images."""
    a = np.asarray(array)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype != np.uint8:
        a = a.astype(np.float64)
        if mode.startswith("I;16") or a.max(initial=0) > 255:
            a = a / 257.0 if a.max(initial=0) <= 65535 else a / max(a.max(), 1) * 255
        elif mode == "F" and a.max(initial=0) <= 1.0:
            a = a * 255
        a = np.clip(np.round(a), 0, 255).astype(np.uint8)
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, -1)
    elif a.shape[-1] == 2:  # grey + alpha
        a = np.repeat(a[..., :1], 3, -1)
    elif a.shape[-1] == 4:
        a = a[..., :3]
    return np.ascontiguousarray(a)
