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

import csv
import inspect
import math
import random
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.func import functional_call
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from dasl import losses
from dasl.checkpoint import load_checkpoint, save_checkpoint
from dasl.data.labelled3d import Labelled3D, split_groups
from dasl.data.sample import Batch, collate
from dasl.data.wild import Wild2D
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_landmarks
from dasl.morphable.landmarks import MASK18, NO_MASK18, to_subset18
from dasl.morphable.model import MorphableModel, load_bfm
from dasl.morphable.symmetry import mirror_of
from dasl.nets.backbones import build_regressor
from dasl.nets.critic import Critic, Encoder
from dasl.nets.inputs import predict_whitened, regressor_input
from dasl.nets.model_file import ModelMeta
from dasl.paths import SharedData
from dasl.train.augment import AugmentConfig, AugmentedDataset
from dasl.train.config import TrainConfig, expand_path
from dasl.train.distributed import DistContext, all_reduce_mean
from dasl.train.precision import Precision
from dasl.train.precision import resolve as resolve_precision
from dasl.train.sampling import ResumableBatchSampler

#: columns of ``log.csv`` (one row every ``run.log_every`` steps and one per epoch with validation)
LOG_COLUMNS = [
    "time",
    "epoch",
    "step",
    "lr",
    "total",
    "l3d",
    "vdc",
    "l2d_con",
    "l3d_con",
    "cyc",
    "sc",
    "critic",
    "critic_acc",
    "img_per_s",
    "val_nme",
    "val_nme_gt_map",
    "val_param_mse",
]


@dataclass
class Datasets:
    train_3d: Labelled3D
    val_3d: Labelled3D
    wild: Wild2D | None


def load_datasets(cfg: TrainConfig, bfm: MorphableModel, shared_root: Path | None, progress: bool) -> Datasets:
    """The 3D sets split by group into training and validation faces, and the in-the-wild faces without
    any of the validation groups (the same AFLW crops can be 3D-labelled and in-the-wild faces)."""
    sets = [Labelled3D.from_folder(expand_path(p, shared_root), bfm, progress) for p in cfg.data.train_3d]
    full = Labelled3D.concatenate(sets, bfm)
    train_idx, val_idx = split_groups(full.groups, cfg.data.val_fraction)
    wild = None
    if cfg.uses_wild:
        wild = Wild2D.concatenate([Wild2D.from_source(expand_path(p, shared_root)) for p in cfg.data.wild])
        held_out = {full.groups[i] for i in val_idx}
        wild = wild.subset(np.array([i for i, g in enumerate(wild.groups) if g not in held_out], dtype=np.int64))
    return Datasets(full.subset(train_idx), full.subset(val_idx), wild)


def _infinite(loader: DataLoader):
    yield from loader  # the batch sampler never ends


class Trainer:
    def __init__(
        self,
        cfg: TrainConfig,
        ctx: DistContext | None = None,
        shared: SharedData | None = None,
        datasets: Datasets | None = None,
        progress: bool = True,
    ) -> None:
        cfg.validate()
        self.cfg, self.ctx = cfg, ctx or DistContext()
        self.progress = progress and self.ctx.is_main
        self.out = Path(cfg.run.out)
        self.device = self.ctx.device
        shared_root = shared.root if shared else None
        self.bfm = load_bfm(shared)
        self.lm_model = self.bfm.landmarks68
        face = self.bfm.face_vertices
        step = max(1, len(face) // max(1, cfg.loss.vdc_vertices))
        self.vdc_model = self.bfm.subset(face[::step][: cfg.loss.vdc_vertices])
        self.mask = torch.as_tensor(MASK18 if cfg.loss.mask else NO_MASK18)
        self.data = datasets or load_datasets(cfg, self.bfm, shared_root, self.progress)

        torch.manual_seed(cfg.run.seed)
        self.precision = Precision(resolve_precision(cfg.run.precision, cfg.model.backbone))
        self.regressor = build_regressor(cfg.model.backbone, self.meta().in_channels).to(self.device)
        self.use_sc = bool(cfg.loss.sc) and self.data.wild is not None
        self.encoder = Encoder().to(self.device) if self.use_sc else None
        self.critic = Critic().to(self.device) if self.use_sc else None
        if cfg.run.init:
            state = load_checkpoint(cfg.run.init)
            self.regressor.load_state_dict(state["regressor"])
        for module in (self.regressor, self.encoder, self.critic):
            if module is not None:
                self.precision.prepare(module)
        self.reg = self._wrap(self.regressor)
        self.enc = self._wrap(self.encoder) if self.use_sc else None
        self.crit = self._wrap(self.critic) if self.use_sc else None

        o = cfg.optim
        if o.optimizer == "sgd":
            self.opt = torch.optim.SGD(
                self.regressor.parameters(), lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay
            )
        else:
            self.opt = torch.optim.Adam(self.regressor.parameters(), lr=o.lr, weight_decay=o.weight_decay)
        self.sched = torch.optim.lr_scheduler.ExponentialLR(self.opt, gamma=o.lr_decay)
        self.opt_d = None
        if self.use_sc:
            params = list(self.encoder.parameters()) + list(self.critic.parameters())
            self.opt_d = torch.optim.Adam(params, lr=o.critic_lr, betas=(0.5, 0.999))

        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.consumed = {"3d": 0, "2d": 0}
        self.best_val = math.inf
        self._stop = False

    # ------------------------------------------------------------------ set-up helpers
    def _wrap(self, module: nn.Module) -> nn.Module:
        if not self.ctx.enabled:
            return module
        ids = [self.device.index] if self.device.type == "cuda" else None
        # batch-norm statistics stay per process: the regressor runs twice per step (the cycle), and
        # syncing buffers on each forward would modify tensors the first pass saved for backward
        if "forward_sync_buffers" in inspect.signature(DistributedDataParallel).parameters:
            return DistributedDataParallel(module, device_ids=ids, forward_sync_buffers=False)
        return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)

    @property
    def steps_per_epoch(self) -> int:
        per = len(self.data.train_3d) // (self.cfg.data.batch_3d * self.ctx.world)
        return self.cfg.run.steps_per_epoch or max(1, per)

    def _loader(self, dataset, batch: int, start: int, augment: AugmentConfig, salt: int) -> DataLoader:
        sampler = ResumableBatchSampler(
            len(dataset), batch, seed=self.cfg.run.seed + salt, rank=self.ctx.rank, world=self.ctx.world, start=start
        )
        wrapped = AugmentedDataset(dataset, augment, mirror_of(self.bfm), seed=self.cfg.run.seed + salt)
        workers = self.cfg.data.workers
        return DataLoader(
            wrapped, batch_sampler=sampler, collate_fn=collate, num_workers=workers, persistent_workers=workers > 0
        )

    # ------------------------------------------------------------------ one step
    def _to(self, batch: Batch) -> Batch:
        d = self.device
        params = None if batch.params is None else batch.params.to(d)
        return Batch(batch.images.to(d), batch.points18.to(d), batch.visible18.to(d), params)

    def train_step(self, b3: Batch, b2: Batch | None) -> dict[str, float]:
        cfg, lw = self.cfg, self.cfg.loss
        self.reg.train()
        n3 = len(b3)
        use_map = cfg.model.landmark_map
        images = b3.images if b2 is None else torch.cat([b3.images, b2.images])
        points = b3.points18 if b2 is None else torch.cat([b3.points18, b2.points18])
        visible = b3.visible18 if b2 is None else torch.cat([b3.visible18, b2.visible18])
        if use_map:
            points, visible = self._perturb_map_points(points, visible)
        run = self.precision.forward
        pred_w = run(self.reg, regressor_input(images, points if use_map else None, visible))
        pred_raw = self.bfm.unwhiten(pred_w)
        gt_raw = b3.params
        terms: dict[str, torch.Tensor] = {}
        weights: dict[str, float] = {}
        if cfg.run.stage == 1:
            w = losses.coefficient_weights(pred_raw[:n3].double(), gt_raw.double(), self.lm_model, lw.coefficient_dims)
            terms["l3d"] = losses.weighted_parameter_loss(pred_w[:n3], self.bfm.whiten(gt_raw), w.float())
            weights["l3d"] = 1.0
        else:
            terms["vdc"] = losses.vertex_distance_cost(pred_raw[:n3], gt_raw, self.vdc_model)
            weights["vdc"] = lw.vdc
        fake_pair = None
        if b2 is not None:
            wild_raw = pred_raw[n3:]
            mask = self.mask.to(pred_w)
            forward68 = crop_landmarks(self.lm_model, wild_raw)
            unit = lw.landmark_unit
            if lw.l2d_con:
                terms["l2d_con"] = losses.landmark_loss(forward68, b2.points18, mask, b2.visible18) / unit
                weights["l2d_con"] = lw.l2d_con
            if lw.cyc or lw.l3d_con:
                predicted18 = to_subset18(forward68[..., :2]).detach()
                back_w = run(self.reg, regressor_input(b2.images, predicted18, None))
                backward68 = crop_landmarks(self.lm_model, self.bfm.unwhiten(back_w))
                if lw.cyc:
                    terms["cyc"] = losses.landmark_loss(backward68, b2.points18, mask, b2.visible18) / unit
                    weights["cyc"] = lw.cyc
                if lw.l3d_con:
                    terms["l3d_con"] = losses.landmark_consistency_3d(forward68, backward68) / unit
                    weights["l3d_con"] = lw.l3d_con
            if self.use_sc:
                with torch.no_grad():
                    z_wild = run(self.enc, b2.images)
                critic = self.crit.module if isinstance(self.crit, DistributedDataParallel) else self.crit
                frozen = {k: v.detach() for k, v in critic.named_parameters()}
                with self.precision.autocast():
                    judged = functional_call(critic, frozen, (z_wild, pred_w[n3:])).float()
                terms["sc"] = losses.adversarial_loss(judged)
                weights["sc"] = lw.sc
                fake_pair = pred_w[n3:].detach()
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

    def _critic_step(self, b3: Batch, b2: Batch, fake_params_w: torch.Tensor) -> dict[str, float]:
        n3 = len(b3)
        z = self.precision.forward(self.enc, torch.cat([b3.images, b2.images]))
        pairs = torch.cat([self.bfm.whiten(b3.params), fake_params_w])
        logits = self.precision.forward(self.crit, z, pairs)
        loss = losses.critic_loss(logits[:n3], logits[n3:])
        self.opt_d.zero_grad(set_to_none=True)
        loss.backward()
        self.opt_d.step()
        with torch.no_grad():
            accuracy = torch.cat([logits[:n3] > 0, logits[n3:] <= 0]).float().mean()
        return {"critic": float(loss.detach()), "critic_acc": float(accuracy)}

    # ------------------------------------------------------------------ validation
    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """On the held-out 3D faces, without augmentation: ``val_nme``, the 68-landmark NME (%, normalised
        by sqrt(w h) of the ground-truth box, crop frame) as at inference (a 4-channel model iterates
        from an empty map), ``val_nme_gt_map`` with the ground-truth landmarks in the map, and the
        parameter error ``val_param_mse`` (whitened)."""
        val = self.data.val_3d
        if len(val) == 0:
            return {}
        self.reg.eval()
        batch = self.cfg.data.batch_3d
        count = len(val) if not self.cfg.run.val_batches else min(len(val), batch * self.cfg.run.val_batches)
        uses_map = self.cfg.model.landmark_map
        sums = {"val_nme": 0.0, "val_nme_gt_map": 0.0, "val_param_mse": 0.0, "val_count": 0.0}
        for start in range(self.ctx.rank * batch, count, batch * self.ctx.world):
            b = self._to(collate([val[i] for i in range(start, min(start + batch, count))]))
            gt = crop_landmarks(self.lm_model, b.params)[..., :2]
            norm = box_size(gt)
            runs = {"val_nme": predict_whitened(self.reg, b.images, self.bfm, uses_map)}
            if uses_map:
                runs["val_nme_gt_map"] = self.reg(regressor_input(b.images, b.points18, b.visible18))
            for key, pred_w in runs.items():
                pred = crop_landmarks(self.lm_model, self.bfm.unwhiten(pred_w))[..., :2]
                sums[key] += float(nme(pred, gt, norm).sum())
            err = (runs["val_nme"] - self.bfm.whiten(b.params)).pow(2).mean(1)
            sums["val_param_mse"] += float(err.sum())
            sums["val_count"] += len(b)
        if self.ctx.enabled:
            sums = {k: v * self.ctx.world for k, v in all_reduce_mean(sums, self.ctx).items()}
        n = max(sums.pop("val_count"), 1.0)
        out = {k: v / n for k, v in sums.items()}
        if not uses_map:
            out.pop("val_nme_gt_map")
        return out

    # ------------------------------------------------------------------ checkpoints
    def meta(self) -> ModelMeta:
        """What the regressor being trained says about itself (stored in every checkpoint)."""
        m = self.cfg.model
        return ModelMeta.for_network(
            m.backbone, m.landmark_map, self.bfm.param_mean, self.bfm.param_std, stage=self.cfg.run.stage
        )

    def state_dict(self) -> dict:
        return {
            "config": self.cfg.to_dict(),
            "meta": self.meta().to_dict(),
            "regressor": self.regressor.state_dict(),
            "encoder": self.encoder.state_dict() if self.encoder else None,
            "critic": self.critic.state_dict() if self.critic else None,
            "opt": self.opt.state_dict(),
            "opt_d": self.opt_d.state_dict() if self.opt_d else None,
            "sched": self.sched.state_dict(),
            "epoch": self.epoch,
            "step_in_epoch": self.step_in_epoch,
            "global_step": self.global_step,
            "consumed": dict(self.consumed),
            "best_val": self.best_val,
            "rng": {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        }

    def load_state_dict(self, state: dict) -> None:
        self.regressor.load_state_dict(state["regressor"])
        if self.encoder is not None and state.get("encoder") is not None:
            self.encoder.load_state_dict(state["encoder"])
            self.critic.load_state_dict(state["critic"])
            self.opt_d.load_state_dict(state["opt_d"])
        self.opt.load_state_dict(state["opt"])
        self.sched.load_state_dict(state["sched"])
        self.epoch, self.step_in_epoch = state["epoch"], state["step_in_epoch"]
        self.global_step, self.consumed = state["global_step"], dict(state["consumed"])
        self.best_val = state.get("best_val", math.inf)
        torch.set_rng_state(state["rng"]["torch"])
        np.random.set_state(state["rng"]["numpy"])
        random.setstate(state["rng"]["python"])

    @property
    def checkpoint_dir(self) -> Path:
        return self.out / "checkpoints"

    def save(self, name: str = "last.pt") -> Path | None:
        if not self.ctx.is_main:
            return None
        return save_checkpoint(self.checkpoint_dir / name, self.state_dict())

    def resume(self, path: str | Path | None = None) -> bool:
        """Continue from ``path`` (default: this run's ``last.pt``); False if there is none yet."""
        path = Path(path) if path else self.checkpoint_dir / "last.pt"
        if not path.is_file():
            return False
        self.load_state_dict(load_checkpoint(path))
        return True

    # ------------------------------------------------------------------ logging
    def _log(self, row: dict, writer) -> None:
        if not self.ctx.is_main:
            return
        path = self.out / "log.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.is_file()
        with open(path, "a", newline="") as fh:
            out = csv.DictWriter(fh, fieldnames=LOG_COLUMNS, extrasaction="ignore")
            if new:
                out.writeheader()
            out.writerow(row)
        if writer is not None:
            for key, value in row.items():
                if key not in ("time", "epoch", "step") and isinstance(value, float):
                    writer.add_scalar(key, value, row["step"])

    def _writer(self):
        if not self.ctx.is_main:
            return None
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:  # tensorboard is optional
            return None
        return SummaryWriter(str(self.out / "tensorboard"), purge_step=self.global_step or None)

    # ------------------------------------------------------------------ the loop
    def request_stop(self, *_args) -> None:
        """Finish the current step, write a checkpoint and return (SIGINT / SIGTERM)."""
        self._stop = True

    def fit(self, max_steps: int | None = None) -> dict[str, float]:
        """Train until ``run.epochs`` (or ``max_steps`` more steps); returns the last logs."""
        cfg = self.cfg
        aug = cfg.data.augment
        loader3 = self._loader(self.data.train_3d, cfg.data.batch_3d, self.consumed["3d"], aug, salt=0)
        it3 = _infinite(loader3)
        it2 = None
        if self.data.wild is not None:
            loader2 = self._loader(self.data.wild, cfg.data.batch_2d, self.consumed["2d"], aug, salt=1)
            it2 = _infinite(loader2)
        writer = self._writer()
        handlers = {}
        if self.ctx.is_main:
            for sig in (signal.SIGINT, signal.SIGTERM):
                try:
                    handlers[sig] = signal.signal(sig, self.request_stop)
                except ValueError:  # not the main thread
                    pass
        logs: dict[str, float] = {}
        done = 0
        try:
            while self.epoch < cfg.run.epochs and not self._stop:
                bar = tqdm(
                    total=self.steps_per_epoch,
                    initial=self.step_in_epoch,
                    desc=f"stage {cfg.run.stage} epoch {self.epoch + 1}/{cfg.run.epochs}",
                    disable=not self.progress,
                    leave=False,
                )
                while self.step_in_epoch < self.steps_per_epoch:
                    started = time.perf_counter()
                    b3 = self._to(next(it3))
                    b2 = self._to(next(it2)) if it2 is not None else None
                    step_logs = self.train_step(b3, b2)
                    self.consumed["3d"] += 1
                    self.consumed["2d"] += int(b2 is not None)
                    self.step_in_epoch += 1
                    self.global_step += 1
                    done += 1
                    seconds = time.perf_counter() - started
                    step_logs["img_per_s"] = (len(b3) + (len(b2) if b2 is not None else 0)) * self.ctx.world / seconds
                    logs = all_reduce_mean(step_logs, self.ctx)
                    bar.update(1)
                    bar.set_postfix({k: f"{v:.3g}" for k, v in logs.items() if k in ("total", "l3d", "vdc", "cyc")})
                    if self.global_step % cfg.run.log_every == 0:
                        self._log(self._row(logs), writer)
                    if self.global_step % cfg.run.checkpoint_every == 0:
                        self.save()
                    if self._stop or (max_steps is not None and done >= max_steps):
                        break
                bar.close()
                if self.step_in_epoch >= self.steps_per_epoch:
                    val = self.validate()
                    logs.update(val)
                    self._log(self._row(val), writer)
                    self.epoch += 1
                    self.step_in_epoch = 0
                    self.sched.step()
                    self.save()
                    self.save(f"epoch{self.epoch:03d}.pt")
                    if val and val["val_nme"] < self.best_val:
                        self.best_val = val["val_nme"]
                        self.save("best.pt")
                if max_steps is not None and done >= max_steps:
                    break
            self.save()
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            if writer is not None:
                writer.close()
        return logs

    def _row(self, logs: dict[str, float]) -> dict:
        return {
            "time": round(time.time(), 1),
            "epoch": self.epoch,
            "step": self.global_step,
            "lr": self.opt.param_groups[0]["lr"],
            **logs,
        }
