"""The confidence test of the tracker and of photos' detections, measured: each configuration's
disagreement and its landmark source's doubt (crop pixels) on held-out faces and on crops of background,
so that ``max_disagreement`` and ``MAX_DOUBT`` (:mod:`dasl.stages.crops`) separate the two.

* ``dasl-light+flip``: the two mirrored predictions' 68 landmarks apart;
* ``dasl-light+fit`` (the default on video's tracked crops, where its detector is not mirror-averaged,
  and the default before ``+detflip``): the regressor's 68 landmarks (before the fit) and the landmark
  detector's apart;
* ``default`` (``dasl-light+fit+detflip``, photos): the same, and the detector's doubt (its heatmaps' mean
  spread plus the mirrored crop's mean distance, :meth:`dasl.landmarkers.base.LandmarkEstimate.doubt`).

Faces: the held-out groups of the training data (never AFLW2000-3D). Background: square windows of the
HELEN photos (400 px, the face in the middle) that do not overlap the labelled face's crop ROI, 50 to 100
px a side, resized to 120 like any crop (a few may hold another person).

    python scripts/confidence_threshold.py          # after scripts/training_data.sh; about 3 min alone
"""

from pathlib import Path

import numpy as np
import torch

from dasl.data.images import read_rgb
from dasl.data.landmark_io import read_pts
from dasl.eval.heldout import HELDOUT_FOLDERS, heldout_faces
from dasl.geometry.boxes import box_iou
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData
from dasl.stages import load_stages
from dasl.stages.crops import MAX_DOUBT, MAX_DOUBT_SINGLE

MODELS = ("dasl-light+flip", "dasl-light+fit", "default")
PHOTOS = 150  # HELEN photos that give background windows
PER_PHOTO = 3


def background_crops(shared: SharedData, seed: int = 0) -> np.ndarray:
    """Up to ``PHOTOS * PER_PHOTO`` 120x120 crops of HELEN photos away from the labelled face."""
    rng = np.random.default_rng(seed)
    photos = sorted((shared.path("helen_afw") / "helen_train").glob("*.jpg"))[:PHOTOS]
    crops = []
    for path in photos:
        image = read_rgb(path)
        face = roi_from_landmarks(read_pts(path.with_suffix(".pts"))[None])[0]
        h, w = image.shape[:2]
        taken = 0
        for _ in range(20 * PER_PHOTO):
            side = rng.uniform(50, 100)
            x, y = rng.uniform(1, w - side), rng.uniform(1, h - side)
            roi = np.array([x, y, x + side, y + side])
            if taken < PER_PHOTO and box_iou(roi, face) == 0:
                crops.append(crop_image(image, roi))
                taken += 1
    return np.stack(crops)


def summary(values: np.ndarray, limit: float) -> str:
    above = (values > limit).mean() * 100
    q = np.percentile(values, [1, 50, 90, 99])
    return f"{q[0]:.1f} / {q[1]:.1f} / {q[2]:.1f} / {q[3]:.1f} ({above:.1f}% above {limit:g})"


def main() -> None:
    torch.set_num_threads(1)
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    faces = {folder: heldout_faces(Path(folder), bfm)[0] for folder in HELDOUT_FOLDERS}
    background = background_crops(shared)
    print("1st / 50th / 90th / 99th percentile (crop pixels), share above the threshold")
    print(f"model | {' | '.join(f'{f} ({len(c)})' for f, c in faces.items())} | background ({len(background)})")
    for name in MODELS:
        stages = load_stages(name, shared)
        results = [stages.run(c) for c in [*faces.values(), background]]
        cells = [summary(r.disagreement, stages.max_disagreement) for r in results]
        print(f"{name}, disagreement | {' | '.join(cells)}")
        if stages.landmarker is not None:
            limit = MAX_DOUBT if stages.landmarker.flip else MAX_DOUBT_SINGLE
            print(f"{name}, doubt | {' | '.join(summary(r.doubt, limit) for r in results)}")


if __name__ == "__main__":
    main()
