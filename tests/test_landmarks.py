import numpy as np
import torch

from dasl.morphable.landmarks import FLIP_18, FLIP_68, MASK18, NAMES18, SUBSET18, to_subset18


def test_subset18_rows_are_averages():
    assert SUBSET18.shape == (18, 68) and len(NAMES18) == 18
    np.testing.assert_allclose(SUBSET18.sum(1), 1.0, rtol=1e-6)
    assert not SUBSET18[:, :17].any()  # no contour point


def test_mouth_centre_is_the_midpoint_of_the_corners(rng):
    pts = rng.standard_normal((3, 68, 2))
    sub = to_subset18(pts)
    k = NAMES18.index("mouth centre")
    np.testing.assert_allclose(sub[:, k], (pts[:, 48] + pts[:, 54]) / 2)
    sub_t = to_subset18(torch.from_numpy(pts))
    np.testing.assert_allclose(sub_t.numpy(), sub, rtol=1e-6)


def test_mask_is_4_2_1_with_mean_one():
    values = sorted(set(np.round(MASK18 / MASK18.min(), 6)))
    assert values == [1.0, 2.0, 4.0]
    np.testing.assert_allclose(MASK18.mean(), 1.0, rtol=1e-6)
    assert MASK18[NAMES18.index("nose tip")] == MASK18.max()
    assert MASK18[NAMES18.index("left brow outer")] == MASK18.min()


def test_flip_permutations_are_involutions_and_consistent(rng):
    assert sorted(FLIP_68) == list(range(68)) and (FLIP_68[FLIP_68] == np.arange(68)).all()
    assert (FLIP_18[FLIP_18] == np.arange(18)).all()
    pts = rng.standard_normal((2, 68, 2))
    np.testing.assert_allclose(to_subset18(pts[:, FLIP_68]), to_subset18(pts)[:, FLIP_18], atol=1e-6)
    np.testing.assert_array_equal(MASK18[FLIP_18], MASK18)


def test_flip_68_matches_the_mirrored_mean_face(bfm):
    """Mirroring the (nearly symmetric) mean face in x maps landmark i onto landmark FLIP_68[i]."""
    pts = bfm.mean.reshape(-1, 3)[bfm.keypoints]
    mirrored = pts * [-1, 1, 1]
    size = np.ptp(pts[:, 0])
    assert np.abs(mirrored[FLIP_68] - pts).max(-1).max() < 0.05 * size
    assert np.abs(mirrored - pts).max(-1).max() > 0.3 * size  # the identity permutation would fail
