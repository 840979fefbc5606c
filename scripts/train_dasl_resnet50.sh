#!/usr/bin/env bash
# Reproduces dasl's shipped ResNet-50 model (dasl-resnet50, the paper's network) from ../shared, on a CPU.
# Budget on a 2-core machine: data about 10 min, training about 2 h 40 min (see docs/models.md).
# Rerunning after an interruption continues where it stopped (the data steps skip what is done, and
# `dasl train --resume` continues from the run's last checkpoint, or starts when there is none).
set -euo pipefail
cd "$(dirname "$0")/.."

# 1. 3D training data: HELEN/AFW fitted and profiled, AFLW in-the-wild crops fitted to their points.
bash scripts/training_data.sh

# 2. Stage 1: both 3D sets + the in-the-wild crops, all losses, 3 epochs from random weights.
dasl train --config configs/dasl_resnet50_stage1.toml --resume

# 3. Stage 2: VDC fine-tuning from stage 1's best (by validation NME), 400 steps.
dasl train --config configs/dasl_resnet50_stage2.toml --resume

# 4. The model file the package ships: stage 2's last checkpoint (one validation, at its end), weights stored
#    as float16 (used as float32) to halve the file.
dasl export-model runs/dasl_resnet50_stage2/checkpoints/best.pt --out src/dasl/weights/dasl_resnet50.safetensors \
    --name dasl-resnet50 --half
