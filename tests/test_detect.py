"""detect/: the registry, the cascade, resizing photos for detection and mapping boxes back."""

import numpy as np
import pytest

from dasl.detect import (
    CASCADES,
    DETECTOR_NAMES,
    ROI_CALIBRATION,
    CascadeDetector,
    Detections,
    FaceDetector,
    boxes_to_rois,
    calibration,
    find_faces,
    make_detector,
)
from dasl.errors import OptionError


class _Fixed(FaceDetector):
    """Finds one face at a fixed box of the image it is given (in that image's pixels)."""

    def __init__(self, name, box):
        self.name, self.box, self.seen = name, box, []

    def detect(self, image):
        self.seen.append(image.shape)
        boxes = np.array([[*self.box, 0.9]]) if self.box is not None else np.zeros((0, 5))
        return Detections(boxes, self.name, ROI_CALIBRATION["dlib-hog"])


def test_photos_are_resized_for_detection_and_boxes_mapped_back():
    """A 320x240 photo is detected at 640x480: a box of pixels 100..199 there is pixels 49.75..99.25 of
    the photo (pixel edges scale: 2x + 0.5)."""
    detector = _Fixed("fixed", (100.0, 40.0, 199.0, 139.0))
    found = find_faces(detector, np.zeros((240, 320, 3), np.uint8))
    assert detector.seen == [(480, 640, 3)]
    np.testing.assert_allclose(found.boxes[0, :4], [49.75, 19.75, 99.25, 69.25])
    assert found.boxes[0, 4] == 0.9
    same = find_faces(detector, np.zeros((700, 900, 3), np.uint8))  # within bounds: not resized
    np.testing.assert_allclose(same.boxes[0, :4], detector.box)


def test_cascade_keeps_the_finders_name_and_calibration_and_builds_a_detector_only_when_needed():
    parts = {"first": _Fixed("first", None), "second": _Fixed("second", (1.0, 2.0, 3.0, 4.0))}
    built = []

    def make(name):
        built.append(name)
        return parts[name]

    found = CascadeDetector("both", ["first", "second"], make).detect(np.zeros((10, 10, 3), np.uint8))
    assert found.detector == "second" and len(found) == 1
    nothing = CascadeDetector("none", ["first"], make).detect(np.zeros((10, 10, 3), np.uint8))
    assert len(nothing) == 0
    parts["first"] = _Fixed("first", (1.0, 2.0, 3.0, 4.0))
    early = CascadeDetector("early", ["first", "second"], make)
    assert early.detect(np.zeros((10, 10, 3), np.uint8)).detector == "first"
    assert built == ["first", "second", "first", "first"]  # "early" never built its second detector


def test_unknown_detector_names_are_errors():
    for call in (
        lambda: make_detector("haar"),
        lambda: calibration("haar"),
        lambda: boxes_to_rois(np.ones((1, 4)), "x"),
    ):
        with pytest.raises(OptionError, match="unknown detector"):
            call()
    assert set(DETECTOR_NAMES) == set(CASCADES) | set(ROI_CALIBRATION)
    assert calibration("dlib") == ROI_CALIBRATION[CASCADES["dlib"][0]]


def test_detections_rois_use_the_image_frame():
    """The ROI of a box in 0-based pixels is the calibrated ROI of the same box in the image frame."""
    box = np.array([[99.0, 99.0, 199.0, 199.0, 1.0]])
    found = Detections(box, "dlib-mmod", ROI_CALIBRATION["dlib-mmod"])
    np.testing.assert_array_equal(found.rois(), boxes_to_rois(box[:, :4] + 1.0, "dlib-mmod"))


def test_dlib_cascade_finds_a_face_in_a_sample_photo(shared):
    from dasl.data.images import read_rgb

    found = find_faces(make_detector("dlib"), read_rgb(shared.path("samples") / "trump_hillary.jpg"))
    assert len(found) == 2 and found.detector == "dlib-hog"
