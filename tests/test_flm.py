import numpy as np
import torch

from dasl.geometry.flm import landmark_map


def test_landmark_map_marks_floor_pixels():
    pts = np.array([[[10.2, 20.9], [0.0, 0.0], [119.99, 119.5], [130.0, -4.0], [np.nan, 3.0]]])
    m = landmark_map(pts)
    assert m.shape == (1, 120, 120) and m.dtype == np.float32
    ones = set(zip(*np.nonzero(m[0] == 1), strict=True))
    assert ones == {(20, 10), (0, 0), (119, 119), (0, 119)}  # (row, column); NaN left out
    assert ((m == 1) | (m == -1)).all()


def test_numpy_and_torch_maps_agree(rng):
    pts = rng.uniform(-5, 125, (3, 68, 2))
    pts[1, 4] = np.nan
    np.testing.assert_array_equal(landmark_map(torch.from_numpy(pts)).numpy(), landmark_map(pts))
