"""The 2DASL training loop: mixed 3D / in-the-wild batches, all five losses, two stages, resumable, DDP.

One step (paper Fig. 2 and 3, section 3):

1. One regressor pass over the 3D-annotated faces and the in-the-wild faces together; the input is the
   RGB crop plus the landmark map (FLM) of its 18 landmarks (ground truth for 3D faces, the given 2D
   landmarks for in-the-wild faces).
2. Stage 1: L3d, the weighted coefficient loss on the 3D faces. Stage 2: the vertex distance cost.
3. In-the-wild faces: L2d-con between the input landmarks and the projected predicted ones; the cycle:
   the predicted landmarks become the FLM of a second pass, whose landmarks give Lcyc (against the input)
   and L3d-con (3D landmarks of both passes).
4. Self-critic: the critic learns to tell [E(J), a*] of 3D faces from [E(I), R(I)] of in-the-wild faces;
   the regressor learns to fool it (Lsc). Encoder and critic have their own optimiser (Adam).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.func import functional_call
from torch.nn.parallel import DistributedDataParallel

from dasl import losses
from dasl.checkpoint import load_checkpoint
from dasl.data.sample import Batch
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_landmarks
from dasl.landmarkers import DaslLandmarker
from dasl.morphable.landmarks import MASK18, NO_MASK18, map_points18, to_subset18
from dasl.nets.backbones import build_regressor, load_imagenet_mobilenet_v2
from dasl.nets.critic import Critic, Encoder
from dasl.nets.imagenet import mobilenet_v2_weights
from dasl.nets.inputs import denormalise_images, predict_whitened, regressor_input
from dasl.nets.model_file import ModelMeta, load_model_file
from dasl.train.loop import TrainingLoop, make_optimizer

#: columns of ``log.csv`` (one row every ``run.log_every`` steps and one per epoch with validation)
LOG_COLUMNS = [
    "time",
    "epoch",
    "step",
    "lr",
    "total",
    "l3d",
    "vdc",
    "self_map",
    "l2d_con",
    "l3d_con",
    "cyc",
    "sc",
    "critic",
    "critic_acc",
    "critic_r1",
    "img_per_s",
    "val_nme",
    "val_nme_gt_map",
    "val_param_mse",
]


class Trainer(TrainingLoop):
    """The 2DASL regressor's run (see the module docstring)."""

    log_columns = LOG_COLUMNS

    def setup(self) -> None:
        cfg = self.cfg
        face = self.bfm.face_vertices
        step = max(1, len(face) // max(1, cfg.loss.vdc_vertices))
        self.vdc_model = self.bfm.subset(face[::step][: cfg.loss.vdc_vertices])
        self.mask = torch.as_tensor(MASK18 if cfg.loss.mask else NO_MASK18)

        torch.manual_seed(cfg.run.seed)
        self.regressor = build_regressor(cfg.model.backbone, self.meta().in_channels).to(self.device)
        self.use_sc = bool(cfg.loss.sc) and self.data.wild is not None
        self.encoder = Encoder().to(self.device) if self.use_sc else None
        self.critic = Critic().to(self.device) if self.use_sc else None
        if cfg.run.init:  # a training checkpoint, or a model file (a shipped one: start from the shipped weights)
            if str(cfg.run.init).endswith(".safetensors"):
                self.regressor.load_state_dict(load_model_file(cfg.run.init)[0])
            else:
                self.regressor.load_state_dict(load_checkpoint(cfg.run.init)["regressor"])
        elif cfg.model.imagenet:
            load_imagenet_mobilenet_v2(self.regressor, mobilenet_v2_weights())
        for module in (self.regressor, self.encoder, self.critic):
            if module is not None:
                self.precision.prepare(module)
        self.map_detector = None
        if cfg.model.detector_map:
            # inference's own landmark stage (its zoom, mirror averaging, ONNX Runtime): the same maps
            self.map_detector = DaslLandmarker(
                cfg.model.map_detector, backend="onnx", flip=cfg.model.map_detector_flip, int8=True
            )
        self.reg = self._wrap(self.regressor)
        self.enc = self._wrap(self.encoder) if self.use_sc else None
        self.crit = self._wrap(self.critic) if self.use_sc else None

        o = cfg.optim
        self.opt = make_optimizer(self.regressor.parameters(), o)
        self.sched = torch.optim.lr_scheduler.ExponentialLR(self.opt, gamma=o.lr_decay)
        self.opt_d = None
        if self.use_sc:
            params = list(self.encoder.parameters()) + list(self.critic.parameters())
            self.opt_d = torch.optim.Adam(params, lr=o.critic_lr, betas=(0.5, 0.999))

    def parts(self) -> dict:
        return {
            "regressor": self.regressor,
            "encoder": self.encoder,
            "critic": self.critic,
            "opt": self.opt,
            "opt_d": self.opt_d,
            "sched": self.sched,
        }

    def train_step(self, b3: Batch, b2: Batch | None) -> dict[str, float]:
        cfg, lw = self.cfg, self.cfg.loss
        self.reg.train()
        n3 = len(b3)
        use_map = cfg.model.landmark_map
        images = b3.images if b2 is None else torch.cat([b3.images, b2.images])
        points, visible = b3.points18, b3.visible18
        if b2 is not None:
            # the map draws 2DASL's mouth centre, also where a wild face's label is AFLW's lips' middle
            wild_points, wild_visible = map_points18(b2.points18, b2.visible18, self.wild_mouth(b2))
            points, visible = torch.cat([points, wild_points]), torch.cat([visible, wild_visible])
        if use_map:
            points, visible = self._perturb_map_points(points, visible)
            points, visible = self._detector_map_points(images, points, visible)
        run = self.precision.forward
        pred_w = run(self.reg, regressor_input(images, points if use_map else None, visible))
        pred_raw = self.bfm.unwhiten(pred_w)
        gt_raw = b3.params
        terms: dict[str, torch.Tensor] = {}
        weights: dict[str, float] = {}
        key = "l3d" if cfg.run.stage == 1 else "vdc"
        terms[key], weights[key] = self._supervised(pred_w[:n3], gt_raw), 1.0 if cfg.run.stage == 1 else lw.vdc
        if lw.self_map and use_map:
            # the map the model gets at inference: its own (detached) landmarks, with the 3D loss on that pass
            own18 = to_subset18(crop_landmarks(self.lm_model, pred_raw[:n3])[..., :2]).detach()
            again_w = run(self.reg, regressor_input(b3.images, own18, None))
            terms["self_map"], weights["self_map"] = self._supervised(again_w, gt_raw), lw.self_map
        fake_pair = None
        if b2 is not None:
            wild_raw = pred_raw[n3:]
            mask = self.mask.to(pred_w)
            forward68 = crop_landmarks(self.lm_model, wild_raw)
            unit = lw.landmark_unit
            mouth = self.wild_mouth(b2)
            if lw.l2d_con:
                terms["l2d_con"] = losses.landmark_loss(forward68, b2.points18, mask, b2.visible18, mouth) / unit
                weights["l2d_con"] = lw.l2d_con
            if lw.cyc or lw.l3d_con:
                predicted18 = to_subset18(forward68[..., :2]).detach()
                back_w = run(self.reg, regressor_input(b2.images, predicted18, None))
                backward68 = crop_landmarks(self.lm_model, self.bfm.unwhiten(back_w))
                if lw.cyc:
                    terms["cyc"] = losses.landmark_loss(backward68, b2.points18, mask, b2.visible18, mouth) / unit
                    weights["cyc"] = lw.cyc
                if lw.l3d_con:
                    terms["l3d_con"] = losses.landmark_consistency_3d(forward68, backward68) / unit
                    weights["l3d_con"] = lw.l3d_con
            if self.use_sc:
                # "paper": the predictions on the in-the-wild faces are judged; "matched": those on the 3D
                # faces too, so that real and fake pairs share their images (see _critic_step)
                judged_pred = pred_w if lw.sc_pairs == "matched" else pred_w[n3:]
                judged_images = images if lw.sc_pairs == "matched" else b2.images
                with torch.no_grad():
                    z = run(self.enc, judged_images)
                critic = self.crit.module if isinstance(self.crit, DistributedDataParallel) else self.crit
                frozen = {k: v.detach() for k, v in critic.named_parameters()}
                with self.precision.autocast():
                    judged = functional_call(critic, frozen, (z, judged_pred)).float()
                terms["sc"] = losses.adversarial_loss(judged)
                weights["sc"] = lw.sc
                fake_pair = judged_pred.detach()
        total = sum(weights[k] * terms[k] for k in terms)
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        if cfg.optim.grad_clip:
            nn.utils.clip_grad_norm_(self.regressor.parameters(), cfg.optim.grad_clip)
        self.opt.step()
        logs = {k: float(v.detach()) for k, v in terms.items()}
        logs["total"] = float(total.detach())
        if fake_pair is not None:
            logs.update(self._critic_step(b3, b2, fake_pair))
        return logs

    def _supervised(self, pred_w: torch.Tensor, gt_raw: torch.Tensor) -> torch.Tensor:
        """The 3D-supervised loss of a pass over the 3D faces: L3d (stage 1) or the VDC (stage 2)."""
        if self.cfg.run.stage == 1:
            pred_raw = self.bfm.unwhiten(pred_w)
            w = losses.coefficient_weights(
                pred_raw.double(), gt_raw.double(), self.lm_model, self.cfg.loss.coefficient_dims
            )
            return losses.weighted_parameter_loss(pred_w, self.bfm.whiten(gt_raw), w.float())
        return losses.vertex_distance_cost(self.bfm.unwhiten(pred_w), gt_raw, self.vdc_model)

    def _perturb_map_points(self, points: torch.Tensor, visible: torch.Tensor):
        """Landmarks for the first pass's map: jittered by ``model.map_jitter`` pixels, and for a share
        ``model.map_dropout`` of the faces left out entirely (an empty map), so that the regressor also
        works from an empty map (the first pass at inference) and from noisy landmarks."""
        m = self.cfg.model
        if m.map_jitter:
            points = points + torch.randn_like(points) * m.map_jitter
        if m.map_dropout:
            keep = torch.rand(points.shape[0], device=points.device) >= m.map_dropout
            visible = visible & keep[:, None]
        return points, visible

    @torch.no_grad()
    def _detector_map_points(self, images: torch.Tensor, points: torch.Tensor, visible: torch.Tensor):
        """For a share ``model.detector_map`` of the faces, the first pass's map from the landmark
        detector ``model.map_detector`` run on the (augmented) crop by inference's landmark stage
        (:class:`dasl.landmarkers.DaslLandmarker`: its zoom, mirror averaged with
        ``model.map_detector_flip``, its shipped 8-bit network where it has one, as the default runs it):
        the map the model gets at inference, with the detector's real errors instead of ground truth plus
        jitter."""
        share = self.cfg.model.detector_map
        if not share or self.map_detector is None:
            return points, visible
        chosen = torch.rand(points.shape[0], device=points.device) < share
        if not chosen.any():
            return points, visible
        crops = denormalise_images(images[chosen].float().cpu().numpy())
        coords = torch.from_numpy(self.map_detector.crop_landmarks(crops))
        points, visible = points.clone(), visible.clone()
        points[chosen] = to_subset18(coords).to(points)
        visible[chosen] = True
        return points, visible

    def _critic_step(self, b3: Batch, b2: Batch, fake_params_w: torch.Tensor) -> dict[str, float]:
        """The critic learns ground-truth pairs ``[E(J), a*]`` of the 3D faces as real and predicted pairs as
        fake. ``loss.sc_pairs = "paper"``: the fakes are the in-the-wild faces' predictions (different
        images from the reals, so the critic can tell them apart by the images alone); ``"matched"``: the
        predictions on the 3D faces and on the in-the-wild faces, and each 3D face's image with another
        face's ground truth, so that only the agreement of image and parameters separates them.
        ``loss.critic_r1``: a gradient penalty on the real pairs' parameters (R1, Mescheder et al. 2018)."""
        lw, n3 = self.cfg.loss, len(b3)
        z = self.precision.forward(self.enc, torch.cat([b3.images, b2.images]))
        real = self.bfm.whiten(b3.params)
        if lw.critic_r1:
            real = real.detach().requires_grad_(True)
        if lw.sc_pairs == "matched":
            fake_z = torch.cat([z, z[:n3]])
            fakes = torch.cat([fake_params_w, real.detach().roll(1, 0)])
        else:
            fake_z, fakes = z[n3:], fake_params_w
        real_logits = self.precision.forward(self.crit, z[:n3], real)
        fake_logits = self.precision.forward(self.crit, fake_z, fakes)
        loss = losses.critic_loss(real_logits, fake_logits)
        logs = {}
        if lw.critic_r1:
            (grad,) = torch.autograd.grad(real_logits.sum(), real, create_graph=True)
            penalty = grad.pow(2).sum(1).mean()
            loss = loss + 0.5 * lw.critic_r1 * penalty
            logs["critic_r1"] = float(penalty.detach())
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        with torch.no_grad():
            accuracy = torch.cat([real_logits > 0, fake_logits <= 0]).float().mean()
        return {"critic": float(loss.detach()), "critic_acc": float(accuracy), **logs}

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def validation_sums(self, b: Batch) -> dict[str, float]:
        """``val_nme``: the 68-landmark NME (%, normalised by sqrt(w h) of the ground-truth box, crop frame)
        as at inference (a 4-channel model iterates from an empty map); ``val_nme_gt_map`` with the
        ground-truth landmarks in the map (4-channel models); ``val_param_mse``, the whitened parameters'
        error."""
        self.reg.eval()
        uses_map = self.cfg.model.landmark_map
        gt = crop_landmarks(self.lm_model, b.params)[..., :2]
        norm = box_size(gt)
        runs = {"val_nme": predict_whitened(self.reg, b.images, self.bfm, uses_map)}
        if uses_map:
            runs["val_nme_gt_map"] = self.reg(regressor_input(b.images, b.points18, b.visible18))
        sums = {}
        for key, pred_w in runs.items():
            pred = crop_landmarks(self.lm_model, self.bfm.unwhiten(pred_w))[..., :2]
            sums[key] = float(nme(pred, gt, norm).sum())
        sums["val_param_mse"] = float((runs["val_nme"] - self.bfm.whiten(b.params)).pow(2).mean(1).sum())
        return sums

    # ------------------------------------------------------------------ checkpoints
    def meta(self) -> ModelMeta:
        """What the regressor being trained says about itself (stored in every checkpoint)."""
        m = self.cfg.model
        return ModelMeta.for_network(
            m.backbone, m.landmark_map, self.bfm.param_mean, self.bfm.param_std, stage=self.cfg.run.stage
        )
