"""Training dasl's 2D landmark detector (:mod:`dasl.nets.landmark_net`), the source of the landmark map.

Batches come from the same two streams as 2DASL's (``data.train_3d``, ``data.wild``), augmented the
same way with exact labels:

* 3D-annotated faces: their 68 landmarks in the crop frame (the 3DMM's fixed landmark vertices, the
  convention AFLW2000-3D's labels follow; HELEN/AFW's own contour points, which follow the visible outline,
  reach the detector only through the fit). Loss: the mean distance of the soft-argmax coordinates to
  them, plus ``landmarks.heatmap_weight`` times the cross-entropy of the softmax heatmaps to Gaussians
  of ``landmarks.sigma`` cells around them (DSNT);
* in-the-wild faces: their annotated visible points, compared with the 18 landmarks of the prediction
  (``landmarks.wild_weight`` times the mean distance over visible points).

Distances are in crop pixels. Validation: the 68-point and 18-point NME (crop frame, % of sqrt(w h) of
the ground-truth box) on the held-out 3D faces; ``best.pt`` has the lowest 18-point NME (the map uses
those 18).
"""

from __future__ import annotations

import torch

from dasl import losses
from dasl.data.sample import Batch
from dasl.eval.metrics import box_size, nme
from dasl.geometry.crop import unzoom_points
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers.dasl_net import landmark_file
from dasl.morphable.landmarks import JAW, to_subset18
from dasl.nets.heatmaps import soft_argmax
from dasl.nets.imagenet import mobilenet_v2_weights
from dasl.nets.landmark_net import LandmarkNet, gaussian_targets, load_landmark_net
from dasl.nets.model_file import LandmarkMeta
from dasl.train.config import TrainConfig
from dasl.train.loop import TrainingLoop, make_optimizer

#: the precision table's name for this network (:data:`dasl.train.precision.BF16_FASTER`)
BACKBONE = "landmark_net"
LOG_COLUMNS = ["time", "epoch", "step", "lr", "total", "coords", "heatmap", "wild", "img_per_s", "val_nme", "val_nme18"]


def zoom_images(images: torch.Tensor, factor: float) -> torch.Tensor:
    """Image batches ``(N, C, S, S)`` zoomed by ``factor`` about their centre, as
    :func:`dasl.geometry.crop.zoom_crops` zooms crops (a crop-frame point ``p`` lands at
    ``factor * (p - S/2) + S/2``; bilinear, borders replicated)."""
    if factor == 1.0:
        return images
    theta = torch.tensor([[1 / factor, 0, 0], [0, 1 / factor, 0]], dtype=images.dtype, device=images.device)
    grid = torch.nn.functional.affine_grid(theta.expand(len(images), 2, 3), list(images.shape), align_corners=False)
    return torch.nn.functional.grid_sample(images, grid, mode="bilinear", padding_mode="border", align_corners=False)


class LandmarkTrainer(TrainingLoop):
    """The landmark detector's run (see the module docstring)."""

    log_columns = LOG_COLUMNS
    best_key = "val_nme18"

    @classmethod
    def network_name(cls, cfg: TrainConfig) -> str:
        return BACKBONE

    def setup(self) -> None:
        cfg = self.cfg
        torch.manual_seed(cfg.run.seed)
        self.net = LandmarkNet(cfg.landmarks.width)
        if cfg.run.init:
            # a checkpoint, a detector file or the shipped detector's name: continue from its weights
            self.net.load_state_dict(load_landmark_net(landmark_file(cfg.run.init))[0].state_dict())
        elif cfg.landmarks.imagenet:
            self.net.load_imagenet(mobilenet_v2_weights())
        self.net = self.precision.prepare(self.net.to(self.device))
        self.model = self._wrap(self.net)
        self.opt = make_optimizer(self.net.parameters(), cfg.optim)
        self.sched = torch.optim.lr_scheduler.ExponentialLR(self.opt, gamma=cfg.optim.lr_decay)

    def parts(self) -> dict:
        return {"landmarker": self.net, "opt": self.opt, "sched": self.sched}

    def meta(self) -> LandmarkMeta:
        return LandmarkMeta(self.cfg.landmarks.width, zoom=self.cfg.data.augment.zoom)

    def _coords(self, images: torch.Tensor, train: bool) -> tuple[torch.Tensor, torch.Tensor]:
        self.model.train(train)
        return soft_argmax(self.precision.forward(self.model, images))

    def train_step(self, b3: Batch, b2: Batch | None) -> dict[str, float]:
        lc = self.cfg.landmarks
        n3 = len(b3)
        images = b3.images if b2 is None else torch.cat([b3.images, b2.images])
        coords, prob = self._coords(images, train=True)
        target = crop_landmarks(self.lm_model, b3.params)[..., :2]
        heat = gaussian_targets(target, prob.shape[-1], lc.sigma)
        jaw_weight = b3.jaw_weight if self.cfg.data.jaw_weight else None
        terms = losses.detector_coordinate_terms(coords[:n3], prob[:n3], target, heat, jaw_weight, JAW)
        total = terms["coords"] + lc.heatmap_weight * terms["heatmap"]
        if b2 is not None and lc.wild_weight:
            terms["wild"] = losses.detector_wild_term(coords[n3:], b2.points18, b2.visible18, self.wild_mouth(b2))
            total = total + lc.wild_weight * terms["wild"]
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if self.cfg.optim.grad_clip:
            torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.cfg.optim.grad_clip)
        self.opt.step()
        logs = {k: float(v.detach()) for k, v in terms.items()}
        logs["total"] = float(total.detach())
        return logs

    @torch.no_grad()
    def validation_sums(self, b: Batch) -> dict[str, float]:
        """``val_nme`` and ``val_nme18``: the 68 and 18-landmark NME (%) of the detector at its zoom."""
        gt = crop_landmarks(self.lm_model, b.params)[..., :2]
        pred = self._coords(zoom_images(b.images, self.cfg.data.augment.zoom), train=False)[0]
        pred = unzoom_points(pred, self.cfg.data.augment.zoom)
        return {
            "val_nme": float(nme(pred, gt, box_size(gt)).sum()),
            "val_nme18": float(nme(to_subset18(pred), to_subset18(gt), box_size(gt)).sum()),
        }
