"""``dasl data label-wild``: dlib landmarks for in-the-wild crops, loadable for training, checked against
AFLW's own points."""

import shutil

import numpy as np

from dasl.builders.label_wild import label_wild
from dasl.data.wild import Wild2D
from dasl.eval.wild_labels import aflw_agreement


def test_label_wild_writes_a_loadable_file_close_to_aflw_points(tmp_path, shared):
    crops = tmp_path / "crops"
    crops.mkdir()
    ann = np.load(shared.path("aflw_wild") / "annotations.npz")
    frontal = np.nonzero(np.abs(ann["yaw_deg"]) < 20)[0][:8]
    for i in frontal:
        shutil.copy(shared.path("aflw_wild") / "crops" / str(ann["names"][i]), crops)
    out = label_wild(tmp_path, tmp_path / "labels" / "dlib68.npz", progress=False)
    data = np.load(out)
    assert data["points"].shape == (8, 68, 2) and str(data["root"]) == "../crops"
    wild = Wild2D.from_landmark_file(out)
    assert len(wild) == int(data["visible"][:, 0].sum()) >= 6
    assert np.isnan(wild.rois).all()  # 120x120 crops are used as they are
    sample = wild[0]
    assert sample.crop.shape == (120, 120, 3) and sample.visible18.all()
    agreement = aflw_agreement(out, shared.path("aflw_wild"))
    assert agreement["found"] == len(wild) and agreement["median"] < 10.0
