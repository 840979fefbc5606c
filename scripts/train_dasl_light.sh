#!/usr/bin/env bash
# Reproduces dasl's shipped light model (dasl-light, the default) from ../shared, on a CPU.
# Budget on a 2-core machine: data about 10 min, training about 3 h 40 min (see docs/models.md).
# Rerunning after an interruption continues where it stopped (the data steps skip what is done, and
# `dasl train --resume` continues from the run's last checkpoint, or starts when there is none).
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. 3D training data: HELEN/AFW fitted and profiled, AFLW in-the-wild crops fitted to their points.
bash scripts/training_data.sh

# 2. Stage 1, part 1: HELEN/AFW only, 5 epochs.
dasl train --config configs/dasl_light_stage1_helen.toml --resume

# 3. Stage 1, part 2: both 3D sets, from part 1's best checkpoint (by validation NME), 6 epochs.
dasl train --config configs/dasl_light_stage1.toml run.init=runs/dasl_light_stage1_helen/checkpoints/best.pt --resume

# 4. Stage 2: VDC fine-tuning from stage 1's best, 2 epochs (about 40 min).
dasl train --config configs/dasl_light_stage2.toml --resume

# 5. The model file the package ships: stage 2's best checkpoint by validation NME (better than stage 1's
#    best on the same held-out faces), float32 weights.
dasl export-model runs/dasl_light_stage2/checkpoints/best.pt --out src/dasl/weights/dasl_light.safetensors \
    --name dasl-light

# 6. its 8-bit network (the default's regressor: dasl.nets.quantize)
bash scripts/quantize_shipped.sh
