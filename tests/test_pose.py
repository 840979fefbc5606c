import numpy as np

from conftest import random_params
from dasl.morphable.pose import (
    complete_depth_row,
    compose_affine,
    decompose,
    euler_from_rotation,
    rotation_from_euler,
)


def test_euler_round_trip(rng):
    angles = np.column_stack([rng.uniform(-89, 89, 500), rng.uniform(-179, 179, 500), rng.uniform(-179, 179, 500)])
    np.testing.assert_allclose(euler_from_rotation(rotation_from_euler(angles)), angles, atol=1e-8)


def test_rotations_are_proper(rng):
    r = rotation_from_euler(rng.uniform(-80, 80, (10, 3)))
    np.testing.assert_allclose(r @ r.swapaxes(-1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0)


def test_known_angles():
    # R = (Rz Ry Rx)^T: pure yaw of +90 degrees sends the model's x axis to +z
    r = rotation_from_euler(np.array([[90.0, 0.0, 0.0]]))[0]
    np.testing.assert_allclose(r @ [1.0, 0, 0], [0, 0, 1.0], atol=1e-12)
    # pure roll of +90: (Rz)^T sends x to -y
    r = rotation_from_euler(np.array([[0.0, 0.0, 90.0]]))[0]
    np.testing.assert_allclose(r @ [1.0, 0, 0], [0, -1.0, 0], atol=1e-12)


def test_gimbal_lock_keeps_the_rotation():
    angles = np.array([[90.0, 20.0, 0.0], [-90.0, -35.0, 0.0]])
    r = rotation_from_euler(angles)
    back = euler_from_rotation(r)
    np.testing.assert_allclose(rotation_from_euler(back), r, atol=1e-9)
    np.testing.assert_allclose(back, angles, atol=1e-6)


def test_decompose_recovers_scale_rotation_translation(rng):
    angles = rng.uniform(-60, 60, (6, 3))
    scale = rng.uniform(1e-4, 1e-3, 6)
    t = rng.standard_normal((6, 3)) * 50
    p = np.zeros((6, 62))
    p[:, :12] = compose_affine(scale, rotation_from_euler(angles), t)
    pose = decompose(p)
    np.testing.assert_allclose(pose.scale, scale, rtol=1e-10)
    np.testing.assert_allclose(pose.translation, t)
    np.testing.assert_allclose(pose.angles, angles, atol=1e-8)


def test_decompose_projects_noisy_matrices_to_rotations(bfm, rng):
    p = random_params(rng, 5, bfm)
    r = decompose(p).rotation
    np.testing.assert_allclose(r @ r.swapaxes(-1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-10)
    np.testing.assert_allclose(np.linalg.det(r), 1.0)


def test_depth_row_is_rebuilt_from_the_two_image_rows(rng):
    angles = rng.uniform(-80, 80, (6, 3))
    scale = rng.uniform(1e-4, 1e-3, 6)
    p = rng.standard_normal((6, 62))
    p[:, :12] = compose_affine(scale, rotation_from_euler(angles), rng.standard_normal((6, 3)))
    spoiled = p.copy()
    spoiled[:, 8:11] = rng.standard_normal((6, 3)) * 1e-3  # what an untrained depth row looks like
    assert np.abs(decompose(spoiled).angles - angles).max() > 5  # the spoiled row corrupts the pose
    fixed = complete_depth_row(spoiled)
    np.testing.assert_allclose(fixed, p, rtol=1e-9, atol=1e-12)  # everything else untouched, the row exact
    np.testing.assert_allclose(decompose(fixed).angles, angles, atol=1e-6)
