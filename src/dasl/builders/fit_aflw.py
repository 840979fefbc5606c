"""``dasl data fit-aflw``: 3D labels for AFLW's in-the-wild crops by fitting the 3DMM to their visible
annotated points (as AFLW2000-3D's own labels were made from AFLW's landmarks, on other images).

Each crop's 21 AFLW points, of which 18 stand for 2DASL's landmarks
(:data:`~dasl.morphable.landmarks.AFLW21_TO_18`; the mouth centre on the lips' middle as AFLW marks it,
:data:`~dasl.morphable.landmarks.AFLW_SCHEME18`: fits made before 2026-12-04 put it at the mouth corners'
midpoint and turned a fifth of the profiles toward the camera), and with ``chin=True`` the chin point for
the chin landmark (:data:`~dasl.morphable.landmarks.AFLW_CHIN`), are fitted with their visibility by
:class:`~dasl.fitting.LandmarkFitter` (no marching: the points are not contour points). Without the chin
(the labels the shipped models trained on) the fitted jaw is the 3DMM's guess from the inner face, its chin
6-9% of the face size from the annotated one; with it the chin lands within 2% at a cost of 0.13-0.23% at
the 18 points (docs/experiments.md, "AFLW's chin in the fits").

The fit starts from the closed-form pose and from the mean face turned by :data:`YAW_STARTS`, keeping each
face's lowest cost. A profile's visible points can still be fitted by a squeezed face turned toward the
camera (a fifth of the profiles before the mouth centre was read as AFLW marks it, about 3% after): a fit
whose yaw is more than ``max_yaw_gap`` degrees from AFLW's own pose estimate (``yaw_deg``) is left out of
the 3D labels and stays an in-the-wild face.

First every crop is checked against the test set (:mod:`dasl.builders.near_copies`); near-copies of an
AFLW2000-3D crop are left out of everything written. Output in ``OUT``:

* ``labels3d.npz``: the fitted faces (those with at least ``min_points`` visible points) in the image
  model frame of each 120x120 crop, read in place (``root`` points at the AFLW folder), with their AFLW
  group, so ``data.train_3d`` takes the folder like any other 3D set;
* ``wild2d.npz``: every kept crop (implausible fits too) as an in-the-wild face with its 18 points
  (``data.wild`` takes it);
* ``near_copies.json``: the crops left out, with the AFLW2000-3D crop each one matched.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dasl.builders.near_copies import MIN_INLIERS, NearCopyIndex
from dasl.data.aflw2000 import AFLW2000
from dasl.data.images import read_rgb
from dasl.data.labelled3d import write_label_file
from dasl.data.wild import FACES_FILE, Wild2D, aflw_chin, aflw_yaw
from dasl.fileio import bar_disabled, write_json
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_ROI, CROP_SIZE
from dasl.geometry.params import crop_to_image_params
from dasl.morphable.landmarks import AFLW_SCHEME18, CHIN_68
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import decompose
from dasl.paths import SharedData

#: the fit also starts from the mean face turned this far (degrees) each way and keeps the lowest cost
YAW_STARTS = (-70.0, 70.0)
#: a fit whose yaw is farther than this (degrees) from AFLW's own estimate is left out of the 3D labels
MAX_YAW_GAP = 45.0


def check_near_copies(
    paths: list[Path], index: NearCopyIndex, test_names: list[str], progress: bool, chunk: int = 1024
) -> dict[str, dict]:
    """The crops of ``paths`` that are near-copies of a test crop: name -> match and inliers."""
    flagged = {}
    for s in range(0, len(paths), chunk):
        part = paths[s : s + chunk]
        found = index.search(np.stack([read_rgb(p) for p in part]), progress=progress)
        for path, hit, inliers, match in zip(part, found.flagged, found.inliers, found.match, strict=True):
            if hit:
                flagged[path.name] = {"test_crop": test_names[match], "inliers": int(inliers)}
    return flagged


def aflw_targets(folder: Path, wild: Wild2D, chin: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fit's targets of every face of ``wild`` (crop frame, ``(N, K, 2)``), their visibility and the
    scheme ``(K, 68)``: the 18 points as AFLW defines them (:data:`AFLW_SCHEME18`), then (``chin``) AFLW's
    chin as the 68-point chin landmark."""
    if not chin:
        return wild.points18, wild.visible18, AFLW_SCHEME18
    chin_pts, chin_visible = aflw_chin(folder, [Path(p).name for p in wild.paths])
    chin_row = np.zeros((1, 68))
    chin_row[0, CHIN_68] = 1.0
    points = np.concatenate([wild.points18, chin_pts[:, None]], 1)
    visible = np.concatenate([wild.visible18, chin_visible[:, None]], 1)
    return points, visible, np.concatenate([AFLW_SCHEME18, chin_row])


def fit_aflw(
    folder: Path,
    out: Path,
    model: MorphableModel,
    shared: SharedData | None = None,
    prior: float = 2.0,
    min_points: int = 8,
    batch: int = 256,
    progress: bool = True,
    limit: int | None = None,
    chin: bool = False,
    max_yaw_gap: float = MAX_YAW_GAP,
) -> dict:
    """Fit, check and write (see the module docstring); ``limit``: only the first faces that can be fitted
    (and the crops up to them)."""
    started = time.perf_counter()
    wild = Wild2D.from_aflw(folder)
    if limit is not None:
        fittable = np.nonzero(wild.visible18.sum(1) >= min_points)[0][:limit]
        wild = wild.subset(np.arange(fittable[-1] + 1 if len(fittable) else 0))
    test = AFLW2000.load(shared or SharedData.find())
    index = NearCopyIndex(test.stored_crops(), progress=progress)
    flagged = check_near_copies(wild.paths, index, list(test.names), progress)
    wild = wild.subset(np.array([i for i, p in enumerate(wild.paths) if p.name not in flagged], dtype=np.int64))
    checked = time.perf_counter()

    keep = np.nonzero(wild.visible18.sum(1) >= min_points)[0]
    too_few = len(wild) - len(keep)
    fitter = LandmarkFitter(model, prior=prior, marching=False, yaw_starts=YAW_STARTS)
    points, visible, scheme = aflw_targets(folder, wild, chin)
    params, rms = [], []
    for s in tqdm(range(0, len(keep), batch), desc="fitting AFLW points", disable=bar_disabled(progress)):
        idx = keep[s : s + batch]
        result = fitter.fit(points[idx], visible[idx], scheme, image_height=CROP_SIZE)
        params.append(result.params)
        rms.append(result.rms)
    # the points are in the crop frame, so a fit for an "image" of height 120 (y_model = 121 - y) gives
    # parameters in the crop's model frame; the crop file's own image frame is that of the box CROP_ROI
    crop_params = np.concatenate(params)
    names = [wild.paths[i].name for i in keep]
    gap = np.abs(decompose(crop_params).angles[:, 0] - aflw_yaw(folder, names))
    plausible = gap <= max_yaw_gap
    keep, crop_params = keep[plausible], crop_params[plausible]
    box = np.tile(CROP_ROI, (len(crop_params), 1))
    image_params = crop_to_image_params(crop_params, box, CROP_SIZE)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    crops = Path(folder) / "crops"
    names = [wild.paths[i].name for i in keep]
    groups = [wild.groups[i] for i in keep]
    write_label_file(out, names, image_params, root=os.path.relpath(crops.resolve(), out.resolve()), groups=groups)
    wild.save(out / FACES_FILE)
    write_json(out / "near_copies.json", {"min_inliers": MIN_INLIERS, "left_out": flagged})
    return {
        "faces": len(keep),
        "wild": len(wild),
        "near_copies": len(flagged),
        "left_out": too_few,
        "implausible": int((~plausible).sum()),
        "seconds_check": checked - started,
        "seconds": time.perf_counter() - checked,
        "rms_px": float(np.mean(np.concatenate(rms)[plausible])),
    }
