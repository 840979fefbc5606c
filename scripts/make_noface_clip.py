"""Write the clip of issue 27's video check: 90 frames of smooth moving background without a face, then the
sample face (JianzhuGuo.jpg, 150 px) for 60 frames, 640x480 at 30 frames/s, MJPG in an .avi.

    python scripts/make_noface_clip.py /tmp/noface.avi && time dasl reconstruct /tmp/noface.avi --outputs json
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

from dasl.api import Reconstructor
from dasl.data.images import read_rgb
from dasl.eval.video import make_scene_clip
from dasl.paths import SharedData


def main(out: str) -> None:
    shared = SharedData.find(None)
    photo = read_rgb(shared.path("samples") / "JianzhuGuo.jpg")
    marks = Reconstructor(shared=shared).reconstruct(photo)[0].landmarks_2d
    centre, side = (marks.min(0) + marks.max(0)) / 2, float(np.ptp(marks, axis=0).max())
    path = np.array([[np.nan, np.nan]] * 90 + [[320.0, 240.0]] * 60)
    clip = make_scene_clip(photo, centre, side, path)
    frames = list(clip.frames)
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"MJPG"), 30, (frames[0].shape[1], frames[0].shape[0]))
    for frame in frames:
        writer.write(np.ascontiguousarray(frame[:, :, ::-1]))
    writer.release()
    print(f"wrote {Path(out)} ({len(frames)} frames, the face from frame 90)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "noface.avi")
