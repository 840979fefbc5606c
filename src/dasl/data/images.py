"""Reading photos, with errors that name the file and the problem.

Everything comes back as RGB uint8 ``(H, W, 3)``: EXIF orientation applied, every Pillow mode converted
by what it means (CMYK, YCbCr, LAB and HSV through Pillow's own conversion, palette images through their
palette, grey expanded, alpha dropped, 16-bit and float images scaled to 8 bits), so that no channel is
ever read as another (a CMYK JPEG's first three channels are not RGB).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from dasl.errors import BadInputError, MissingFileError

#: file suffixes read as photos (``dasl reconstruct``, the dataset readers and builders)
#: (a ``.gif`` is read as its first frame, in folders as when named)
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".gif")
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
            return image_to_rgb8(img)
    except UnidentifiedImageError as exc:
        raise BadInputError(path, "not an image (format not recognised)") from exc
    except Image.DecompressionBombError as exc:
        raise BadInputError(path, f"too large to read ({exc})") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInputError(path, f"truncated or corrupt image data ({exc})") from exc


#: Pillow modes whose channels are not red, green, blue (and alpha): Pillow converts them to RGB
_CONVERTED_MODES = ("CMYK", "YCbCr", "LAB", "HSV", "P", "PA", "1")


def image_to_rgb8(img: Image.Image) -> np.ndarray:
    """A decoded Pillow image as RGB uint8, by its mode (see the module docstring)."""
    if img.mode in _CONVERTED_MODES:
        img = img.convert("RGBA" if img.mode in ("P", "PA") and "transparency" in img.info else "RGB")
    return to_rgb8(np.asarray(img), img.mode)


def to_rgb8(array: np.ndarray, mode: str = "") -> np.ndarray:
    """A decoded image array of RGB(A), grey (+ alpha), 16-bit or float values to RGB uint8 (the channels
    read as what they are: convert other colour spaces first, :func:`image_to_rgb8`)."""
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


def array_to_rgb8(image: np.ndarray, what: str = "image array") -> np.ndarray:
    """An image given as an array (the Python API) as RGB uint8 ``(H, W, 3)``: grey ``(H, W)``, grey +
    alpha, RGB(A), 16-bit and float (``[0, 1]`` or ``[0, 255]``) arrays converted as files are; anything
    else (empty, other shapes, non-numbers) is a :class:`~dasl.errors.BadInputError` saying what is expected."""
    a = np.asarray(image)
    expected = "expected (H, W) grey or (H, W, 3|4) RGB(A), uint8, uint16 or float"
    if a.dtype.kind not in "buif" or a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[-1] not in (1, 2, 3, 4)):
        raise BadInputError(what, f"an array of shape {a.shape} and type {a.dtype}: {expected}")
    if a.shape[0] == 0 or a.shape[1] == 0:
        raise BadInputError(what, f"an empty array of shape {a.shape}: {expected}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        raise BadInputError(what, "the array holds NaN or infinite values")
    if a.ndim == 3 and a.shape[-1] == 1:
        a = a[..., 0]
    mode = "F" if a.dtype.kind == "f" else "I;16" if a.dtype == np.uint16 else ""
    return to_rgb8(a, mode)
