"""Face profiling: the labels of a synthesised view project onto the face drawn in it."""

import numpy as np
import pytest

from dasl.builders.build3d import profile_targets
from dasl.builders.profiling import FaceProfiler
from dasl.geometry.frames import flip_y
from dasl.morphable.pose import compose_affine, decompose, rotation_from_euler

H = W = 320
INNER = list(range(17, 68))


@pytest.fixture(scope="module")
def photo(bfm):
    """A grey photo of a frontal face with a green dot on each of its 68 landmarks."""
    params = np.zeros((1, 62))
    params[:, :12] = compose_affine(
        np.array([1.2e-3]), rotation_from_euler(np.zeros((1, 3))), np.array([[160.0, 170.0, 0.0]])
    )
    marks = flip_y(bfm.landmarks(params), size=H)[0] - [1, 1, 0]  # 0-based pixels
    image = np.full((H, W, 3), 128, np.uint8)
    yy, xx = np.mgrid[0:H, 0:W]
    for x, y, _ in marks:
        image[(xx - x) ** 2 + (yy - y) ** 2 <= 2.5**2] = (0, 255, 0)
    return image, params[0]


def _green(image):
    return (image[..., 1] > 180) & (image[..., 0] < 90) & (image[..., 2] < 90)


@pytest.mark.parametrize("yaw,pitch", [(0.0, 0.0), (25.0, 0.0), (-40.0, 8.0)])
def test_profile_labels_project_onto_the_rendered_landmarks(bfm, photo, yaw, pitch):
    image, params = photo
    view = FaceProfiler(bfm).scene(image, params).render(yaw, pitch)
    new = flip_y(bfm.landmarks(view.params[None]), size=H)[0] - [1, 1, 0]
    ys, xs = np.nonzero(_green(view.image))
    assert len(xs) > 100
    dots = np.column_stack([xs, ys])
    # landmarks on the side that turns away may hide behind the nose: check those facing the camera
    # (positive yaw turns the nose to the image's left, so the right half faces the camera)
    near_side = [i for i in INNER if abs(yaw) < 1 or (new[i, 0] - new[30, 0]) * np.sign(yaw) >= 0]
    distance = np.linalg.norm(new[near_side, None, :2] - dots[None], axis=-1).min(1)
    assert np.median(distance) < 1.0 and distance.max() < 3.0


def test_profile_turns_the_labels_by_the_requested_angle(bfm, photo):
    image, params = photo
    scene = FaceProfiler(bfm).scene(image, params)
    for delta in (-60.0, 30.0, 80.0):
        angles = decompose(scene.render(delta).params[None]).angles[0]
        np.testing.assert_allclose(angles, [delta, 0.0, 0.0], atol=1e-6)


def test_zero_turn_keeps_the_photo(bfm, photo):
    image, params = photo
    view = FaceProfiler(bfm).scene(image, params).render(0.0)
    np.testing.assert_allclose(view.params, params, atol=1e-9)
    inner = view.image[40:280, 40:280].astype(int)
    assert np.abs(inner - image[40:280, 40:280]).mean() < 3


def test_profile_targets_head_for_90_degrees():
    targets = profile_targets("photo_1", yaw=20.0, count=4)
    yaws = [20 + d for d, _ in targets]
    assert yaws == sorted(yaws) and abs(yaws[-1] - 90) < 1e-9
    assert all(abs(p) <= 10 for _, p in targets)
    assert profile_targets("photo_1", 20.0, 4) == targets
    left = profile_targets("photo_2", yaw=-35.0, count=3)
    assert all(d < 0 for d, _ in left) and abs(-35 + left[-1][0] + 90) < 1e-9
