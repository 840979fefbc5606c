"""dlib's 68-point shape predictor (Kazemi & Sullivan 2014) as a landmark source on crops: the face box
of each crop from dlib's detector cascade (HOG, then MMOD), else where a face sits in a 3DDFA-protocol
crop (:data:`CROP_FACE_BOX`). dlib gives no certainty (spreads are zero)."""

from __future__ import annotations

import numpy as np

from dasl.detect import Detections, make_detector
from dasl.detect.dlib_models import DlibLandmarker
from dasl.geometry.frames import CROP_ROI, boxes_image_to_pixels, image_to_crop, pixels_to_image
from dasl.landmarkers.base import Landmarker, LandmarkEstimate

#: where a face sits in a 120x120 3DDFA-protocol crop, as dlib's HOG detector boxes it (image frame of
#: the crop; mean over the 163 of 200 in-the-wild AFLW crops where HOG finds the face)
CROP_FACE_BOX = np.array([18.6, 10.9, 103.4, 95.0])


class DlibCropLandmarker(Landmarker):
    """dlib's 68 points on each crop (see the module docstring)."""

    name = "dlib"

    def __init__(self) -> None:
        self.detector = make_detector("dlib")
        self.predictor = DlibLandmarker()

    def photo_landmarks(
        self, image: np.ndarray, fallback_box: np.ndarray | None = None
    ) -> tuple[np.ndarray, Detections]:
        """The best face's 68 points in ``image`` (image frame) and the detector's faces (best first); with no
        face found, the predictor on ``fallback_box`` (image frame) if given, else zeros."""
        found = self.detector.detect(image)
        if len(found):
            return pixels_to_image(self.predictor.landmarks(image, found.boxes[:1, :4])[0]), found
        if fallback_box is None:
            return np.zeros((68, 2)), found
        box = boxes_image_to_pixels(np.asarray(fallback_box)[None])
        return pixels_to_image(self.predictor.landmarks(image, box)[0]), found

    def locate(self, crops: np.ndarray) -> LandmarkEstimate:
        points = [self.photo_landmarks(np.ascontiguousarray(c), CROP_FACE_BOX)[0] for c in crops]
        if not points:
            return LandmarkEstimate.empty()
        return LandmarkEstimate.given(image_to_crop(np.stack(points), CROP_ROI))
