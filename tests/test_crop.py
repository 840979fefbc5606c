import numpy as np
import pytest

from dasl.geometry.crop import crop_image, roi_from_box, roi_from_landmarks
from dasl.geometry.frames import crop_to_image, flip_y, image_to_crop


def test_flip_y_is_the_3ddfa_flip_and_an_involution(rng):
    pts = rng.uniform(0, 120, (2, 5, 3))
    flipped = flip_y(pts)
    np.testing.assert_allclose(flipped[..., 1], 121 - pts[..., 1])
    np.testing.assert_array_equal(flipped[..., [0, 2]], pts[..., [0, 2]])
    np.testing.assert_allclose(flip_y(flipped), pts)


def test_crop_uncrop_round_trip_and_known_value(rng):
    roi = np.array([[10.0, 20.0, 250.0, 260.0], [-30.0, 5.0, 90.0, 140.0]])
    pts = rng.uniform(-10, 130, (2, 68, 3))
    img = crop_to_image(pts, roi)
    np.testing.assert_allclose(image_to_crop(img, roi), pts, atol=1e-9)
    # crop point (60, 30) of the first box: x = 10 + 60 * 240/120, y = 20 + 30 * 2
    one = crop_to_image(np.array([[[60.0, 30.0, 5.0]]]), roi[:1])
    np.testing.assert_allclose(one[0, 0], [130.0, 80.0, 10.0])


def test_roi_from_landmarks_known_value():
    pts = np.array([[[100.0, 200.0], [200.0, 250.0]]])  # box 100 wide, 50 high, centre (150, 225)
    side = np.sqrt(2) * 100
    expected = np.round([150 - side / 2, 225 - side / 2])
    np.testing.assert_allclose(roi_from_landmarks(pts)[0], [*expected, *(expected + np.round(side))])


def test_roi_from_landmarks_reproduces_every_stored_aflw2000_box(aflw):
    boxes = roi_from_landmarks(aflw.landmarks_3d, image_size=(450, 450))
    np.testing.assert_array_equal(boxes, aflw.roi)


def test_roi_from_box_is_square_and_below_the_box():
    roi = roi_from_box(np.array([[100.0, 100.0, 200.0, 220.0]]))[0]
    assert roi[2] - roi[0] == roi[3] - roi[1] == np.round(1.58 * 110)
    assert (roi[1] + roi[3]) / 2 > 160  # centre moved down by 0.14 * 110
    np.testing.assert_allclose((roi[0] + roi[2]) / 2, 150, atol=0.5)


def test_crop_image_pads_outside_with_black():
    img = np.full((50, 60, 3), 200, np.uint8)
    out = crop_image(img, np.array([-59, 1, 60, 120]), size=120)  # left half of the box outside
    assert out.shape == (120, 120, 3)
    assert (out[:, :55] == 0).all() and (out[:45, 65:] == 200).all() and (out[55:, :] == 0).all()


def test_crop_image_covers_the_inclusive_box():
    img = np.arange(100 * 100, dtype=np.float32).reshape(100, 100)
    out = crop_image(img, np.array([11, 21, 130, 140]), size=120)  # 120x120 box: a pure copy
    np.testing.assert_array_equal(out[:80, :90], img[20:100, 10:100])


@pytest.mark.parametrize("i", [0, 1, 5, 7, 1000])
def test_crop_image_reproduces_the_stored_benchmark_crops(aflw, i):
    stored = aflw.stored_crops([i])[0].astype(float)
    ours = crop_image(aflw.photo(i), aflw.roi[i]).astype(float)
    # the stored crops are JPEG files: a re-encode of ours differs from ours by ~1.5-2 grey levels
    assert np.abs(stored - ours).mean() < 2.6
    shifted = crop_image(aflw.photo(i), aflw.roi[i] + 1).astype(float)
    assert np.abs(stored - shifted).mean() > np.abs(stored - ours).mean()


def test_mirror_x_reflects_about_the_crop_centre_and_relabels():
    from dasl.geometry.frames import mirror_x
    from dasl.morphable.landmarks import FLIP_68

    points = np.zeros((1, 68, 2))
    points[0, 36] = [40.0, 50.0]  # an outer eye corner, left in the image
    mirrored = mirror_x(points, FLIP_68)
    assert np.allclose(mirrored[0, FLIP_68[36]], [80.0, 50.0])  # 120 - 40, under its mirror partner's label
    assert np.allclose(mirror_x(mirrored, FLIP_68), points)  # an involution
