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


def test_mtcnn_finds_the_sample_faces_with_their_keypoints(shared):
    """Both faces of the two-face photo, sure (O-Net's probability), each box about its face, and the five
    keypoints in their order: the image's left eye left of the other, both eyes above the nose tip, the
    nose above the mouth corners, the mouth's left corner left of its right one."""
    from dasl.data.images import read_rgb
    from dasl.detect.mtcnn import run_mtcnn

    image = read_rgb(shared.path("samples") / "trump_hillary.jpg")
    found = run_mtcnn(image)
    assert len(found.boxes) == 2 and (found.boxes[:, 4] > 0.99).all()
    dlib_boxes = find_faces(make_detector("dlib-hog"), image).boxes
    for box, points in zip(found.boxes, found.keypoints, strict=True):
        centre = (box[:2] + box[2:4]) / 2
        side = box[2] - box[0]  # about 225 px; MTCNN's boxes reach lower than dlib's (the chin)
        assert min(np.abs(((d[:2] + d[2:4]) / 2) - centre).max() for d in dlib_boxes) < 0.25 * side
        left_eye, right_eye, nose, mouth_left, mouth_right = points
        assert left_eye[0] < right_eye[0] and mouth_left[0] < mouth_right[0]
        assert max(left_eye[1], right_eye[1]) < nose[1] < min(mouth_left[1], mouth_right[1])
        assert (points >= box[:2]).all() and (points <= box[2:4]).all()


def test_mtcnn_searches_the_turned_photo_where_the_upright_one_shows_no_face(shared):
    """The sample photo lying on its side: ``mtcnn`` finds no sure face upright, so it searches the turned
    photo and gives each face the quarter turn that brings it upright; ``turns="never"`` finds none."""
    from dasl.data.images import read_rgb
    from dasl.detect.mtcnn import MtcnnDetector
    from dasl.geometry.turns import turn_image

    lying = turn_image(read_rgb(shared.path("samples") / "trump_hillary.jpg"), 1)
    upright = MtcnnDetector(ROI_CALIBRATION["mtcnn"], turns="never").detect(lying)
    assert not (upright.boxes[:, 4] > 0.95).any()
    found = make_detector("mtcnn").detect(lying)
    sure = found.boxes[:, 4] > 0.99
    assert sure.sum() == 2 and (found.turns[sure] == 3).all()


def test_mtcnn_smallest_face_scales_with_the_photo():
    from dasl.detect.mtcnn import min_face_size

    assert min_face_size(450, 450) == 20.0
    assert min_face_size(1600, 1200) == 40.0  # a face 40 px wide in a 1600x1200 photo is searched for
    assert min_face_size(4000, 3000) == 100.0


def test_mtcnn_without_its_package_is_a_clear_error(monkeypatch):
    import importlib.util

    from dasl.detect import mtcnn

    mtcnn.weights_dir.cache_clear()
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    try:
        with pytest.raises(mtcnn.MissingMtcnnError, match="pip install mtcnn"):
            mtcnn.load_weights("pnet")
    finally:
        mtcnn.weights_dir.cache_clear()


def test_blazeface_anchors_match_the_networks_outputs():
    """MediaPipe's anchor layout: 16x16 cells x 2 + 8x8 x 6 = 896 (short range), 48x48 x 1 = 2,304 (full
    range), row by row, centres at half cells; each network gives one row per anchor."""
    from dasl.detect.blazeface import FULL, SHORT, network

    assert SHORT.anchors.shape == (896, 2) and FULL.anchors.shape == (2304, 2)
    assert np.allclose(SHORT.anchors[:3], [[1 / 32, 1 / 32], [1 / 32, 1 / 32], [3 / 32, 1 / 32]])
    assert np.allclose(SHORT.anchors[512], [1 / 16, 1 / 16]) and np.allclose(FULL.anchors[-1], [1 - 1 / 96] * 2)
    for model in (SHORT, FULL):
        raw, logits = network(model).run(None, {"image": np.zeros((2, 3, model.size, model.size), np.float32)})
        assert raw.shape == (2, len(model.anchors), 16) and logits.shape == (2, len(model.anchors), 1)


def test_blazeface_tiles_cover_the_photo_and_overlap():
    from dasl.detect.blazeface import tiles

    windows = tiles(1000, 600, 300, overlap=0.25)
    assert (windows[:, 2] == 300).all()
    covered = np.zeros((600, 1000), bool)
    for x0, y0, side in windows.astype(int):
        covered[y0 : y0 + side, x0 : x0 + side] = True
    assert covered.all()
    xs = np.unique(windows[:, 0])
    assert (np.diff(xs) <= 300 * 0.75 + 1e-9).all() and xs[0] == 0 and xs[-1] == 700
    assert np.allclose(tiles(200, 100, 300), [[-50, -100, 300]])  # one window, the photo in its middle


@pytest.mark.parametrize(
    "name, k", [("blazeface", 0), ("blazeface", 1), ("blazeface", 3)] + [("blazeface-turns", k) for k in range(4)]
)
def test_blazeface_finds_the_sample_faces_at_any_quarter_turn(shared, name, k):
    """Both faces of the two-face photo turned by ``k`` quarter turns: each box about the face that MTCNN
    finds upright (turned the same way), and the turn that brings it upright. ``blazeface`` searches turned
    only where no sure face is upright or a sure one lies by its eyes: upside down (k = 2) it takes both
    faces as upright (eyes read as on an upright face), so only ``blazeface-turns`` is asked for that."""
    from dasl.data.images import read_rgb
    from dasl.detect.mtcnn import run_mtcnn
    from dasl.geometry.turns import turn_boxes, turn_image

    image = read_rgb(shared.path("samples") / "trump_hillary.jpg")
    h, w = image.shape[:2]
    truth = turn_boxes(run_mtcnn(image).boxes, k, w, h)
    found = make_detector(name).detect(turn_image(image, k))
    assert len(found) == 2 and (found.boxes[:, 4] > 0.6).all()
    assert sorted(found.turns.tolist()) == [(4 - k) % 4] * 2
    for box in found.boxes:
        centre = (box[:2] + box[2:4]) / 2
        side = box[2] - box[0]
        assert min(np.abs((t[:2] + t[2:4]) / 2 - centre).max() for t in truth) < 0.25 * side


def test_blazeface_finds_a_small_face_in_a_large_photo(shared):
    """A face 40 px wide pasted into a 1600x1200 photo of background (the sample's face, shrunk) is found
    by the full-range search in tiles for 40 px faces; the whole photo's search does not find it."""
    import cv2

    from dasl.data.images import read_rgb
    from dasl.detect.blazeface import SHORT, run_windows
    from dasl.detect.mtcnn import run_mtcnn

    image = read_rgb(shared.path("samples") / "trump_hillary.jpg")
    box = run_mtcnn(image).boxes[0]
    side = box[2] - box[0]
    x0, y0 = int(box[0] - side * 0.3), int(box[1] - side * 0.3)
    face = image[y0 : y0 + int(side * 1.6), x0 : x0 + int(side * 1.6)]
    small = cv2.resize(face, (64, 64), interpolation=cv2.INTER_AREA)  # the face itself about 40 px
    photo = np.full((1200, 1600, 3), 90, np.uint8)
    photo[700:764, 1100:1164] = small
    from dasl.detect.blazeface import BlazeFaceDetector

    assert len(make_detector("blazeface").detect(photo)) == 0  # the whole photo only: too small
    found = BlazeFaceDetector(ROI_CALIBRATION["blazeface"], min_face=40).detect(photo)
    assert len(found) == 1
    centre = (found.boxes[0, :2] + found.boxes[0, 2:4]) / 2
    assert np.abs(centre - [1132, 732]).max() < 10 and 25 < found.boxes[0, 2] - found.boxes[0, 0] < 60
    assert len(run_windows(photo, np.array([[0, -200, 1600]]), SHORT).boxes) == 0


def test_blazeface_without_its_weights_is_a_clear_error(monkeypatch, tmp_path):
    from dasl.detect import blazeface
    from dasl.errors import MissingFileError

    monkeypatch.setattr(blazeface, "WEIGHTS", tmp_path)
    blazeface.network.cache_clear()
    try:
        with pytest.raises(MissingFileError, match="blazeface_short.onnx"):
            blazeface.network(blazeface.SHORT)
    finally:
        blazeface.network.cache_clear()
