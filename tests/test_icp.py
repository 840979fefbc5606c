"""The ICP reconstruction error (2DASL's Fig. 7 protocol, dasl.eval.icp) on a real face cloud: a rigid move is
undone, a change of shape is not, Kabsch recovers a known rotation."""

import numpy as np

from dasl.eval.icp import ICP_EVERY, icp_distance, icp_errors, kabsch
from dasl.morphable.pose import rotation_from_euler


def _face(bfm, coeffs=None):
    """The face region of the mean face (or of ``coeffs`` (50,)) in pixels, about 100 px across."""
    model = bfm.subset(bfm.face_vertices)
    params = np.zeros((1, 62))
    params[0, :12] = [1e-3, 0, 0, 60, 0, 1e-3, 0, 60, 0, 0, 1e-3, 0]
    if coeffs is not None:
        params[0, 12:] = coeffs
    return model.vertices(params)[0].astype(np.float64)


def test_kabsch_recovers_a_known_rotation_and_shift(rng):
    points = rng.normal(size=(50, 3))
    rotation = rotation_from_euler(np.array([[20.0, -10.0, 5.0]]))[0]
    r, t = kabsch(points, points @ rotation.T + [1.0, 2.0, 3.0])
    assert np.allclose(r, rotation, atol=1e-9) and np.allclose(t, [1, 2, 3], atol=1e-9)


def test_a_rigid_move_is_undone_and_a_change_of_shape_is_not(bfm):
    truth = _face(bfm)
    assert 60 < np.ptp(truth[:, 0]) < 200
    moved = truth @ rotation_from_euler(np.array([[6.0, 4.0, -3.0]]))[0].T + [3.0, -2.0, 10.0]
    by_index = np.linalg.norm(moved - truth, axis=1).mean()
    assert by_index > 3.0  # pixels: the move is large by vertex index
    triangles = bfm.face_triangles
    assert icp_distance(moved[::ICP_EVERY], truth, triangles) < 0.05  # and undone by ICP to the surface
    assert icp_distance(moved[::ICP_EVERY], truth) > 0.2  # point pairs alone stall short of it (measured 0.64)
    other = _face(bfm, np.r_[np.full(40, 2.0) * bfm.param_std[12:52], np.zeros(10)])  # another face
    assert icp_distance(other[::ICP_EVERY], truth, triangles) > 1.0
    norm = np.array([100.0, 100.0])
    clouds = np.stack([moved, np.full_like(moved, np.nan)])[:, ::ICP_EVERY]
    errors = icp_errors(clouds, np.stack([truth, truth]), norm, triangles)
    assert errors[0] < 0.05 and np.isnan(errors[1])  # percent of the norm; a missing face stays NaN
