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

from dasl.errors import OptionError
from dasl.regressors import BACKENDS, PEER_MB05, PEERS, SHIPPED, Backend, Kind, RegressorRef, resolve_regressor

SUFFIX = "+flip"
DETECTOR_SUFFIX = "+det"
FIT_SUFFIX = "+fit"
DETECTOR_FLIP_SUFFIX = "+detflip"
#: where a 4-channel model's landmark map comes from: its own prediction (iterated), dlib's 68-point
#: predictor (needs the photo: :class:`dasl.Reconstructor` only), dasl's landmark detector
MapSource = Literal["self", "dlib", "detector"]
MAP_SOURCES: tuple[MapSource, ...] = ("self", "dlib", "detector")
#: the default configuration (see the module docstring): model name, landmark map source, fit
DEFAULT = "default"
DEFAULT_MODEL = "dasl-light"


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
    #: the networks' shipped 8-bit files where they match their weights (``backend="auto"``)
    int8: bool = False

    @property
    def mirror(self) -> bool | None:
        """Mirror averaging: ``flip``, and where left unsaid, off after a fit, else ``None`` (on where the
        model can be mirrored, :func:`dasl.regressors.load_regressor` decides)."""
        return False if self.flip is None and self.fit else self.flip

    @property
    def regressor(self) -> RegressorRef:
        """The regressor stage's model."""
        # the 8-bit regressor only where the fit to the landmarks follows and absorbs its error (alone, on the
        # detector's map, it costs 0.08 of held-out NME; followed by the fit, 0.01)
        int8 = self.int8 and self.kind == "shipped" and self.fit
        return RegressorRef(self.name, self.kind, self.path, self.backend, int8)

    @property
    def label(self) -> str:
        """The name with its suffixes as the command line takes it: ``default+det+flip``."""
        plain_map = self.map_source == "detector" and not self.detector_flip  # +detflip implies +det
        detector = FIT_SUFFIX if self.fit else DETECTOR_SUFFIX if plain_map else ""
        mirrored = DETECTOR_FLIP_SUFFIX if self.detector_flip else ""
        return self.name + detector + mirrored + (SUFFIX if self.flip else "")


def parse_model(
    model: str | Path, backend: Backend = "auto", flip: bool | None = None, map_source: MapSource | None = None
) -> ModelSpec:
    """The spec of a model string (see the module docstring). ``flip`` and ``map_source`` apply when the
    string has no ``+flip`` / ``+det`` suffix (``map_source=None``: the model's own map, or for ``default``
    its configuration); a ``.onnx`` file implies the ONNX backend, ``auto`` is ONNX for dasl's models and
    PyTorch for the peer. Unknown names and missing files are errors that list the known names."""
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
    ref = resolve_regressor(text, backend, known=(DEFAULT,))
    int8 = backend == "auto" and ref.backend == "onnx"
    return ModelSpec(ref.name, ref.kind, ref.path, ref.backend, flip, map_source, fit, detector_flip, int8)


__all__ = ["BACKENDS", "DEFAULT", "MAP_SOURCES", "PEERS", "PEER_MB05", "SHIPPED", "Backend", "ModelSpec", "parse_model"]
