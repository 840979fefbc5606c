import math

import numpy as np
import torch

from conftest import random_params
from dasl import losses
from dasl.geometry.frames import crop_landmarks, flip_y
from dasl.morphable.landmarks import MASK18, NAMES18, to_aflw18, to_subset18


def test_coefficient_weights_equal_the_62_pass_definition(bfm, rng):
    lm = bfm.landmarks68
    gt = random_params(rng, 3, bfm)
    pred = gt + rng.standard_normal((3, 62)) * bfm.param_std * 0.3
    for dims in (2, 3):
        fast = losses.coefficient_weights(torch.from_numpy(pred), torch.from_numpy(gt), lm, dims).numpy()
        slow = np.zeros((3, 62))
        for i in range(62):  # H(a_i) - H(a*) with only coefficient i predicted
            a = gt.copy()
            a[:, i] = pred[:, i]
            slow[:, i] = np.linalg.norm((lm.vertices(a) - lm.vertices(gt))[..., :dims].reshape(3, -1), axis=1)
        slow /= slow.sum(1, keepdims=True)
        np.testing.assert_allclose(fast, slow, rtol=1e-8, atol=1e-12)
    # depth translation cannot move projected landmarks: no weight in 2D
    assert (fast[:, 11] > 0).all()
    assert (losses.coefficient_weights(torch.from_numpy(pred), torch.from_numpy(gt), lm, 2)[:, 11] == 0).all()


def test_weighted_parameter_loss_hand_computed():
    pred = torch.tensor([[1.0, 2.0, 3.0]])
    gt = torch.tensor([[0.0, 0.0, 1.0]])
    w = torch.tensor([[0.5, 0.25, 0.25]])
    # 0.5*1 + 0.25*4 + 0.25*4 = 2.5
    assert losses.weighted_parameter_loss(pred, gt, w).item() == 2.5


def test_landmark_loss_hand_computed():
    pred = torch.rand(1, 68, 2) * 100
    target = to_subset18(pred)
    pred[0, 30] += torch.tensor([3.0, 4.0])  # the nose tip (used by no other of the 18) moves by 5 px
    nose = NAMES18.index("nose tip")
    mask = torch.as_tensor(MASK18)
    assert math.isclose(losses.landmark_loss(pred, target, mask).item(), MASK18[nose] * 5.0, rel_tol=1e-4)
    assert math.isclose(losses.landmark_loss(pred, target, torch.ones(18)).item(), 5.0, rel_tol=1e-4)
    visible = torch.ones(1, 18, dtype=torch.bool)
    visible[0, nose] = False
    target[0, nose] = float("nan")  # invisible targets may hold NaN
    assert losses.landmark_loss(pred, target, mask, visible).item() < 1e-4


def test_landmark_loss_reads_aflws_mouth_centre_where_flagged():
    """A prediction that matches AFLW's points as AFLW marks them costs nothing when the faces are flagged
    as AFLW's, and the mouth centre's gap (lips' middle to corners' midpoint) when they are not."""
    pred = torch.rand(2, 68, 2) * 100
    target = to_aflw18(pred)
    mouth = NAMES18.index("mouth centre")
    gap = (target[:, mouth] - to_subset18(pred)[:, mouth]).norm(dim=-1).mean().item()
    ones = torch.ones(18)
    flagged = torch.ones(2, dtype=torch.bool)
    assert losses.landmark_loss(pred, target, ones, aflw_mouth=flagged).item() < 1e-4
    assert math.isclose(losses.landmark_loss(pred, target, ones).item(), gap, rel_tol=1e-4) and gap > 1.0
    assert math.isclose(losses.landmark_loss(pred, target, ones, aflw_mouth=~flagged).item(), gap, rel_tol=1e-4)


def test_landmark_consistency_3d_hand_computed():
    a = torch.zeros(2, 68, 3)
    b = a.clone()
    b[0, 5] = torch.tensor([1.0, 2.0, 2.0])  # distance 3 in the first sample only
    assert math.isclose(losses.landmark_consistency_3d(a, b).item(), 1.5, rel_tol=1e-4)


def test_adversarial_losses_known_values():
    zero = torch.zeros(4)
    assert math.isclose(losses.critic_loss(zero, zero).item(), 2 * math.log(2), rel_tol=1e-6)
    assert math.isclose(losses.adversarial_loss(zero).item(), math.log(2), rel_tol=1e-6)
    confident = torch.full((4,), 20.0)
    assert losses.critic_loss(confident, -confident).item() < 1e-6
    assert losses.adversarial_loss(-confident).item() > 19


def test_vertex_distance_cost_known_value(bfm, rng):
    model = bfm.subset(bfm.face_vertices[::100])
    gt = torch.from_numpy(random_params(rng, 2, bfm))
    shifted = gt.clone()
    shifted[:, [3, 7, 11]] += torch.tensor([3.0, 0.0, 4.0], dtype=gt.dtype)  # every vertex moves by 5
    assert losses.vertex_distance_cost(gt, gt, model).item() == 0
    assert math.isclose(losses.vertex_distance_cost(shifted, gt, model).item(), 25.0, rel_tol=1e-9)


def test_gradients_are_finite_even_at_zero_error(bfm, rng):
    lm = bfm.landmarks68
    p = torch.from_numpy(random_params(rng, 2, bfm)).requires_grad_(True)
    pts = crop_landmarks(lm, p)
    target18 = to_subset18(pts[..., :2]).detach()
    total = losses.landmark_loss(pts, target18, torch.ones(18)) + losses.landmark_consistency_3d(pts, pts.detach())
    total.backward()
    assert torch.isfinite(p.grad).all()


def test_crop_landmarks_are_in_the_crop_frame(bfm, rng):
    p = random_params(rng, 1, bfm)
    np.testing.assert_allclose(crop_landmarks(bfm.landmarks68, torch.from_numpy(p)).numpy(), flip_y(bfm.landmarks(p)))
