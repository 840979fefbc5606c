"""A face detector's box -> crop ROI calibration (:class:`dasl.detect.base.RoiCalibration`), measured on
the HELEN/AFW landmarked photos (training data, never AFLW2000-3D): for every photo whose annotated face
the detector finds (:func:`dasl.eval.detection.found`), the ROI of the annotation
(:func:`~dasl.geometry.crop.roi_from_landmarks`) against the box: its side over the box's mean side
(``scale``) and its centre's offset in box sides (``dx``, ``dy``); the medians are the calibration.

    python scripts/detector_calibration.py blazeface        # about a minute for 1,207 photos
"""

import sys

import numpy as np
from tqdm import tqdm

from dasl.data.images import read_rgb
from dasl.data.landmark_io import read_pts
from dasl.detect import find_faces, make_detector
from dasl.eval.detection import found
from dasl.geometry.crop import roi_from_landmarks
from dasl.geometry.frames import boxes_pixels_to_image
from dasl.paths import SharedData


def main(name: str) -> None:
    shared = SharedData.find(None)
    photos = sorted(shared.path("helen_afw").glob("*/*.jpg"))
    detector = make_detector(name)
    rows, missed = [], 0
    for path in tqdm(photos, disable=not sys.stderr.isatty()):
        points = read_pts(path.with_suffix(".pts"))
        boxes = boxes_pixels_to_image(find_faces(detector, read_rgb(path)).boxes[:, :4])
        hits = [b for b in boxes if found(b[None], points)]
        if not hits:
            missed += 1
            continue
        b = hits[0]
        roi = roi_from_landmarks(points[None])[0]
        side = ((b[2] - b[0]) + (b[3] - b[1])) / 2
        rows.append(
            [
                (roi[2] - roi[0]) / side,
                ((roi[0] + roi[2]) - (b[0] + b[2])) / 2 / side,
                ((roi[1] + roi[3]) - (b[1] + b[3])) / 2 / side,
            ]
        )
    scale, dx, dy = np.median(np.array(rows), 0)
    print(
        f"{name}: found {len(rows)} of {len(photos)} HELEN/AFW faces ({missed} missed); "
        f"RoiCalibration({scale:.3f}, {dx:.3f}, {dy:.3f})"
    )


if __name__ == "__main__":
    main(sys.argv[1])
