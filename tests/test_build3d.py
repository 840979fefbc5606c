"""``dasl data build-3d`` end to end on two photos: files, labels, resumption, and the training reader."""

import shutil

import numpy as np
import pytest

from dasl.builders.build3d import build_3d
from dasl.data.labelled3d import LABEL_FILE, Labelled3D
from dasl.data.mat300wlp import pose_para_to_image_params, read_mat
from dasl.eval import metrics
from dasl.geometry.frames import flip_y


@pytest.fixture(scope="module")
def built(tmp_path_factory, shared, bfm):
    src = tmp_path_factory.mktemp("landmarked")
    for folder, stem in (("helen_train", "100032540_1"), ("afw", "111076519_1")):
        for suffix in (".jpg", ".pts"):
            shutil.copy(shared.path("helen_afw") / folder / f"{stem}{suffix}", src / f"{stem}{suffix}")
    out = tmp_path_factory.mktemp("built")
    summary = build_3d(src, out, profiles=2, model=bfm, model_path=shared.require("bfm"), workers=1, progress=False)
    return src, out, summary


def test_outputs_in_the_300w_lp_layout(built, bfm):
    _, out, summary = built
    assert summary.photos == 2 and summary.views == 6
    assert len(list(out.glob("*.jpg"))) == 6 and len(list(out.glob("*.mat"))) == 6
    label = read_mat(out / "111076519_1_2.mat")
    assert label.pose_para.shape == (7,) and label.shape_para.shape == (199,) and label.exp_para.shape == (29,)
    assert label.pt2d.shape == (2, 68)
    assert (out / "contact_sheet.png").read_bytes()[:4] == b"\x89PNG"


def test_label_file_matches_the_mat_files_and_loads_for_training(built, bfm):
    _, out, _ = built
    labelled = Labelled3D.from_folder(out, bfm, progress=False)
    assert len(labelled) == 6
    for path, params in zip(labelled.paths, labelled.params, strict=True):
        label = read_mat(path.with_suffix(".mat"))
        np.testing.assert_allclose(
            pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)[0],
            params,
            rtol=1e-7,
            atol=1e-9,
        )
    # the same folder read as 300W-LP (no label file) gives the same labels
    (out / LABEL_FILE).rename(out / "saved.npz")
    try:
        as_300wlp = Labelled3D.from_folder(out, bfm, progress=False)
    finally:
        (out / "saved.npz").rename(out / LABEL_FILE)
    order = np.argsort([p.name for p in as_300wlp.paths])
    np.testing.assert_allclose(
        as_300wlp.params[order], labelled.params[np.argsort([p.name for p in labelled.paths])], rtol=1e-7, atol=1e-9
    )
    sample = labelled[5]
    assert sample.crop.shape == (120, 120, 3) and sample.params.shape == (62,)


def test_fitted_label_matches_the_annotation(built, bfm):
    src, out, _ = built
    from dasl.data.landmark_io import read_pts

    label = read_mat(out / "100032540_1_0.mat")
    params = pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)
    image_h = 379
    fitted = flip_y(bfm.landmarks(params), size=image_h)[0, :, :2]
    annotated = read_pts(src / "100032540_1.pts")
    assert metrics.nme(fitted[None], annotated[None], metrics.box_size(annotated[None]))[0] < 4.0


def test_rerun_keeps_finished_work(built, bfm, shared):
    src, out, _ = built
    stamps = {p: p.stat().st_mtime_ns for p in out.glob("*.jpg")}
    build_3d(src, out, profiles=2, model=bfm, model_path=shared.require("bfm"), workers=1, progress=False)
    assert {p: p.stat().st_mtime_ns for p in out.glob("*.jpg")} == stamps
