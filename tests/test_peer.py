import numpy as np
import pytest
import torch

from dasl.errors import BadInputError
from dasl.nets.mobilenet_v1 import MobileNetV1
from dasl.regressors.peer_3ddfa_v2 import Peer3DDFAv2, load_peer_network


def test_mobilenet_shapes():
    net = MobileNetV1(width=0.5, in_channels=4).eval()
    assert net(torch.zeros(2, 4, 120, 120)).shape == (2, 62)
    assert net.feature_channels == 512


def test_peer_weights_load_and_predict_plausible_pose(shared, aflw):
    peer = Peer3DDFAv2(shared)
    params = peer.predict(aflw.stored_crops([0, 1]))
    assert params.shape == (2, 62) and np.isfinite(params).all()
    from dasl.morphable.pose import decompose

    yaw = decompose(params).angles[:, 0]
    np.testing.assert_allclose(np.abs(yaw), np.abs(aflw.pose_deg[:2, 0]), atol=15)


def test_peer_rejects_foreign_weights(tmp_path):
    path = tmp_path / "w.pth"
    torch.save({"state_dict": {"module.foo": torch.zeros(1)}}, path)
    with pytest.raises(BadInputError, match="not a 3DDFA_V2"):
        load_peer_network(path)
