"""Keeping the test set out of training: which training crops are near-copies of an AFLW2000-3D crop.

A near-copy is the same photo (or the same person in the same shoot) cut again, perhaps mirrored,
shifted, rescaled or recompressed. Two stages, both against every AFLW2000-3D benchmark crop and its
mirror image:

1. **candidates**: a 24x24 high-passed grey thumbnail of the crop, compared by normalised correlation with
   every reference thumbnail shifted by up to 2 thumbnail pixels (10 crop pixels); the 3 best references;
2. **verification**: SIFT keypoints (on the crop at twice its size) matched to each candidate's (Lowe's
   ratio 0.75) and a similarity transform fitted by RANSAC (4 px); the crop is a near-copy when at least
   :data:`MIN_INLIERS` matches agree.

Calibration (``docs/data.md``): AFLW2000-3D crops cut again from their photos with the box moved and
scaled by up to 3% of its side and saved as JPEG quality 60 give 20 or more inliers (median 80, 99% at 22
or more); pairs of different people give a median of 3 (99% below 15). Among the first 2,000 crops of
``aflw-wild`` the check found 5 crops of an AFLW2000-3D person in the same shoot (45 to 124 inliers) and
one false match (55); false matches only cost a training image.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from tqdm import tqdm

from dasl.fileio import bar_disabled

#: RANSAC-consistent SIFT matches from which a crop counts as a near-copy
MIN_INLIERS = 30
_THUMB, _SHIFT, _CANDIDATES = 24, 2, 3


def _thumbnail(crop: np.ndarray) -> np.ndarray:
    grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY).astype(np.float32)
    small = cv2.resize(grey, (_THUMB, _THUMB), interpolation=cv2.INTER_AREA)
    return small - cv2.GaussianBlur(small, (0, 0), 2.0)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    v = vectors - vectors.mean(-1, keepdims=True)
    return (v / (np.linalg.norm(v, axis=-1, keepdims=True) + 1e-6)).astype(np.float32)


@dataclass
class NearCopies:
    """Per query crop: the best verified match's ``inliers``, the index of that reference crop ``match``
    (into the reference list), and ``flagged`` (``inliers >= MIN_INLIERS``)."""

    inliers: np.ndarray
    match: np.ndarray

    @property
    def flagged(self) -> np.ndarray:
        return self.inliers >= MIN_INLIERS


class NearCopyIndex:
    """The reference crops (AFLW2000-3D's), ready to be searched."""

    def __init__(self, references: np.ndarray, progress: bool = True) -> None:
        self._sift = cv2.SIFT_create()
        self._matcher = cv2.BFMatcher()
        both = [references, np.ascontiguousarray(references[:, :, ::-1])]
        shifted = []
        for crops in both:
            for crop in crops:
                padded = np.pad(_thumbnail(crop), _SHIFT, mode="edge")
                span = range(2 * _SHIFT + 1)
                shifted.append([padded[y : y + _THUMB, x : x + _THUMB].ravel() for y in span for x in span])
        n = len(references)
        # (2 n, shifts, D): the references and their mirrors, every shift
        grid = _normalised(np.asarray(shifted, np.float32))
        self._grid = grid.reshape(2, n, -1, _THUMB * _THUMB).transpose(1, 0, 2, 3).reshape(n, -1, _THUMB * _THUMB)
        self._keys = [
            [self._keypoints(c) for c in crops]
            for crops in tqdm(both, desc="near-copy index", disable=bar_disabled(progress), leave=False)
        ]
        self.size = n

    def _keypoints(self, crop: np.ndarray):
        grey = cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2GRAY)
        return self._sift.detectAndCompute(cv2.resize(grey, (240, 240), interpolation=cv2.INTER_CUBIC), None)

    def _inliers(self, a, b) -> int:
        (k1, d1), (k2, d2) = a, b
        if d1 is None or d2 is None or len(k1) < 2 or len(k2) < 2:
            return 0
        pairs = self._matcher.knnMatch(d1, d2, k=2)
        good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < 0.75 * p[1].distance]
        if len(good) < 3:
            return len(good)
        src = np.float32([k1[g.queryIdx].pt for g in good])
        dst = np.float32([k2[g.trainIdx].pt for g in good])
        _, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
        return int(mask.sum()) if mask is not None else 0

    def search(self, crops: np.ndarray, progress: bool = True, chunk: int = 256) -> NearCopies:
        """Near-copy evidence for RGB uint8 crops ``(N, 120, 120, 3)`` (3DDFA crop protocol)."""
        inliers, match = np.zeros(len(crops), np.int64), np.full(len(crops), -1, np.int64)
        flat = self._grid.reshape(-1, _THUMB * _THUMB)
        for s in tqdm(range(0, len(crops), chunk), desc="near-copy check", disable=bar_disabled(progress), leave=False):
            part = crops[s : s + chunk]
            queries = _normalised(np.stack([_thumbnail(c).ravel() for c in part]))
            scores = (queries @ flat.T).reshape(len(part), self.size, -1).max(-1)
            for row, (crop, order) in enumerate(zip(part, np.argsort(-scores, 1)[:, :_CANDIDATES], strict=True)):
                keys = self._keypoints(crop)
                for j in order:
                    found = max(self._inliers(keys, self._keys[0][j]), self._inliers(keys, self._keys[1][j]))
                    if found > inliers[s + row]:
                        inliers[s + row], match[s + row] = found, j
        return NearCopies(inliers, match)
