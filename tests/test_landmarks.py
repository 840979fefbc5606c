import numpy as np
import torch

from dasl.eval.metrics import box_size, nme, summarize_by_yaw
from dasl.morphable.landmarks import (
    AFLW_SCHEME18,
    FLIP_18,
    FLIP_68,
    MASK18,
    MOUTH_CENTRE18,
    MOUTH_CORNERS18,
    NAMES18,
    SUBSET18,
    map_points18,
    to_aflw18,
    to_labelled18,
    to_subset18,
)


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


def test_aflw_scheme_puts_the_mouth_centre_on_the_lips_where_aflw_marks_it(aflw):
    """AFLW's 18 points differ from 2DASL's in the mouth centre only. AFLW2000-3D's own 68-point labels
    against the AFLW points of the same photos (a property of the labels, no model involved) tell which
    combination AFLW marks: the lips' middle agrees as well as any other point; the corners' midpoint lies
    inside the mouth and, on turned faces, far behind the lips."""
    mouth = NAMES18.index("mouth centre")
    differs = (AFLW_SCHEME18 != SUBSET18).any(1)
    assert differs.tolist() == [k == mouth for k in range(18)]
    np.testing.assert_allclose(AFLW_SCHEME18.sum(1), 1.0)
    points, visible = aflw.human_points
    norm = box_size(aflw.landmarks_2d)
    seen = visible[:, mouth]
    errors = {}
    for name, points18 in (("lips", to_aflw18(aflw.landmarks_2d)), ("corners", to_subset18(aflw.landmarks_2d))):
        e = nme(points18[seen, mouth : mouth + 1], points[seen, mouth : mouth + 1], norm[seen])
        errors[name] = summarize_by_yaw(e, aflw.yaw[seen])
    assert errors["lips"]["60-90"] < 3.5 < 10.0 < errors["corners"]["60-90"]
    assert errors["lips"]["0-30"] < 2.5 < 3.5 < errors["corners"]["0-30"]


def test_labelled18_reads_each_faces_mouth_centre_as_its_label_does(rng):
    """AFLW's faces (flag true) get the lips' middle, the others 2DASL's corners' midpoint; every other point
    is 2DASL's; numpy and torch agree and gradients reach the landmarks of both readings."""
    pts = rng.standard_normal((4, 68, 2))
    flag = np.array([True, False, True, False])
    out = to_labelled18(pts, flag)
    np.testing.assert_allclose(out[flag], to_aflw18(pts)[flag])
    np.testing.assert_allclose(out[~flag], to_subset18(pts)[~flag])
    np.testing.assert_allclose(out[:, MOUTH_CENTRE18][flag], (pts[flag, 62] + pts[flag, 66]) / 2)
    assert not np.allclose(out[flag, MOUTH_CENTRE18], to_subset18(pts)[flag, MOUTH_CENTRE18])
    tensor = torch.from_numpy(pts).requires_grad_()
    out_t = to_labelled18(tensor, torch.from_numpy(flag))
    np.testing.assert_allclose(out_t.detach().numpy(), out, rtol=1e-12)
    out_t[:, MOUTH_CENTRE18].sum().backward()
    grad = tensor.grad.abs().sum(-1)
    assert (grad[flag][:, [62, 66]] > 0).all() and not grad[flag][:, [48, 54]].any()
    assert (grad[~flag][:, [48, 54]] > 0).all() and not grad[~flag][:, [62, 66]].any()


def test_map_points18_draws_2dasls_mouth_centre_for_aflw_labels():
    """Where a face's label is AFLW's (the lips' middle) the map gets the corners' midpoint, as a detector's 68
    points give it at inference; with a corner hidden the point leaves the map; other faces and points stay."""
    pts = torch.rand(3, 18, 2) * 120
    vis = torch.ones(3, 18, dtype=torch.bool)
    vis[2, MOUTH_CORNERS18[0]] = False
    flag = torch.tensor([True, False, True])
    out, out_vis = map_points18(pts, vis, flag)
    right, left = MOUTH_CORNERS18
    torch.testing.assert_close(out[0, MOUTH_CENTRE18], (pts[0, right] + pts[0, left]) / 2)
    torch.testing.assert_close(out[1], pts[1])
    assert not out_vis[2, MOUTH_CENTRE18] and out_vis[0].all() and out_vis[1].all()
    others = [i for i in range(18) if i != MOUTH_CENTRE18]
    torch.testing.assert_close(out[:, others], pts[:, others])
    assert (out_vis[:, others] == vis[:, others]).all()
    assert map_points18(pts, vis, None)[0] is pts
    # the corners' midpoint is what to_subset18 makes of 68 points
    pts68 = torch.rand(1, 68, 2)
    sub = to_subset18(pts68)
    assert torch.allclose(sub[0, MOUTH_CENTRE18], (sub[0, right] + sub[0, left]) / 2)
