import numpy as np
import torch

from dasl.morphable import layout


def test_affine_compose_round_trip(rng):
    p = rng.standard_normal((5, 62))
    fr, t = layout.affine(p)
    assert fr.shape == (5, 3, 3) and t.shape == (5, 3)
    np.testing.assert_array_equal(fr[:, 0], p[:, 0:3])
    np.testing.assert_array_equal(t, p[:, [3, 7, 11]])
    back = layout.compose(fr, t, p[:, layout.SHAPE], p[:, layout.EXPRESSION])
    np.testing.assert_array_equal(back, p)
    pt = torch.from_numpy(p)
    back_t = layout.compose(*layout.affine(pt), pt[:, layout.SHAPE], pt[:, layout.EXPRESSION])
    assert torch.equal(back_t, pt)


def test_whiten_round_trip_numpy_and_torch(rng):
    mean, std = rng.standard_normal(62), rng.uniform(0.1, 2, 62)
    p = rng.standard_normal((4, 62))
    w = layout.whiten(p, mean, std)
    np.testing.assert_allclose(w, (p - mean) / std)
    np.testing.assert_allclose(layout.unwhiten(w, mean, std), p)
    wt = layout.whiten(torch.from_numpy(p), mean, std)
    np.testing.assert_allclose(wt.numpy(), w)
