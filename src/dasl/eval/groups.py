"""Group pictures composed from held-out training faces: how many faces the whole photo pipeline finds, and
how well it reconstructs them against the same faces given as ready crops (never AFLW2000-3D).

**The pictures** (:func:`compose`, deterministic for a seed): a canvas of ``size`` pixels with a smooth
random background; ``per_picture`` faces, each a square cut of its photo around the face (side 1.6 times
its landmark box's larger side, black beyond the photo), scaled so that the face's landmark box is a
width drawn log-uniformly from ``widths`` pixels, turned by 90, 180 or 270 degrees for a share ``turned``
of the faces, pasted where it overlaps no other face's square, its edges blended into the background over
an eighth of its side. Ground truth: the faces' 68 landmarks (their 3D labels' projection) carried along
exactly (:mod:`dasl.geometry.turns` for the turn).

**The faces**: the validation split (``dasl train``'s :func:`~dasl.data.labelled3d.split_groups`, 5% of
the groups) of 3D-labelled training folders, photos only (HELEN/AFW's fitted photos, view ``_0``; AFLW's
real crops), never their rendered profiles.

**Scoring** (:func:`score`): a face counts as found when a returned face's box finds it as
:func:`dasl.eval.detection.found` says; its NME (68 points, % of the square root of its landmark box's
area) is that of the returned face whose landmarks are nearest. The same faces' crops (the landmark ROI
rule on their photos, 120x120) through the same stages give the reference NME.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from dasl.data.images import read_rgb
from dasl.data.labelled3d import Labelled3D, split_groups
from dasl.eval.detection import found
from dasl.eval.metrics import box_size, nme
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import crop_landmarks, image_landmarks, image_to_pixels
from dasl.geometry.params import image_to_crop_params
from dasl.geometry.turns import turn_image, turn_points
from dasl.morphable.model import MorphableModel

#: side of the square cut around a face, in landmark-box sides
CUT = 1.6


@dataclass
class HeldoutFace:
    """One face: its photo (RGB), its 68 landmarks in the photo's 0-based pixels, its 120x120 crop (the
    landmark ROI rule) and those landmarks in the crop frame."""

    name: str
    photo: np.ndarray
    landmarks: np.ndarray
    crop: np.ndarray
    crop_landmarks: np.ndarray


def heldout_photos(folder: Path, model: MorphableModel, val_fraction: float = 0.05) -> list[HeldoutFace]:
    """The held-out faces of a 3D-labelled folder, photos only (not ``_1`` ... ``_8`` rendered views)."""
    data = Labelled3D.from_folder(folder, model, progress=False)
    _, val = split_groups(data.groups, val_fraction)
    faces = []
    for i in val:
        path = data.paths[i]
        if re.search(r"_[1-9]$", path.stem):  # a rendered view of a fitted photo (``dasl data build-3d``)
            continue
        photo = read_rgb(path)
        params = data.params[i : i + 1]
        marks = image_landmarks(model, params, photo.shape[0])[..., :2]
        roi = roi_from_landmarks(marks)
        crop_params = image_to_crop_params(params, roi, photo.shape[0])
        faces.append(
            HeldoutFace(
                f"{Path(folder).name}/{path.name}",
                photo,
                image_to_pixels(marks)[0],
                crop_image(photo, roi[0]),
                crop_landmarks(model, crop_params)[0, :, :2],
            )
        )
    return faces


@dataclass
class Picture:
    image: np.ndarray
    faces: list[int]  # indices into the face list
    landmarks: list[np.ndarray]  # (68, 2) 0-based pixels of the picture
    turns: list[int]
    widths: list[float]


def _background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    w, h = size
    grid = (max(2, h // 48), max(2, w // 48))
    coarse = rng.uniform(40, 215, (*grid, 1)) + rng.uniform(-30, 30, (*grid, 3))  # greys, a little colour
    coarse = coarse.astype(np.float32)
    smooth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.normal(0, 6, (h, w, 3)).astype(np.float32)
    return np.clip(smooth + fine, 0, 255).astype(np.uint8)


def _cut(face: HeldoutFace, width: float) -> tuple[np.ndarray, np.ndarray]:
    """The face's square cut scaled so that its landmark box is ``width`` wide: the patch and the
    landmarks in the patch's 0-based pixels."""
    lo, hi = face.landmarks.min(0), face.landmarks.max(0)
    side = CUT * (hi - lo).max()
    scale = width / (hi[0] - lo[0])
    out = max(8, int(round(side * scale)))
    centre = (lo + hi) / 2
    # patch pixel q <- photo pixel p: q = (p - (centre - side / 2)) * out / side (pixel centres, OpenCV's map)
    s = out / side
    offset = 0.5 * s - 0.5 - (centre - side / 2) * s
    m = np.array([[s, 0, offset[0]], [0, s, offset[1]]])
    if s < 1:  # shrinking: blur first, as an area average would (warpAffine has no area mode)
        blurred = cv2.GaussianBlur(face.photo, (0, 0), sigmaX=0.5 / s)
        patch = cv2.warpAffine(blurred, m, (out, out), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    else:
        patch = cv2.warpAffine(face.photo, m, (out, out), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    marks = face.landmarks @ m[:, :2].T + m[:, 2]
    return patch, marks


def compose(
    faces: list[HeldoutFace],
    seed: int = 0,
    size: tuple[int, int] = (1024, 768),
    per_picture: tuple[int, int] = (4, 6),
    widths: tuple[float, float] = (40.0, 260.0),
    turned: float = 0.25,
) -> list[Picture]:
    """Pictures holding every face once (see the module docstring)."""
    rng = np.random.default_rng(seed)
    order = list(rng.permutation(len(faces)))
    pictures = []
    w, h = size
    while order:
        canvas = _background(rng, size).astype(np.float32)
        taken: list[tuple[float, float, float]] = []  # squares placed: x, y, side
        picture = Picture(canvas, [], [], [], [])
        for _ in range(int(rng.integers(per_picture[0], per_picture[1] + 1))):
            if not order:
                break
            index = order[-1]
            width = float(np.exp(rng.uniform(*np.log(widths))))
            patch, marks = _cut(faces[index], width)
            k = int(rng.integers(1, 4)) if rng.uniform() < turned else 0
            side = patch.shape[0]
            if side >= min(w, h):
                continue
            spot = None
            for _ in range(200):
                x, y = rng.uniform(0, w - side), rng.uniform(0, h - side)
                if all(x + side <= a or a + s <= x or y + side <= b or b + s <= y for a, b, s in taken):
                    spot = (x, y)
                    break
            if spot is None:
                continue
            order.pop()
            x0, y0 = int(spot[0]), int(spot[1])
            patch = turn_image(patch, k).astype(np.float32)
            marks = turn_points(marks, k, side, side) + [x0, y0]
            ramp = np.minimum(1.0, np.minimum(np.arange(side) + 0.5, side - 0.5 - np.arange(side)) / (side / 8))
            alpha = np.minimum(ramp[:, None], ramp[None, :])[..., None]
            region = canvas[y0 : y0 + side, x0 : x0 + side]
            canvas[y0 : y0 + side, x0 : x0 + side] = alpha * patch + (1 - alpha) * region
            taken.append((x0, y0, side))
            picture.faces.append(index)
            picture.landmarks.append(marks)
            picture.turns.append(k)
            picture.widths.append(width)
        picture.image = np.clip(np.rint(canvas), 0, 255).astype(np.uint8)
        if picture.faces:
            pictures.append(picture)
    return pictures


@dataclass
class GroupReport:
    """Per face: found (0/1), its NME in the picture (NaN where not found) and as a crop, its width and
    turn; per picture the seconds and the returned faces that found no face (false boxes)."""

    found: np.ndarray
    nme: np.ndarray
    crop_nme: np.ndarray
    widths: np.ndarray
    turns: np.ndarray
    seconds: list[float] = field(default_factory=list)
    false_boxes: int = 0

    def summary(self) -> dict:
        hit = self.found.astype(bool)
        small = self.widths < 80
        return {
            "faces": int(len(hit)),
            "pictures": len(self.seconds),
            "found_%": 100 * float(hit.mean()),
            "found_upright_%": 100 * float(hit[self.turns == 0].mean()),
            "found_turned_%": 100 * float(hit[self.turns != 0].mean()) if (self.turns != 0).any() else float("nan"),
            "found_small_%": 100 * float(hit[small].mean()) if small.any() else float("nan"),
            "nme_found": float(np.nanmean(self.nme)),
            "crop_nme_found": float(self.crop_nme[hit].mean()),
            "crop_nme_all": float(self.crop_nme.mean()),
            "false_boxes": self.false_boxes,
            "ms_per_picture": 1000 * float(np.mean(self.seconds)),
        }


def score(rec, faces: list[HeldoutFace], pictures: list[Picture]) -> GroupReport:
    """Every picture through ``rec`` (a :class:`dasl.Reconstructor`), every face's crop through its stages."""
    n = sum(len(p.faces) for p in pictures)
    report = GroupReport(np.zeros(n), np.full(n, np.nan), np.zeros(n), np.zeros(n), np.zeros(n, dtype=int))
    crops = np.stack([f.crop for f in faces])
    truth = np.stack([f.crop_landmarks for f in faces])
    crop_errors = nme(crop_landmarks(rec.stages.morphable, rec.stages.predict(crops))[..., :2], truth, box_size(truth))
    row = 0
    for picture in pictures:
        started = time.perf_counter()
        result = rec.reconstruct(picture.image)
        report.seconds.append(time.perf_counter() - started)
        boxes = np.array([f.box for f in result]).reshape(-1, 4)
        used = np.zeros(len(result), dtype=bool)
        placed = zip(picture.faces, picture.landmarks, picture.turns, picture.widths, strict=True)
        for index, marks, turn, width in placed:
            report.widths[row], report.turns[row], report.crop_nme[row] = width, turn, crop_errors[index]
            hits = [j for j in range(len(result)) if found(boxes[j : j + 1], marks)]
            if hits:
                errors = [float(nme(result[j].landmarks_2d[None], marks[None], box_size(marks[None]))[0]) for j in hits]
                best = hits[int(np.argmin(errors))]
                used[best] = True
                report.found[row], report.nme[row] = 1, min(errors)
            row += 1
        report.false_boxes += int((~used).sum())
    return report
