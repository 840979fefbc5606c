#!/usr/bin/env bash
# Issue 13's experiments: each lever against the current recipe (configs/experiments/base.toml) at one
# budget (800 steps; precision auto: bf16 where measured faster), then every final checkpoint (last.pt, no
# picking) scored on held-out training faces (HELEN/AFW and AFLW held-out groups, never AFLW2000-3D) by map
# source and pass. On a 2-core AMX machine: 8 min a MobileNetV1 row, 14 a MobileNetV2 row, 17 for ResNet-50.
# Rerunning resumes unfinished rows and skips finished ones; ROWS="a b" runs and scores only those rows
# (their scores go to a file named after them, so the full table's file is kept). Needs the landmark
# detector for its map rows (the shipped dasl-landmarks, or a file or checkpoint: LANDMARKER=...).
set -euo pipefail
cd "$(dirname "$0")/.."
LANDMARKER=${LANDMARKER:-dasl-landmarks}
# Each row is configs/experiments/<row>.toml: the base with one change (its `base = "base.toml"`).
order=(${ROWS:-base base_seed1 self_map jitter3 detector_map profiles rotate mnv2 mnv2_imagenet critic_matched wild_mouth resnet50})
models=()
rows_tag=${ROWS:+_${ROWS// /_}}
for row in "${order[@]}"; do
  extra=()
  [ "$row" = detector_map ] && extra=("model.map_detector=\"$LANDMARKER\"")
  dasl train --config "configs/experiments/$row.toml" "${extra[@]}" --resume
  models+=(-m "runs/exp/$row/checkpoints/last.pt")
done
dasl benchmark heldout "${models[@]}" --data3d data/helen-afw-3d --data3d data/aflw-wild-3d-lips-chin \
  --landmarker "$LANDMARKER" --passes 3 | tee "results/experiments_heldout${rows_tag}.txt"
