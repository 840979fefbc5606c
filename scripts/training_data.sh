#!/usr/bin/env bash
# The training data every dasl model trains on, built from ../shared (about 45 min on 2 cores).
# Every step leaves out near-copies of AFLW2000-3D crops (the test set) and lists them in its
# near_copies.json. Rerunning skips what is done: build-3d skips the faces it has fitted and rendered,
# profile the faces whose views exist; the AFLW fit (8 min) is skipped when its files exist.
set -euo pipefail
cd "$(dirname "$0")/.."

# HELEN/AFW fitted and profiled (8 views per photo towards +-90 degrees yaw).
dasl data build-3d --landmarked ../shared/data/helen-afw --out data/helen-afw-3d --profiles 8
# AFLW in-the-wild crops fitted to their points: 3D labels and the in-the-wild faces.
[ -f data/aflw-wild-3d/wild2d.npz ] || dasl data fit-aflw --aflw ../shared/data/aflw-wild --out data/aflw-wild-3d
# The AFLW fits turned further (2 views each): real large-pose faces, larger.
dasl data profile --labels data/aflw-wild-3d --out data/aflw-wild-profiles --profiles 2
# The detector configs of 2026-12-04 name the refitted AFLW sets by their -lips names (the fits read AFLW's
# mouth centre as AFLW marks it since then): the same folders.
ln -sfn aflw-wild-3d data/aflw-wild-3d-lips
ln -sfn aflw-wild-profiles data/aflw-wild-profiles-lips
# The AFLW fits that also fit AFLW's chin point, and their profiles: what the shipped landmark detector
# trained on (configs/landmarks_lips_chin.toml; docs/experiments.md, "The lips-chin detector ships").
[ -f data/aflw-wild-3d-lips-chin/wild2d.npz ] ||
  dasl data fit-aflw --aflw ../shared/data/aflw-wild --out data/aflw-wild-3d-lips-chin --chin
dasl data profile --labels data/aflw-wild-3d-lips-chin --out data/aflw-wild-profiles-lips-chin --profiles 2
