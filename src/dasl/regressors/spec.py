"""What a model string names: one parser from ``"default+flip"``, ``"3ddfa-v2-mb05"`` or a file path to a
typed :class:`ModelSpec` (which model, its file, the backend, mirror averaging, its name in reports).

Model strings:

* a shipped dasl model: ``dasl-light``, ``dasl-resnet50`` (files in ``dasl/weights``);
* ``default``: the recommended configuration of the shipped models, ``dasl-light+fit+detflip``
  (dasl-light's pass on the map of dasl-landmarks mirror-averaged, then fitted to the detector's 68
  landmarks; the most accurate configuration on held-out faces within the time of the mirror-averaged
  regressor it replaced, docs/models.md). The alias holds
  while no landmark map source is asked for: with ``map_source="self"`` (``--map-source self``)
  ``default`` is ``dasl-light`` on its own map;
* the peer ``3ddfa-v2-mb05`` (weights from the shared folder);
* a path: a dasl model file (``.safetensors``), a training checkpoint (``.pt``) or an ONNX file
  (``.onnx``, which always runs on ONNX Runtime);
* any of them with the suffixes ``+det`` (a 4-channel model's landmark map from dasl's landmark
  detector, :mod:`dasl.regressors.map_source`, instead of its own iterated prediction), ``+fit`` (the
  prediction then fitted to the detector's 68 landmarks, which implies ``+det``), ``+detflip`` (the
  landmark detector mirror-averaged: its landmarks averaged with those of the mirrored crop, twice the
  detector's time; implies ``+det``) and ``+flip`` (the regressor mirror-averaged,
  :mod:`dasl.regressors.flip`), in any order: ``dasl-light+det+flip``, ``dasl-light+fit+detflip``.

Mirror averaging left unsaid (``flip=None``) is on for models whose 3DMM can be mirrored, except with
``+fit``: the fit to the detector's landmarks gains more than averaging, and averaging would double the
regressor's time (``default+flip`` asks for both).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dasl.errors import MissingFileError, OptionError
from dasl.paths import WEIGHTS_DIR

SUFFIX = "+flip"
DETECTOR_SUFFIX = "+det"
FIT_SUFFIX = "+fit"
DETECTOR_FLIP_SUFFIX = "+detflip"
#: ``auto``: ONNX Runtime for dasl's networks (2.5-3.5 times faster at batch 1, the same outputs to 1e-5),
#: PyTorch for the peer, which has no export
Backend = Literal["auto", "torch", "onnx"]
#: where a 4-channel model's landmark map comes from: its own prediction (iterated), dlib's 68-point
#: predictor (needs the photo: :class:`dasl.Reconstructor` only), dasl's landmark detector
MapSource = Literal["self", "dlib", "detector"]
MAP_SOURCES: tuple[MapSource, ...] = ("self", "dlib", "detector")
BACKENDS: tuple[Backend, ...] = ("auto", "torch", "onnx")
#: shipped models: name -> file in ``dasl/weights``
SHIPPED = {
    "dasl-light": "dasl_light.safetensors",
    "dasl-resnet50": "dasl_resnet50.safetensors",
}
#: the default configuration (see the module docstring): model name, landmark map source, fit
DEFAULT = "default"
DEFAULT_MODEL = "dasl-light"
PEER_MB05 = "3ddfa-v2-mb05"
#: peer regressors by name (for side-by-side baselines)
PEERS = (PEER_MB05,)
Kind = Literal["shipped", "peer", "file"]


@dataclass(frozen=True)
class ModelSpec:
    """A parsed model string. ``name``: the model's name in reports; ``path``: its file (``None`` for a
    peer, whose weights live in the shared folder); ``flip``: mirror averaging (``None``: on for models
    whose 3DMM can be mirrored, i.e. dasl's); ``map_source`` of a 4-channel model's landmark map."""

    name: str
    kind: Kind
    path: Path | None = None
    backend: Backend = "torch"  # resolved: "torch" or "onnx"
    flip: bool | None = None
    map_source: MapSource = "self"
    fit: bool = False
    detector_flip: bool = False

    @property
    def mirror(self) -> bool | None:
        """Mirror averaging: ``flip``, and where left unsaid, off after a fit, else ``None`` (on where the
        model can be mirrored, :func:`dasl.regressors.load_regressor` decides)."""
        return False if self.flip is None and self.fit else self.flip

    @property
    def label(self) -> str:
        """The name with its suffixes as the command line takes it: ``default+det+flip``."""
        plain_map = self.map_source == "detector" and not self.detector_flip  # +detflip implies +det
        detector = FIT_SUFFIX if self.fit else DETECTOR_SUFFIX if plain_map else ""
        mirrored = DETECTOR_FLIP_SUFFIX if self.detector_flip else ""
        return self.name + detector + mirrored + (SUFFIX if self.flip else "")


def run_of_checkpoint(path: Path) -> str | None:
    """The run of a training checkpoint ``runs/<run>/checkpoints/<file>.pt``, else ``None``."""
    return path.parent.parent.name if path.parent.name == "checkpoints" else None


def display_name(path: Path) -> str:
    """A model file's name in reports: ``<run>/<stem>`` for a training checkpoint, else the file's stem."""
    run = run_of_checkpoint(path)
    return f"{run}/{path.stem}" if run else path.stem


def parse_model(
    model: str | Path, backend: Backend = "auto", flip: bool | None = None, map_source: MapSource | None = None
) -> ModelSpec:
    """The spec of a model string (see the module docstring). ``flip`` and ``map_source`` apply when the
    string has no ``+flip`` / ``+det`` suffix (``map_source=None``: the model's own map, or for ``default``
    its configuration); a ``.onnx`` file implies the ONNX backend, ``auto`` is ONNX for dasl's models and
    PyTorch for the peer. Unknown names and missing files are errors that list the known names."""
    if backend not in BACKENDS:
        raise OptionError(f"unknown backend {backend!r}; use {' or '.join(BACKENDS)}")
    if map_source is not None and map_source not in MAP_SOURCES:
        raise OptionError(f"unknown landmark map source {map_source!r}; use {', '.join(MAP_SOURCES)}")
    text, fit, asked, detector_flip = str(model), False, map_source, False
    map_source = map_source or "self"
    while text.endswith((SUFFIX, DETECTOR_SUFFIX, FIT_SUFFIX, DETECTOR_FLIP_SUFFIX)):
        if text.endswith(SUFFIX):
            text, flip = text[: -len(SUFFIX)], True
        elif text.endswith(DETECTOR_FLIP_SUFFIX):
            text, map_source, detector_flip = text[: -len(DETECTOR_FLIP_SUFFIX)], "detector", True
        elif text.endswith(DETECTOR_SUFFIX):
            text, map_source = text[: -len(DETECTOR_SUFFIX)], "detector"
        else:
            text, map_source, fit = text[: -len(FIT_SUFFIX)], "detector", True
    if text == DEFAULT:
        text = DEFAULT_MODEL
        if asked is None:
            map_source, fit, detector_flip = "detector", True, True
    if backend == "auto":
        backend = "torch" if text in PEERS else "onnx"
    if text in SHIPPED:
        path = WEIGHTS_DIR / SHIPPED[text]
        if not path.is_file():
            raise MissingFileError(path, f"shipped model {text!r}", "reinstall dasl, or train one (docs/models.md)")
        return ModelSpec(text, "shipped", path, backend, flip, map_source, fit, detector_flip)
    if text in PEERS:
        if backend != "torch":
            raise OptionError(f"the peer {text} runs on the torch backend only")
        return ModelSpec(text, "peer", None, backend, flip, map_source, fit, detector_flip)
    path = Path(text)
    if not path.is_file():
        raise MissingFileError(path, "model file", f"give a path, or one of: {', '.join([DEFAULT, *SHIPPED, *PEERS])}")
    if path.suffix == ".onnx":
        backend = "onnx"
    return ModelSpec(display_name(path), "file", path, backend, flip, map_source, fit, detector_flip)
