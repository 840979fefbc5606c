"""Shared fixtures. Real data comes from ../shared; under CI=true a test that needs it fails instead of
skipping when it is missing."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from dasl.errors import MissingFileError
from dasl.paths import SharedData

torch.set_num_threads(1)


@pytest.fixture(scope="session")
def shared() -> SharedData:
    try:
        return SharedData.find()
    except MissingFileError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"shared data missing under CI: {exc}")
        pytest.skip(f"shared data not available: {exc}")


@pytest.fixture(scope="session")
def bfm(shared):
    from dasl.morphable.model import load_bfm

    return load_bfm(shared)


@pytest.fixture(scope="session")
def aflw(shared):
    from dasl.data.aflw2000 import AFLW2000

    return AFLW2000.load(shared)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)


def random_params(rng: np.random.Generator, n: int, bfm) -> np.ndarray:
    """Plausible parameters: the 3DMM's statistics plus noise, as float64."""
    return (bfm.param_mean + rng.standard_normal((n, 62)) * bfm.param_std * 0.5).astype(np.float64)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory, bfm):
    """An untrained 4-channel MobileNetV1x0.5 as a dasl model file (tests of formats, not of accuracy)."""
    from dasl.nets.backbones import build_regressor
    from dasl.nets.model_file import ModelMeta, save_model_file

    torch.manual_seed(0)
    net = build_regressor("mobilenet_v1_05", 4)
    with torch.no_grad():  # a non-zero head and settled batch-norm statistics: outputs depend on the input
        net.fc_param.weight.normal_(0, 0.05)
        net.train()
        for _ in range(5):
            net(torch.randn(8, 4, 120, 120))
    meta = ModelMeta.for_network("mobilenet_v1_05", True, bfm.param_mean, bfm.param_std, name="tiny")
    return save_model_file(tmp_path_factory.mktemp("model") / "tiny.safetensors", net.state_dict(), meta)


@pytest.fixture(scope="session")
def reconstructor(tiny_model, shared):
    from dasl.api import Reconstructor

    return Reconstructor(model=tiny_model, flip=False, shared=shared)  # one network pass per call
