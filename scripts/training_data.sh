#!/usr/bin/env bash
# The 3D training data every dasl model trains on, built from ../shared (about 10 min on 2 cores).
# Rerunning skips what is done: build-3d skips the faces it has fitted, the AFLW fit (4 min) is skipped
# when its file exists.
set -euo pipefail
cd "$(dirname "$0")/.."

# HELEN/AFW fitted and profiled; AFLW in-the-wild crops fitted to their points.
dasl data build-3d --landmarked ../shared/data/helen-afw --out data/helen-afw-3d --profiles 8
[ -f data/aflw-wild-3d/labels3d.npz ] || dasl data fit-aflw --aflw ../shared/data/aflw-wild --out data/aflw-wild-3d
