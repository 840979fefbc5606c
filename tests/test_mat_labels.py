import numpy as np
import pytest

from dasl.data.mat300wlp import (
    image_params_to_pose_para,
    label_to_crop_params,
    pose_para_to_image_params,
    read_mat,
)
from dasl.errors import BadInputError
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import crop_to_image, flip_y
from dasl.geometry.params import crop_to_image_params, image_to_crop_params


def test_ground_truth_mat_reproduces_its_pt3d_68(shared, bfm):
    """Pose_Para + truncated coefficients rebuild pt3d_68 (image frame, y_img = 450 + 1 - y)."""
    folder = shared.require("aflw2000_images")
    errors = []
    for name in ["image00002", "image00004", "image00006", "image00008", "image00010"]:
        label = read_mat(folder / f"{name}.mat")
        v = bfm.landmarks(pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para))
        v = flip_y(v, size=450)[0]
        gt = label.pt3d_68.T
        errors.append(nme(v[None], gt[None], box_size(gt[None]), dims=2)[0])
        assert np.abs((v[:, 2] - gt[:, 2]).mean()) < 1.0  # depth has no offset either
    assert np.mean(errors) < 1.2  # truncation to 40/10 coefficients costs about 0.8% NME


def test_pose_para_survives_the_conversion(aflw):
    labels = aflw.mat_labels[:50]
    pose = np.stack([m.pose_para for m in labels])
    params = pose_para_to_image_params(pose, np.zeros((50, 40)), np.zeros((50, 10)))
    back = image_params_to_pose_para(params)
    np.testing.assert_allclose(back[:, 3:], pose[:, 3:], rtol=1e-9)
    # some labels hold angles beyond +-180 degrees: the same rotation, compared as such
    again = pose_para_to_image_params(back, np.zeros((50, 40)), np.zeros((50, 10)))
    np.testing.assert_allclose(again, params, atol=1e-9)
    ordinary = (np.abs(pose[:, :3]) < np.pi / 2).all(1)
    assert ordinary.sum() > 40
    np.testing.assert_allclose(back[ordinary, :3], pose[ordinary, :3], atol=1e-9)


def test_crop_params_decode_to_the_same_image_points(aflw, bfm):
    """Converting parameters to the crop frame commutes with reconstruction + uncropping."""
    label, roi = aflw.mat_labels[3], aflw.roi[3]
    crop_p = label_to_crop_params(label, roi, 450)[None]
    via_crop = crop_to_image(flip_y(bfm.landmarks(crop_p)), roi[None])
    image_p = pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)
    direct = flip_y(bfm.landmarks(image_p), size=450)
    np.testing.assert_allclose(via_crop, direct, atol=1e-6)
    np.testing.assert_allclose(crop_to_image_params(crop_p, roi[None], 450), image_p, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(image_to_crop_params(image_p, roi[None], 450), crop_p, rtol=1e-9, atol=1e-9)


def test_read_mat_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.mat"
    bad.write_bytes(b"garbage")
    with pytest.raises(BadInputError, match="bad.mat"):
        read_mat(bad)
    import scipy.io

    partial = tmp_path / "partial.mat"
    scipy.io.savemat(partial, {"Pose_Para": np.zeros((1, 7))})
    with pytest.raises(BadInputError, match="missing Shape_Para, Exp_Para"):
        read_mat(partial)
