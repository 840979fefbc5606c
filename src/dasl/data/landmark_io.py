"""Reading 2D landmark annotations: iBUG ``.pts`` files.

Points are returned in the image frame of the annotated image (1-based pixels, as the 300-W ``.pts``
files are written), as ``(K, 2)`` float arrays.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dasl.errors import BadInputError, MissingFileError


def read_pts(path: str | Path) -> np.ndarray:
    """An iBUG ``.pts`` file (``version: 1``, ``n_points: K``, ``{ x y ... }``) as ``(K, 2)``."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "landmark file (.pts)")
    text = path.read_text(errors="replace")
    try:
        header, body = text.split("{", 1)
        body = body.split("}", 1)[0]
        count = int(header.split("n_points:")[1].split()[0])
        values = np.array(body.split(), dtype=np.float64)
    except (IndexError, ValueError) as exc:
        raise BadInputError(path, f"not an iBUG .pts file ({exc})") from exc
    if values.size != 2 * count:
        raise BadInputError(path, f"header says {count} points, body holds {values.size / 2:g}")
    return values.reshape(count, 2)
