"""Labelling in-the-wild images with 68 landmarks from an off-the-shelf detector (``dasl data label-wild``).

Each image gets the best face of the detector cascade ``dlib`` (:mod:`dasl.detect`: HOG first, the MMOD
CNN detector when HOG finds nothing), at the image's own size, and dlib's 68-point shape predictor on it.
The result is one landmark file per dataset (:data:`~dasl.data.wild.LANDMARK_FILE` layout):

* ``root``: the images' folder, relative to the file's folder when possible;
* ``names`` ``(N,)``: image paths relative to ``root``;
* ``points`` ``(N, 68, 2)``: landmarks in each image's frame (1-based pixels);
* ``visible`` ``(N, 68)``: False for every point of an image where no face was found;
* ``detector`` ``(N,)``: which detector found the face (``hog``, ``mmod``, or empty), ``score`` ``(N,)``;
* ``sizes`` ``(N, 2)``: each image's height and width (120x120 images are used as ready crops).

Work is saved every ``chunk`` images in a partial file beside the output, so an interrupted run resumes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dasl.data.images import IMAGE_SUFFIXES, read_rgb
from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path, bar_disabled
from dasl.landmarkers.dlib68 import DlibCropLandmarker


def find_images(folder: Path) -> tuple[Path, list[str]]:
    """The image root and the sorted relative paths of the images under ``folder`` (an AFLW-style folder
    with ``crops/`` uses that)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(folder, "image folder")
    root = folder / "crops" if (folder / "crops").is_dir() else folder
    names = sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not names:
        raise BadInputError(folder, "no images found")
    return root, names


@dataclass
class LabelResult:
    points: np.ndarray  # (68, 2) image frame
    found: bool
    detector: str  # the cascade's part that found the face: "hog", "mmod", or "" for none
    score: float
    size: tuple[int, int] = (0, 0)


class CascadeLabeller:
    """dlib's cascade and 68-point predictor on whole images (:class:`dasl.landmarkers.dlib68.DlibCropLandmarker`)."""

    def __init__(self) -> None:
        self.source = DlibCropLandmarker()

    def label(self, image: np.ndarray, fallback_box: np.ndarray | None = None) -> LabelResult:
        """The best face's 68 points (image frame); with no face found, the predictor on ``fallback_box``
        (image frame) if given (``found`` stays False)."""
        points, found = self.source.photo_landmarks(image, fallback_box)
        if len(found):
            kind = found.detector.removeprefix("dlib-")
            return LabelResult(points, True, kind, float(found.boxes[0, 4]), image.shape[:2])
        return LabelResult(points, False, "", 0.0, image.shape[:2])


def _save(path: Path, root: Path, names, points, found, detectors, scores, sizes) -> None:
    try:
        root_text = os.path.relpath(Path(root).resolve(), path.parent.resolve())
    except ValueError:  # another drive
        root_text = str(root)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                root=np.array(root_text),
                names=np.array(names),
                points=np.asarray(points, dtype=np.float32),
                visible=np.repeat(np.asarray(found, dtype=bool)[:, None], 68, 1),
                detector=np.array(detectors),
                score=np.asarray(scores, dtype=np.float32),
                sizes=np.asarray(sizes, dtype=np.int64).reshape(-1, 2),
            )


def label_wild(folder: Path, out: Path, chunk: int = 500, progress: bool = True) -> Path:
    """Label every image under ``folder`` into ``out`` (resumable)."""
    root, names = find_images(folder)
    out = Path(out)
    partial = out.with_name(out.name + ".partial.npz")
    points, found, detectors, scores, sizes = [], [], [], [], []
    if partial.is_file():
        done = np.load(partial)
        if list(done["names"]) == names[: len(done["names"])]:
            points, found = list(done["points"]), list(done["visible"][:, 0])
            detectors, scores, sizes = list(done["detector"]), list(done["score"]), list(done["sizes"])
    labeller = CascadeLabeller()
    for i in tqdm(
        range(len(points), len(names)),
        initial=len(points),
        total=len(names),
        disable=bar_disabled(progress),
        desc="labelling",
    ):
        result = labeller.label(read_rgb(root / names[i]))
        points.append(result.points)
        found.append(result.found)
        detectors.append(result.detector)
        scores.append(result.score)
        sizes.append(result.size)
        if (i + 1) % chunk == 0:
            _save(partial, root, names[: i + 1], points, found, detectors, scores, sizes)
    _save(out, root, names, points, found, detectors, scores, sizes)
    if partial.is_file():
        partial.unlink()
    return out
