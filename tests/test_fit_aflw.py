import numpy as np

from dasl.builders.fit_aflw import fit_aflw
from dasl.data.labelled3d import Labelled3D
from dasl.data.wild import Wild2D, aflw_chin
from dasl.geometry.frames import flip_y
from dasl.morphable.landmarks import CHIN_68, to_aflw18


def test_aflw_fits_load_as_3d_data_and_match_the_annotations(tmp_path, shared, bfm):
    summary = fit_aflw(shared.path("aflw_wild"), tmp_path / "fits", bfm, limit=48, progress=False)
    assert summary["faces"] + summary["implausible"] == 48 and summary["implausible"] <= 2
    labelled = Labelled3D.from_folder(tmp_path / "fits", bfm, progress=False)
    wild = Wild2D.from_aflw(shared.path("aflw_wild"))
    position = {p.name: i for i, p in enumerate(wild.paths)}
    errors = []
    for path, params in zip(labelled.paths, labelled.params, strict=True):
        assert path.is_file()
        i = position[path.name]
        # the label's 18 points as AFLW marks them, in the crop file's image frame, against AFLW's points
        # (crop frame + 0.5)
        marks = to_aflw18(flip_y(bfm.landmarks(params[None]), size=120)[0, :, :2])
        vis = wild.visible18[i]
        errors.append(np.linalg.norm(marks[vis] - (wild.points18[i][vis] + 0.5), axis=1).mean())
    assert np.median(errors) < 3.0  # crop pixels (faces are about 85 px)
    sample = labelled[0]
    assert sample.crop.shape == (120, 120, 3) and np.isfinite(sample.params).all()


def test_aflw_fits_place_the_chin_landmark_on_the_annotated_chin(tmp_path, shared, bfm):
    """AFLW's chin point is fitted as the 68-point chin landmark; without it the jaw is the 3DMM's guess."""
    folder = shared.path("aflw_wild")
    errors = {}
    for chin in (True, False):
        out = tmp_path / f"chin-{chin}"
        fit_aflw(folder, out, bfm, limit=48, progress=False, chin=chin)
        labelled = Labelled3D.from_folder(out, bfm, progress=False)
        points, visible = aflw_chin(folder, [p.name for p in labelled.paths])
        marks = flip_y(bfm.landmarks(labelled.params), size=120)[:, CHIN_68, :2]
        errors[chin] = np.linalg.norm(marks - (points + 0.5), axis=-1)[visible]
    assert len(errors[True]) > 40
    assert np.median(errors[True]) < 2.0 < np.median(errors[False])  # crop pixels (faces are about 85 px)
