import numpy as np
import pytest
import torch

from conftest import random_params
from dasl.errors import BadInputError
from dasl.morphable.model import MorphableModel


def test_identity_pose_gives_mean_shape(bfm):
    p = np.zeros((1, 62))
    p[0, [0, 5, 10]] = 1.0
    v = bfm.vertices(p)
    np.testing.assert_allclose(v[0], bfm.mean.reshape(-1, 3), rtol=1e-6)


def test_pose_is_applied_as_f_R_S_plus_t(bfm, rng):
    p = random_params(rng, 3, bfm)
    fr = p[:, :12].reshape(3, 3, 4)
    s = bfm.shape(p)
    expected = np.einsum("nij,nkj->nki", fr[:, :, :3], s) + fr[:, None, :, 3]
    np.testing.assert_allclose(bfm.vertices(p), expected, rtol=1e-9)


def test_numpy_and_torch_agree_and_torch_is_differentiable(bfm, rng):
    p = random_params(rng, 4, bfm)
    v_np = bfm.landmarks(p)
    pt = torch.from_numpy(p).requires_grad_(True)
    v_t = bfm.landmarks(pt)
    np.testing.assert_allclose(v_t.detach().numpy(), v_np, rtol=1e-10, atol=1e-8)
    v_t.sum().backward()
    assert pt.grad is not None and torch.isfinite(pt.grad).all()
    assert pt.grad[:, 12:].abs().sum() > 0  # shape and expression receive gradient


def test_landmark_model_matches_dense_keypoints(bfm, rng):
    p = random_params(rng, 2, bfm)
    dense = bfm.vertices(p)
    np.testing.assert_allclose(bfm.landmarks(p), dense[:, bfm.keypoints], rtol=1e-6)
    assert bfm.landmarks68.n_vertices == 68


def test_float32_torch_dense_close_to_float64(bfm, rng):
    p = random_params(rng, 2, bfm)
    v64 = bfm.vertices(p)
    v32 = bfm.vertices(torch.from_numpy(p).float()).numpy()
    assert np.abs(v32 - v64).max() < 1e-2  # crop pixels


def test_load_rejects_non_model(tmp_path):
    bad = tmp_path / "x.npz"
    np.savez(bad, foo=np.zeros(3))
    with pytest.raises(BadInputError, match="missing arrays"):
        MorphableModel.load(bad)
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip")
    with pytest.raises(BadInputError, match="junk.npz"):
        MorphableModel.load(junk)
