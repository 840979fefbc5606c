"""Batch norm folded into convolutions gives the same network output, for every network dasl builds."""

import pytest
import torch
from torch import nn

from dasl.nets.backbones import REGISTRY, build_regressor
from dasl.nets.fold import fold_batchnorm
from dasl.nets.landmark_net import LandmarkNet


def _randomised(net: nn.Module) -> nn.Module:
    """Batch-norm statistics and affine terms away from their identity defaults, and a non-zero head (a new
    regressor outputs zeros, which any folding would keep)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.2)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
            if isinstance(m, nn.Linear):
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * 0.05)
    return net.eval()


@pytest.mark.parametrize("name", ["mobilenet_v1_05", "mobilenet_v1", "resnet18", "mobilenet_v2"])
def test_folded_regressor_gives_the_same_output(name):
    net = _randomised(build_regressor(name, 4))
    x = torch.randn(2, 4, 120, 120, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = net(x)
        after = fold_batchnorm(net)(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())  # every pair was found
    assert before.abs().max() > 1e-3  # a real output, not zeros
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)


def test_folded_landmark_detector_gives_the_same_heatmaps():
    net = _randomised(LandmarkNet(32))
    x = torch.randn(2, 3, 120, 120, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = net(x)
        after = fold_batchnorm(net)(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_every_backbone_folds_to_the_same_output(name):
    """Every registered backbone, ResNet-50 included: no batch norm left, and the same output. (A fold that
    only deleted the batch norms would pass the first check and fail the second: shown below.)"""
    net = _randomised(build_regressor(name, 4))
    x = torch.randn(1, 4, 120, 120, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = net(x)
        after = fold_batchnorm(net)(x)
    assert not any(isinstance(m, nn.BatchNorm2d) for m in net.modules()), name
    torch.testing.assert_close(after, before, rtol=1e-3, atol=1e-3)


def test_a_fold_that_only_drops_batch_norm_is_caught():
    net = _randomised(build_regressor("mobilenet_v1_05", 4))
    x = torch.randn(1, 4, 120, 120, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        before = net(x)
        for module in list(net.modules()):
            for key, child in list(module.named_children()):
                if isinstance(child, nn.BatchNorm2d):
                    setattr(module, key, nn.Identity())
        after = net(x)
    assert (after - before).abs().max() > 1e-2


def test_every_shipped_network_folds_to_the_same_output():
    """The shipped regressors and landmark detector as they run (their trained weights): folded, the same
    outputs on a real crop."""
    from dasl.landmarkers.dasl_net import SHIPPED_FILE
    from dasl.nets.landmark_net import load_landmark_net
    from dasl.nets.model_file import load_model_file
    from dasl.paths import WEIGHTS_DIR
    from dasl.regressors.base import SHIPPED

    x = torch.randn(1, 4, 120, 120, generator=torch.Generator().manual_seed(2))
    for name, file in SHIPPED.items():
        state, meta = load_model_file(WEIGHTS_DIR / file)
        net = build_regressor(meta.backbone, meta.in_channels)
        net.load_state_dict(state)
        net.eval()
        with torch.no_grad():
            before = net(x)
            after = fold_batchnorm(net)(x)
        torch.testing.assert_close(after, before, rtol=1e-3, atol=1e-3, msg=name)
    detector = load_landmark_net(SHIPPED_FILE)[0].eval()
    with torch.no_grad():
        before = detector(x[:, :3])
        after = fold_batchnorm(detector)(x[:, :3])
    torch.testing.assert_close(after, before, rtol=1e-3, atol=1e-3)
