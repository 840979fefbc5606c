#!/usr/bin/env bash
# The ablation of 2DASL's Table 2 at this machine's scale: the 8 variants of configs/ablation/, the same
# budget each (MobileNetV1x0.5, 2 x 300 steps of 16 3D-annotated + 16 in-the-wild faces, seed 0), then all
# 8 final checkpoints (last.pt: no checkpoint picking) and the validation NME from the logs side by side.
# About 6 minutes a row on 2 CPU cores. Rerunning resumes unfinished rows and skips finished ones.
set -euo pipefail
cd "$(dirname "$0")/.."
test -f data/helen-afw-3d/labels3d.npz || { echo "build the training data first: scripts/train_dasl_light.sh (its data part)" >&2; exit 2; }
rows=(base_nomask base_mask cyc_nomask cyc_mask sc_nomask sc_mask cyc_sc_nomask cyc_sc_mask)
models=()
for row in "${rows[@]}"; do
  dasl train --config "configs/ablation/$row.toml" --resume
  models+=(-m "runs/ablation/$row/checkpoints/last.pt")
done
dasl benchmark aflw2000 "${models[@]}" --out results/ablation
for row in "${rows[@]}"; do  # validation NME (held-out HELEN/AFW identities) at the end of each row
  python -c "import csv,sys; r=[x['val_nme'] for x in csv.DictReader(open(sys.argv[1])) if x['val_nme']]; print(sys.argv[2], 'val NME', r[-1])" \
    "runs/ablation/$row/log.csv" "$row"
done
