#!/usr/bin/env bash
# The shipped 8-bit networks of the default configuration (dasl.nets.quantize): the landmark detector and
# dasl-light, quantised statically, calibrated on 100 crops of each training folder's training split (never
# held-out faces, never AFLW2000-3D). Rerun after either network's weights change: an 8-bit file records the
# weights it was made from and is ignored once they differ. Needs the training data (scripts/training_data.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
dasl export-onnx --model dasl-landmarks --int8 --out src/dasl/weights/dasl_landmarks.int8.onnx
dasl export-onnx --model dasl-light --int8 --out src/dasl/weights/dasl_light.int8.onnx
