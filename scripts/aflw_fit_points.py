"""Which of AFLW's annotated points the AFLW fits should use, measured on AFLW training crops (never
AFLW2000-3D): 3,000 crops fitted (``dasl.fitting.LandmarkFitter``, prior 2, no marching) to the 18 points
alone, with the chin, with the two ear lobes, with both; each fit's error at every annotated point group,
fitted or left out (NME % of the fit's 68-point box, mean by |yaw| bin). A point left out of a fit and still
well placed carries no information the others lack; one fitted closely without raising the others' error is
free to use.

The ear lobes are mesh vertices, not landmarks: the vertex whose projection lies nearest the annotated lobe
over 1,500 crops of the 18-point fits (``--search`` repeats that search; 20750 and 34378 came out).

    python scripts/aflw_fit_points.py [--search]
"""

import sys
import warnings

import numpy as np

from dasl.data.wild import aflw_crop_points
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, point_errors, summarize_by_yaw
from dasl.fitting import LandmarkFitter
from dasl.geometry.frames import CROP_SIZE, flip_y
from dasl.morphable.landmarks import AFLW21_TO_18, AFLW_CHIN, CHIN_68, SUBSET18
from dasl.morphable.model import load_bfm
from dasl.paths import SharedData

#: AFLW's left and right ear lobe (indices among its 21) and the mesh vertices found for them
AFLW_EARS, EAR_VERTICES = (12, 16), (20750, 34378)


def scheme(chin: bool, ears: bool) -> tuple[np.ndarray, list[int]]:
    """The fit's scheme over the 68 landmarks and the two ear vertices, and the AFLW points of its rows."""
    rows, order = [np.pad(SUBSET18, ((0, 0), (0, 2)))], list(AFLW21_TO_18)
    if chin:
        rows.append(np.eye(70)[[CHIN_68]])
        order.append(AFLW_CHIN)
    if ears:
        rows.append(np.eye(70)[[68, 69]])
        order += list(AFLW_EARS)
    return np.concatenate(rows), order


def by_bin(errors: np.ndarray, yaw: np.ndarray, seen: np.ndarray) -> str:
    """Mean of the ``seen`` errors in each of the benchmark's |yaw| bins."""
    bins = summarize_by_yaw(errors[seen], yaw[seen])
    return " / ".join(f"{bins[name]:.2f}" for name in YAW_BIN_NAMES)


def search(bfm, points, visible, fits, size, faces: int = 1500) -> None:
    """The mesh vertex nearest each ear lobe's annotation on average (a correspondence, on training crops)."""
    sub = np.random.default_rng(0).choice(len(fits), faces, replace=False)
    for k in AFLW_EARS:
        total, count = 0.0, 0
        for s in range(0, faces, 50):
            b = sub[s : s + 50]
            b = b[visible[b, k]]
            vertices = flip_y(bfm.vertices(fits[b]))[..., :2]
            total = total + (np.linalg.norm(vertices - points[b, k][:, None], axis=-1) / size[b, None]).sum(0)
            count += len(b)
        best = np.argsort(total / count)[:3]
        print(f"AFLW point {k}: nearest vertices {best.tolist()}, {100 * total[best] / count} %")


def test_labels_chin(shared: SharedData) -> None:
    """A property of AFLW2000-3D's labels, no model involved: their chin landmark against the chin point of
    AFLW's own annotations of the same photos (NME % of the labels' box)."""
    labels = np.load(shared.require("aflw2000_pts68"))[:, :2].transpose(0, 2, 1)
    people = np.load(shared.require("aflw2000_pts21")).transpose(0, 2, 1)
    yaw = np.abs(np.load(shared.require("aflw2000_yaw")))
    error = point_errors(labels[:, [CHIN_68]], people[:, [AFLW_CHIN]], box_size(labels))[:, 0]
    seen = (people[:, AFLW_CHIN] >= 0).all(-1)
    print(f"AFLW2000-3D's 68-point labels, chin against AFLW's chin point: {by_bin(error, yaw, seen)}")


def main(do_search: bool) -> None:
    warnings.filterwarnings("ignore", category=RuntimeWarning)
    shared = SharedData.find(None)
    bfm = load_bfm(shared)
    ann = np.load(shared.require("aflw_wild") / "annotations.npz")
    points, visible = aflw_crop_points(ann, np.arange(21))
    yaw = np.abs(ann["yaw_deg"])
    usable = np.nonzero(visible[:, AFLW21_TO_18].sum(1) >= 8)[0]
    sub = np.random.default_rng(1).choice(usable, 3000, replace=False)
    points, visible, yaw = points[sub], visible[sub], yaw[sub]
    print("AFLW training crops: 3,000; NME (%) 0-30 / 30-60 / 60-90")
    for chin, ears in ((False, False), (True, False), (False, True), (True, True)):
        a, order = scheme(chin, ears)
        fitter = LandmarkFitter(bfm, prior=2.0, marching=False, extra_vertices=EAR_VERTICES)
        fits = fitter.fit(points[:, order], visible[:, order], a, image_height=CROP_SIZE).params
        ids = np.concatenate([bfm.keypoints, EAR_VERTICES])
        placed = flip_y(bfm.subset(ids).vertices(fits))[..., :2]
        size = box_size(placed[:, :68])
        inner = SUBSET18 @ placed[:, :68]
        error18 = point_errors(inner, points[:, AFLW21_TO_18], size)
        seen18 = visible[:, AFLW21_TO_18]
        mean18 = np.nansum(np.where(seen18, error18, 0), 1) / np.maximum(seen18.sum(1), 1)
        parts = [f"18 points {by_bin(mean18, yaw, seen18.any(1))}"]
        for name, k, column in (("chin", AFLW_CHIN, CHIN_68), ("left ear", 12, 68), ("right ear", 16, 69)):
            error = point_errors(placed[:, [column]], points[:, [k]], size)[:, 0]
            parts.append(f"{name} {by_bin(error, yaw, visible[:, k])}")
        print(f"  fitted: 18{' + chin' * chin}{' + ears' * ears}: " + "; ".join(parts))
        if do_search and not (chin or ears):
            search(bfm, points, visible, fits, size)
    test_labels_chin(shared)


if __name__ == "__main__":
    main("--search" in sys.argv[1:])
