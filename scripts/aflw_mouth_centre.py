"""Where AFLW's mouth centre is on the 3DMM, and what reading it wrongly does to the AFLW fits
(docs/data.md, "AFLW's mouth centre").

1. AFLW2000-3D's own 68-point labels against the AFLW points of the same photos: which 68-point combination
   AFLW's mouth centre agrees with, by yaw bin (a property of the labels; no model involved).
2. The fit of 2,139 AFLW crops (the 1,539 that AFLW's own pose estimate calls turned 60 degrees or more,
   600 others drawn with seed 0; chin fitted): residual and how many profiles end with a yaw far
   from AFLW's, for each reading of the mouth centre, and with the fit also started from turned faces.

    python scripts/aflw_mouth_centre.py        # about 2 min on 2 cores
"""

import time

import numpy as np

from dasl.builders.fit_aflw import aflw_targets
from dasl.data.aflw2000 import AFLW2000
from dasl.data.wild import Wild2D, aflw_yaw
from dasl.eval.metrics import YAW_BIN_NAMES, box_size, point_errors, summarize_by_yaw
from dasl.fitting import LandmarkFitter
from dasl.morphable.landmarks import NAMES18
from dasl.morphable.model import load_bfm
from dasl.morphable.pose import decompose
from dasl.paths import SharedData

READINGS = {
    "corners' midpoint (48, 54)": [48, 54],
    "inner lips' middle (62, 66)": [62, 66],
    "outer lips' middle (51, 57)": [51, 57],
    "both lips' middles": [51, 57, 62, 66],
}
MOUTH = NAMES18.index("mouth centre")


def labels_table(shared: SharedData) -> None:
    data = AFLW2000.load(shared)
    points, visible = data.human_points
    seen = visible[:, MOUTH]
    size = box_size(data.landmarks_2d)
    print(f"AFLW2000-3D labels against AFLW's mouth centre, NME %, {', '.join(YAW_BIN_NAMES)}:")
    for name, ids in READINGS.items():
        e = point_errors(data.landmarks_2d[:, ids].mean(1)[:, None], points[:, [MOUTH]], size)[:, 0]
        bins = summarize_by_yaw(e[seen], data.yaw[seen])
        print(f"  {name:32s} " + " / ".join(f"{bins[b]:.2f}" for b in YAW_BIN_NAMES))


def fits_table(shared: SharedData) -> None:
    bfm = load_bfm(shared)
    folder = shared.require("aflw_wild")
    wild = Wild2D.from_aflw(folder)
    yaw = aflw_yaw(folder, [p.name for p in wild.paths])
    fittable = np.nonzero(wild.visible18.sum(1) >= 8)[0]
    rng = np.random.default_rng(0)
    turned = np.abs(yaw[fittable]) >= 60
    keep = np.sort(np.concatenate([fittable[turned], rng.choice(fittable[~turned], 600, replace=False)]))
    points, visible, scheme = aflw_targets(folder, wild, chin=True)
    profile = np.abs(yaw[keep]) >= 60
    print(f"fits of {len(keep)} AFLW crops ({profile.sum()} turned 60 degrees or more by AFLW's estimate):")
    runs = [(name, ids, ()) for name, ids in READINGS.items()]
    runs.append(("inner lips' middle, yaw starts -70, 70", READINGS["inner lips' middle (62, 66)"], (-70.0, 70.0)))
    for name, ids, starts in runs:
        reading = scheme.copy()
        reading[MOUTH] = 0.0
        reading[MOUTH, ids] = 1.0 / len(ids)
        fitter = LandmarkFitter(bfm, prior=2.0, marching=False, yaw_starts=starts)
        started = time.perf_counter()
        params, rms = [], []
        for s in range(0, len(keep), 256):
            i = keep[s : s + 256]
            result = fitter.fit(points[i], visible[i], reading, image_height=120)
            params.append(result.params)
            rms.append(result.rms)
        params, rms = np.concatenate(params), np.concatenate(rms)
        gap = np.abs(decompose(params).angles[:, 0] - yaw[keep])[profile]
        over = " / ".join(str(int((gap > t).sum())) for t in (20, 30, 45))
        seconds = time.perf_counter() - started
        print(
            f"  {name:40s} residual {rms.mean():.2f} / {rms[profile].mean():.2f} px (all / profiles); profiles "
            f"with yaw gap > 20 / 30 / 45: {over}; median gap {np.median(gap):.1f} ({seconds:.0f} s)"
        )


def main() -> None:
    data = SharedData.find(None)
    labels_table(data)
    fits_table(data)


if __name__ == "__main__":
    main()
