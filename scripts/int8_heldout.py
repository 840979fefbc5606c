"""Held-out 68-point NME of the default and dasl-light+det with 32-bit (backend ``onnx``) and 8-bit (backend
``auto``) networks, on every held-out set (:data:`dasl.eval.heldout.HELDOUT_FOLDERS`); docs/experiments.md,
"8-bit networks, and the fit's damping trials". Run from the repository root after
``bash scripts/training_data.sh``."""

from __future__ import annotations

from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces, heldout_nme
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages


def main() -> None:
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    sets = {folder: heldout_faces(folder, bfm) for folder in HELDOUT_FOLDERS}
    print("model / backend:", " | ".join(HELDOUT_FOLDERS))
    for name in ("default", "dasl-light+det"):
        for backend in ("onnx", "auto"):
            stages = load_stages(name, shared, backend=backend)
            row = [f"{heldout_nme(stages, crops, params, None, bfm).mean():.4f}" for crops, params in sets.values()]
            print(f"{name:16s} {backend:5s}", " | ".join(row))


if __name__ == "__main__":
    main()
