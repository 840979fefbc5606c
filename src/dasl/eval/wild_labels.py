"""How good a landmark file is: its error against AFLW's own annotated points (``dasl data label-wild``
reports it for AFLW folders)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dasl.data.wild import Wild2D
from dasl.eval.metrics import nme, summarize_by_yaw
from dasl.geometry.crop import LANDMARK_ROI_EXPAND
from dasl.geometry.frames import CROP_ROI, CROP_SIZE, image_to_crop
from dasl.morphable.landmarks import to_subset18

#: side of the face's landmark box in a 3DDFA-protocol crop, in crop pixels (the landmark ROI rule's inverse)
CROP_FACE_SIDE = CROP_SIZE / LANDMARK_ROI_EXPAND


def aflw_agreement(label_file: Path, aflw_folder: Path) -> dict:
    """Error of a landmark file against AFLW's own visible points, on 2DASL's 18 landmarks.

    NME (%) = mean distance over the visible points / :data:`CROP_FACE_SIDE` (the size the 3DDFA crop
    protocol gives the face), by |yaw| bin of ``yaw_deg``.
    """
    aflw = Wild2D.from_aflw(aflw_folder)
    ann = np.load(Path(aflw_folder) / "annotations.npz")
    labels = np.load(label_file)
    position = {Path(p).name: i for i, p in enumerate(aflw.paths)}
    rows = [position.get(Path(str(n)).name) for n in labels["names"]]
    keep = np.array([r is not None for r in rows]) & labels["visible"][:, 0]
    idx = np.array([r for r, k in zip(rows, keep, strict=True) if k], dtype=int)
    # the files hold each 120x120 crop's image frame
    pred = to_subset18(image_to_crop(labels["points"][keep].astype(np.float64), CROP_ROI))
    errors = nme(pred, aflw.points18[idx], CROP_FACE_SIDE, visible=aflw.visible18[idx])
    summary = summarize_by_yaw(errors, ann["yaw_deg"][idx])
    summary["found"] = int(keep.sum())
    summary["images"] = len(rows)
    summary["median"] = float(np.median(errors))
    return summary
