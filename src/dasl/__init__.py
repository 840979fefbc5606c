"""dasl: 3D face reconstruction and dense face alignment from a single photo (2DASL), CPU-first."""

__version__ = "0.1.0"
