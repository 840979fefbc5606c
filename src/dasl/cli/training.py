"""`dasl train`: the 2DASL regressor and the landmark detector."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dasl.cli.common import SharedOption, app, console


@app.command()
def train(
    overrides: Annotated[
        list[str] | None, typer.Argument(help="key=value overrides, e.g. optim.lr=1e-3 run.epochs=2")
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="TOML config (see configs/)")] = None,
    resume: Annotated[bool, typer.Option(help="continue from the run's last checkpoint")] = False,
    max_steps: Annotated[int | None, typer.Option(help="stop after this many steps (checkpoint written)")] = None,
    shared: SharedOption = None,
) -> None:
    """Train a regressor with 2DASL (stage 1 or 2 per the config), or the 2D landmark detector
    (run.task = "landmarks"); torchrun runs it on several processes."""
    import torch

    from dasl.paths import SharedData
    from dasl.train.config import load_config
    from dasl.train.distributed import init_distributed, shutdown
    from dasl.train.landmark_loop import LandmarkTrainer
    from dasl.train.trainer import Trainer

    cfg = load_config(config, overrides)
    ctx = init_distributed()
    threads = cfg.run.threads or max(1, (torch.get_num_threads() or 1) // ctx.local_world)
    torch.set_num_threads(threads)
    try:
        kind = LandmarkTrainer if cfg.run.task == "landmarks" else Trainer
        trainer = kind(cfg, ctx, SharedData.find(shared))
        if resume and trainer.resume():
            console.print(f"resumed {cfg.run.out} at epoch {trainer.epoch + 1}, step {trainer.global_step}")
        elif resume:
            console.print(f"no checkpoint in {trainer.checkpoint_dir}: starting {cfg.run.out} from its beginning")
        logs = trainer.fit(max_steps=max_steps)
        if ctx.is_main:
            shown = ", ".join(f"{k} {v:.4g}" for k, v in logs.items())
            console.print(f"step {trainer.global_step}: {shown}")
            console.print(f"checkpoints in {trainer.checkpoint_dir}, log in {trainer.out / 'log.csv'}")
        if trainer.interrupted:  # a script's next stage must not start from a half-trained run
            console.print(f"interrupted at step {trainer.global_step}, checkpoint written: --resume continues")
            raise typer.Exit(130)
    finally:
        shutdown()
