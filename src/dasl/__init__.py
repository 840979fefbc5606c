"""dasl: 3D face reconstruction and dense face alignment from a single photo (2DASL), CPU-first.

``from dasl import Reconstructor, Face`` (see :mod:`dasl.api`).
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["Reconstructor", "Face", "__version__"]


def __getattr__(name: str):
    if name in ("Reconstructor", "Face"):
        from dasl import api

        return getattr(api, name)
    raise AttributeError(f"module 'dasl' has no attribute {name!r}")
