"""The training loop every dasl network shares: batches from a 3D-annotated and an in-the-wild stream,
epochs, validation, checkpoints, exact resume, logging, several processes (DDP), mixed precision.

A run (:class:`TrainingLoop` subclass) says what a step and a validation are and which parts it saves:
:class:`dasl.train.trainer.Trainer` (the 2DASL regressor), :class:`dasl.train.landmark_loop.LandmarkTrainer`
(the 2D landmark detector).
"""

from __future__ import annotations

import csv
import inspect
import math
import random
import signal
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader
from tqdm import tqdm

from dasl.checkpoint import load_checkpoint, save_checkpoint
from dasl.data.sample import Batch, collate
from dasl.errors import BadInputError
from dasl.fileio import atomic_path, bar_disabled
from dasl.morphable.model import load_bfm
from dasl.morphable.symmetry import mirror_of
from dasl.paths import SharedData
from dasl.train.augment import AugmentConfig, AugmentedDataset
from dasl.train.config import TrainConfig
from dasl.train.datasets import Datasets, load_datasets
from dasl.train.distributed import DistContext, all_reduce_mean
from dasl.train.precision import Precision
from dasl.train.precision import resolve as resolve_precision
from dasl.train.sampling import ResumableBatchSampler


def make_optimizer(parameters, o) -> torch.optim.Optimizer:
    """The network's optimiser of ``optim`` (SGD with momentum, or Adam)."""
    if o.optimizer == "sgd":
        return torch.optim.SGD(parameters, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay)
    return torch.optim.Adam(parameters, lr=o.lr, weight_decay=o.weight_decay)


def _infinite(loader: DataLoader):
    yield from loader  # the batch sampler never ends


class TrainingLoop(ABC):
    """The loop loads the 3DMM (``self.bfm``) and the data (``self.data``: ``train_3d``, ``val_3d``,
    ``wild``); subclasses build their networks and optimisers and ``self.sched`` in :meth:`setup`, and list
    what a checkpoint holds in :meth:`parts`."""

    #: columns of ``log.csv`` (one row every ``run.log_every`` steps and one per epoch with validation)
    log_columns: list[str] = ["time", "epoch", "step", "lr", "total", "img_per_s"]
    #: the validation value whose minimum makes ``best.pt``
    best_key = "val_nme"

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
        self.precision = Precision(resolve_precision(cfg.run.precision, self.network_name(cfg)))
        self.epoch = 0
        self.step_in_epoch = 0
        self.global_step = 0
        self.consumed = {"3d": 0, "2d": 0}
        self.best_val = math.inf
        self._stop = False
        self.bfm = load_bfm(shared)
        self.lm_model = self.bfm.landmarks68
        self.data = datasets or load_datasets(cfg, self.bfm, shared.root if shared else None, self.progress)
        self.setup()

    # ------------------------------------------------------------------ what a run defines
    @classmethod
    def network_name(cls, cfg: TrainConfig) -> str:
        """The network's name in the precision table (:data:`dasl.train.precision.BF16_FASTER`)."""
        return cfg.model.backbone

    @abstractmethod
    def setup(self) -> None:
        """Build the run's networks, optimisers and ``self.sched`` (after the data are loaded)."""

    @abstractmethod
    def train_step(self, b3: Batch, b2: Batch | None) -> dict[str, float]:
        """One optimisation step; returns the logged values."""

    @abstractmethod
    def validation_sums(self, batch: Batch) -> dict[str, float]:
        """Sums over one validation batch of each validation value (keys starting with ``val_``)."""

    @torch.no_grad()
    def validate(self) -> dict[str, float]:
        """Validation values on the held-out 3D faces, without augmentation: the means over the split (or its
        first ``run.val_batches`` batches) of :meth:`validation_sums`, over every process."""
        val = self.data.val_3d
        if len(val) == 0:
            return {}
        batch = self.cfg.data.batch_3d
        count = len(val) if not self.cfg.run.val_batches else min(len(val), batch * self.cfg.run.val_batches)
        sums: dict[str, float] = {}
        seen = 0.0
        for start in range(self.ctx.rank * batch, count, batch * self.ctx.world):
            b = self._to(collate([val[i] for i in range(start, min(start + batch, count))]))
            for key, value in self.validation_sums(b).items():
                sums[key] = sums.get(key, 0.0) + value
            seen += len(b)
        sums["val_count"] = seen
        if self.ctx.enabled:
            sums = {k: v * self.ctx.world for k, v in all_reduce_mean(sums, self.ctx).items()}
        n = max(sums.pop("val_count"), 1.0)
        return {k: v / n for k, v in sums.items()}

    @abstractmethod
    def meta(self):
        """The network's metadata record (stored in every checkpoint as ``meta``)."""

    @abstractmethod
    def parts(self) -> dict[str, Any]:
        """What a checkpoint holds besides counters: name -> module / optimiser / scheduler (or None)."""

    @property
    def stage_name(self) -> str:
        return f"stage {self.cfg.run.stage}" if self.cfg.run.task == "regressor" else self.cfg.run.task

    def optimiser_for_lr(self) -> torch.optim.Optimizer:
        return self.sched.optimizer

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

    # ------------------------------------------------------------------ batches
    def _to(self, batch: Batch) -> Batch:
        return batch.to(self.device)

    def wild_mouth(self, batch: Batch) -> torch.Tensor | None:
        """Which in-the-wild faces' mouth-centre labels are AFLW's (the lips' middle) and are compared as such
        (``data.wild_mouth = "source"``); ``None``: every label is read as 2DASL's (``"2dasl"``)."""
        return batch.aflw_mouth if self.cfg.data.wild_mouth == "source" else None

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        state = {"config": self.cfg.to_dict(), "meta": self.meta().to_dict()}
        for name, part in self.parts().items():
            state[name] = part.state_dict() if part is not None else None
        state.update(
            epoch=self.epoch,
            step_in_epoch=self.step_in_epoch,
            global_step=self.global_step,
            consumed=dict(self.consumed),
            best_val=self.best_val,
            rng={"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()},
        )
        return state

    def load_state_dict(self, state: dict) -> None:
        for name, part in self.parts().items():
            if part is not None and state.get(name) is not None:
                part.load_state_dict(state[name])
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
        """Continue from ``path`` (default: this run's ``last.pt``); False if there is none yet. A checkpoint
        of another network than the config's is an error that says which; ``log.csv`` loses the rows of
        steps after the checkpoint (they are trained again)."""
        path = Path(path) if path else self.checkpoint_dir / "last.pt"
        if not path.is_file():
            return False
        state = load_checkpoint(path)
        try:
            self.load_state_dict(state)
        except (RuntimeError, KeyError, ValueError) as exc:
            theirs = (state.get("meta") or {}).get("backbone", "another network")
            mine = self.meta().to_dict().get("backbone", "this config's network")
            first = str(exc).strip().splitlines()[0][:160]
            raise BadInputError(path, f"holds {theirs}, the config trains {mine}: not resumable ({first})") from None
        self._trim_log()
        return True

    def _trim_log(self) -> None:
        """Drop ``log.csv``'s rows of steps after the resumed checkpoint."""
        path = self.out / "log.csv"
        if not self.ctx.is_main or not path.is_file():
            return
        with open(path, newline="") as fh:
            rows = list(csv.DictReader(fh))
        kept = [r for r in rows if float(r.get("step") or 0) <= self.global_step]
        if len(kept) < len(rows):
            with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
                out = csv.DictWriter(fh, fieldnames=self.log_columns, extrasaction="ignore")
                out.writeheader()
                out.writerows(kept)

    # ------------------------------------------------------------------ logging
    def _log(self, row: dict, writer) -> None:
        if not self.ctx.is_main:
            return
        path = self.out / "log.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        new = not path.is_file()
        with open(path, "a", newline="") as fh:
            out = csv.DictWriter(fh, fieldnames=self.log_columns, extrasaction="ignore")
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
        """Finish the current step, write a checkpoint and return (SIGINT / SIGTERM); a second signal stops at
        once (a step that never ends is not waited for)."""
        if self._stop:
            raise KeyboardInterrupt
        self._stop = True

    @property
    def interrupted(self) -> bool:
        """Whether the last :meth:`fit` stopped on a signal before its end."""
        return self._stop

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
                    desc=f"{self.stage_name} epoch {self.epoch + 1}/{cfg.run.epochs}",
                    disable=bar_disabled(self.progress),
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
                    if val and val[self.best_key] < self.best_val:
                        self.best_val = val[self.best_key]
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
            "lr": self.optimiser_for_lr().param_groups[0]["lr"],
            **logs,
        }
