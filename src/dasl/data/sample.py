"""Training samples: a 120x120 crop with its labels in the crop frame, and their batches."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import torch

from dasl.nets.inputs import normalise_images


@dataclass
class Sample:
    """One training face.

    ``crop`` RGB uint8 ``(120, 120, 3)``; ``points18`` ``(18, 2)`` crop-frame landmarks (2DASL's subset),
    ``visible18`` ``(18,)`` which of them exist; ``params`` ``(62,)`` raw parameters in the crop's model
    frame for 3D-annotated faces, ``None`` for in-the-wild faces. ``aflw_mouth``: the mouth centre of
    ``points18`` is AFLW's (the lips' middle, :data:`~dasl.morphable.landmarks.AFLW_SCHEME18`), not 2DASL's
    (the mouth corners' midpoint). ``jaw_weight``: how much the jaw line's 17 landmarks of ``params`` count in
    the landmark detector's loss (``data.jaw_weight``: where the jaw was fitted to annotated contour points
    or only guessed from the inner face).
    """

    crop: np.ndarray
    points18: np.ndarray
    visible18: np.ndarray
    params: np.ndarray | None = None
    aflw_mouth: bool = False
    jaw_weight: float = 1.0


@dataclass
class Batch:
    """Stacked samples as tensors: ``images`` float ``(B, 3, 120, 120)`` normalised ``(x - 127.5) / 128``,
    ``points18`` ``(B, 18, 2)``, ``visible18`` ``(B, 18)`` bool, ``params`` ``(B, 62)`` float or ``None``,
    ``aflw_mouth`` ``(B,)`` bool and ``jaw_weight`` ``(B,)`` float (:class:`Sample`), or ``None``."""

    images: torch.Tensor
    points18: torch.Tensor
    visible18: torch.Tensor
    params: torch.Tensor | None
    aflw_mouth: torch.Tensor | None = None
    jaw_weight: torch.Tensor | None = None

    def to(self, device) -> Batch:
        """The batch with every tensor on ``device``."""
        tensors = {f.name: getattr(self, f.name) for f in fields(self)}
        return Batch(**{name: None if t is None else t.to(device) for name, t in tensors.items()})

    def __len__(self) -> int:
        return self.images.shape[0]


def collate(samples: list[Sample]) -> Batch:
    params = None
    if samples[0].params is not None:
        params = torch.from_numpy(np.stack([s.params for s in samples])).float()
    return Batch(
        images=torch.from_numpy(normalise_images(np.stack([s.crop for s in samples]))),
        points18=torch.from_numpy(np.stack([s.points18 for s in samples])).float(),
        visible18=torch.from_numpy(np.stack([s.visible18 for s in samples])),
        params=params,
        aflw_mouth=torch.tensor([s.aflw_mouth for s in samples], dtype=torch.bool),
        jaw_weight=torch.tensor([s.jaw_weight for s in samples], dtype=torch.float32),
    )
