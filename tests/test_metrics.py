import numpy as np

from dasl.eval.metrics import (
    angle_errors,
    box_size,
    cumulative_curve,
    nme,
    rotation_errors,
    summarize_by_yaw,
    yaw_bins,
)
from dasl.morphable.pose import rotation_from_euler


def test_nme_hand_computed():
    gt = np.array([[[0.0, 0.0, 0.0], [40.0, 90.0, 10.0]]])  # box 40 x 90 -> sqrt = 60
    pred = gt + [[[3.0, 4.0, 0.0], [0.0, 0.0, 0.0]]]  # distances 5 and 0
    norm = box_size(gt)
    np.testing.assert_allclose(norm, [60.0])
    np.testing.assert_allclose(nme(pred, gt, norm), [100 * 2.5 / 60])


def test_3d_nme_ignores_a_depth_offset():
    gt = np.array([[[0.0, 0.0, 0.0], [40.0, 90.0, 10.0]]])
    shifted = gt + [0, 0, 25.0]
    assert nme(shifted, gt, box_size(gt), dims=3)[0] < 1e-12
    assert nme(shifted + [1.0, 0, 0], gt, box_size(gt), dims=3)[0] > 0


def test_yaw_bins_edges():
    np.testing.assert_array_equal(yaw_bins(np.array([0, 30, 30.01, -45, 60, -60.5, 95])), [0, 0, 1, 1, 1, 2, 2])


def test_summary_mean_of_bins_and_all():
    errors = np.array([1.0, 1.0, 2.0, 6.0])
    s = summarize_by_yaw(errors, np.array([0.0, 10.0, 40.0, 80.0]))
    assert (s["0-30"], s["30-60"], s["60-90"]) == (1.0, 2.0, 6.0)
    assert s["mean"] == 3.0 and s["all"] == 2.5
    assert s["count"] == {"0-30": 2, "30-60": 1, "60-90": 1}


def test_angle_errors_wrap():
    np.testing.assert_allclose(angle_errors(np.array([[179.0, 0, 10]]), np.array([[-179.0, 5, -10]])), [[2, 5, 20]])


def test_cumulative_curve():
    x, y = cumulative_curve(np.array([1.0, 2.0, 3.0, 4.0]), upto=4.0, steps=5)
    np.testing.assert_allclose(x, [0, 1, 2, 3, 4])
    np.testing.assert_allclose(y, [0, 0.25, 0.5, 0.75, 1.0])


def test_rotation_error_is_the_angle_between_rotations_whatever_the_euler_split():
    a = rotation_from_euler(np.array([[10.0, 0.0, 0.0], [85.0, 5.0, 5.0]]))
    b = rotation_from_euler(np.array([[40.0, 0.0, 0.0], [85.0, -5.0, -5.0]]))
    errors = rotation_errors(a, b)
    assert abs(errors[0] - 30.0) < 1e-9  # 30 degrees about one axis
    # near a profile, pitch and roll each off by 10 degrees is a rotation of far less than 10 + 10
    assert errors[1] < 1.0 and angle_errors(np.array([[85.0, 5.0, 5.0]]), np.array([[85.0, -5.0, -5.0]]))[0, 1] == 10
