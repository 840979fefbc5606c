"""geometry/turns.py and faces lying down: quarter turns of points, boxes and parameters agree with
``np.rot90``, and a photo turned by 90, 180 and 270 degrees gives the same faces, turned."""

import numpy as np
import pytest

from dasl.geometry.frames import flip_y
from dasl.geometry.params import crop_to_image_params
from dasl.geometry.turns import (
    roll_turns,
    turn_boxes,
    turn_image,
    turn_params,
    turn_points,
    turned_size,
    unturn_params,
    unturn_points,
)


@pytest.mark.parametrize("k", [0, 1, 2, 3])
def test_turned_points_land_on_the_same_pixel_values(k, rng):
    """A pixel's value moves with :func:`turn_points`, exactly as ``np.rot90`` moves it."""
    image = rng.integers(0, 255, (5, 8), dtype=np.uint8)
    turned = turn_image(image, k)
    assert turned.shape[::-1] == turned_size(k, 8, 5)
    ys, xs = np.mgrid[0:5, 0:8]
    points = np.stack([xs.ravel(), ys.ravel()], 1).astype(float)
    moved = turn_points(points, k, 8, 5).astype(int)
    np.testing.assert_array_equal(turned[moved[:, 1], moved[:, 0]], image[ys.ravel(), xs.ravel()])
    np.testing.assert_allclose(unturn_points(moved, k, 8, 5), points)
    box = np.array([[1.0, 2.0, 4.0, 3.0, 0.7]])
    corners = turn_points(np.array([[1.0, 2.0], [4.0, 3.0]]), k, 8, 5)
    np.testing.assert_allclose(turn_boxes(box, k, 8, 5)[0], [*corners.min(0), *corners.max(0), 0.7])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_turned_parameters_give_the_turned_landmarks(k, bfm, rng):
    """Landmarks of :func:`turn_params` in the turned photo are the photo's landmarks turned; the scaled
    rotation stays one (determinant > 0); :func:`unturn_params` goes back."""
    from conftest import random_params

    width, height = 300, 200
    params = crop_to_image_params(random_params(rng, 3, bfm), np.array([[50.0, 40.0, 170.0, 160.0]] * 3), height)
    marks = flip_y(bfm.landmarks(params), height)[..., :2] - 1  # 0-based pixels of the photo
    turned = turn_params(params, k, width, height)
    w, h = turned_size(k, width, height)
    turned_marks = flip_y(bfm.landmarks(turned), h)[..., :2] - 1
    np.testing.assert_allclose(turned_marks, turn_points(marks, k, width, height), atol=1e-9)
    assert (np.linalg.det(turned[:, :12].reshape(-1, 3, 4)[:, :, :3]) > 0).all()
    np.testing.assert_allclose(unturn_params(turned, k, width, height), params, atol=1e-9)
    wrong = turn_params(params, (k + 1) % 4, width, height)  # the check can fail
    assert np.abs(flip_y(bfm.landmarks(wrong), h)[..., :2] - 1 - turned_marks).max() > 10


def test_eye_lines_give_the_quarter_turns():
    """Eyes (the image's left one first, as in an upright face) 40 px apart in each direction."""
    eyes = np.array(
        [
            [[0.0, 0.0], [40.0, 5.0]],  # upright, slightly rolled
            [[0.0, 0.0], [3.0, 40.0]],  # the eye line points down the image: a quarter turn brings it up
            [[40.0, 0.0], [0.0, 0.0]],  # upside down
            [[0.0, 40.0], [0.0, 0.0]],  # lying the other way
        ]
    )
    np.testing.assert_array_equal(roll_turns(eyes), [0, 1, 2, 3])
    for k, pair in zip(roll_turns(eyes), eyes, strict=True):  # turned by k, each eye line points right
        d = np.diff(turn_points(pair, k, 100, 100), axis=0)[0]
        assert d[0] > abs(d[1])


def test_a_turned_photo_gives_the_same_faces_turned(shared):
    """The two-face sample photo turned by 90, 180 and 270 degrees: the same two faces, their landmarks
    the upright photo's turned (measured: 0.0 px with the turned search, the crops being the same pixels),
    and the head's rotation turned about the camera's axis by the quarter turns (in AFLW's Euler angles,
    roll is not the picture-plane angle, so yaw and pitch change too)."""
    from dasl.api import Reconstructor
    from dasl.data.images import read_rgb

    image = read_rgb(shared.path("samples") / "trump_hillary.jpg")
    h, w = image.shape[:2]
    rec = Reconstructor(detector="mtcnn-turns", shared=shared)
    upright = sorted(rec.reconstruct(image), key=lambda f: f.box[0])
    assert len(upright) == 2 and all(f.turn == 0 for f in upright)
    for k in (1, 2, 3):
        faces = rec.reconstruct(turn_image(image, k))
        assert len(faces) == 2 and all(f.turn == (4 - k) % 4 for f in faces)
        for face in upright:
            expected = turn_points(face.landmarks_2d, k, w, h)
            gap = min(np.abs(f.landmarks_2d - expected).max() for f in faces)
            assert gap < 1.0, (k, gap)
            twin = min(faces, key=lambda f: np.abs(f.landmarks_2d - expected).max())
            relative = twin.pose.rotation @ face.pose.rotation.T  # a turn about the camera's axis
            angle = np.degrees(np.arctan2(relative[1, 0], relative[0, 0]))
            np.testing.assert_allclose(relative[2], [0, 0, 1], atol=0.02)
            assert abs(abs(angle) - (90 if k % 2 else 180)) < 1.0, angle
