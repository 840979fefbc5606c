"""Folder runs as a new user meets them: the output folder inside the input folder, inputs of one stem,
outputs of other settings, an output folder that cannot be written, re-runs with fewer faces, option
ranges, empty folders."""

import json
import shutil

import numpy as np
import pytest
from typer.testing import CliRunner

from dasl.errors import DaslError
from dasl.pipeline import OUTPUT_MARKER, collect_inputs, run


@pytest.fixture
def two_photos(shared, tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("prnet_0.jpg", "prnet_1.jpg"):
        shutil.copy(shared.path("samples") / name, folder / name)
    return folder


def test_a_folder_run_never_reads_its_own_outputs(reconstructor, two_photos):
    """`dasl reconstruct .` writes to ./dasl-out: reruns find the same two photos (the old behaviour read
    the overlays and depth maps as photos: 2 -> 8 -> 25 inputs)."""
    out = two_photos / "dasl-out"
    for _ in range(3):
        report = run(
            reconstructor, [two_photos], out, kinds=["json", "overlay", "depth"], progress=False, overwrite=True
        )
        assert report.inputs == 2 and len(report.done) == 2
    assert (out / OUTPUT_MARKER).is_file()
    assert not (out / "dasl-out").exists()
    # another output folder of dasl's inside the photos is left out too, by its marker
    shutil.copytree(out, two_photos / "old-results")
    assert len(collect_inputs([two_photos], two_photos / "elsewhere")) == 2


def test_inputs_of_one_stem_keep_their_suffix(reconstructor, two_photos):
    shutil.copy(two_photos / "prnet_0.jpg", two_photos / "prnet_0.png")
    stems = {p.name: str(s) for p, s in collect_inputs([two_photos])}
    assert stems == {"prnet_0.jpg": "prnet_0.jpg", "prnet_0.png": "prnet_0.png", "prnet_1.jpg": "prnet_1"}
    out = two_photos.parent / "out"
    report = run(reconstructor, [two_photos], out, kinds=["json"], progress=False)
    assert len(report.done) == 3 and not report.skipped
    assert {p.name for p in out.glob("*.json")} == {"prnet_0.jpg.json", "prnet_0.png.json", "prnet_1.json"}


def test_a_rerun_with_other_outputs_says_what_is_missing(reconstructor, two_photos):
    out = two_photos.parent / "out"
    run(reconstructor, [two_photos], out, kinds=["json"], progress=False)
    record = json.loads((out / "prnet_0.json").read_text())
    assert record["made_with"]["outputs"] == ["json"] and record["made_with"]["detector"] == "mtcnn"
    again = run(reconstructor, [two_photos], out, kinds=["json", "overlay"], progress=False)
    assert not again.done and len(again.stale) == 2 and "made without overlay" in again.stale[0][1]
    same = run(reconstructor, [two_photos], out, kinds=["json"], progress=False)
    assert len(same.skipped) == 2 and not same.stale


def test_overwrite_with_fewer_faces_removes_the_extra_faces_files(reconstructor, two_photos):
    out = two_photos.parent / "out"
    run(reconstructor, [two_photos / "prnet_0.jpg"], out, kinds=["json", "ply"], progress=False)
    assert (out / "prnet_0_face0.ply").is_file()
    (out / "prnet_0_face7.ply").write_text("left by a run that found eight faces")
    (out / "prnet_0_face7.obj").write_text("left by a run that found eight faces")
    run(reconstructor, [two_photos / "prnet_0.jpg"], out, kinds=["json", "ply"], progress=False, overwrite=True)
    assert (out / "prnet_0_face0.ply").is_file()
    assert not list(out.glob("prnet_0_face7*"))


def test_an_output_folder_that_cannot_be_made_is_named_before_any_work(reconstructor, two_photos):
    """Its parent is a file (a read-only folder gives the same error, but the tests run as root here, which
    writes anyway)."""
    blocker = two_photos.parent / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(DaslError, match="cannot use the output folder .*a-file"):
        run(reconstructor, [two_photos], blocker / "out", progress=False)


def test_a_full_disk_stops_the_run_and_leaves_no_half_photo(reconstructor, two_photos, monkeypatch):
    """A write that fails with ENOSPC (the disk full) on the first photo's JSON: the run stops with the reason,
    and none of that photo's files stay (its overlay was written first)."""
    import errno

    from dasl import pipeline

    real = pipeline.write_json

    def full(target, data):
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(pipeline, "write_json", full)
    out = two_photos.parent / "out"
    report = run(reconstructor, [two_photos], out, kinds=["json", "overlay"], progress=False, workers=1)
    assert report.stopped and "No space left" in report.stopped and len(report.failed) == 1
    assert not [p for p in out.iterdir() if p.name != OUTPUT_MARKER]  # no overlay without its JSON
    monkeypatch.setattr(pipeline, "write_json", real)
    assert len(run(reconstructor, [two_photos], out, kinds=["json"], progress=False).done) == 2


def test_options_out_of_range_are_usage_errors(tiny_model, two_photos, tmp_path):
    from dasl.cli import app

    runner = CliRunner()
    for option, value in (("--smooth", "0"), ("--smooth", "-1"), ("--smooth", "nan"), ("--detect-every", "0")):
        result = runner.invoke(app, ["reconstruct", str(two_photos), "-m", str(tiny_model), option, value])
        assert result.exit_code == 2 and option in result.output, (option, value, result.output)
    result = runner.invoke(app, ["view", str(tmp_path / "x.obj"), "--size", "0"])
    assert result.exit_code == 2 and "--size" in result.output


def test_a_tracker_refuses_settings_out_of_range(reconstructor):
    from dasl.tracking import FaceTracker

    for options in ({"smooth": 0.0}, {"smooth": float("nan")}, {"smooth": 1.5}, {"detect_every": 0}):
        with pytest.raises(DaslError):
            FaceTracker(reconstructor, **options)


def test_an_empty_folder_is_said_to_be_empty(tiny_model, tmp_path):
    from dasl.cli import app

    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "notes.txt").write_text("no photos here")
    result = CliRunner().invoke(
        app, ["reconstruct", str(tmp_path / "empty"), "-m", str(tiny_model), "-o", str(tmp_path / "o")]
    )
    assert result.exit_code == 0 and "no photos or videos found" in result.output


def test_a_gif_in_a_folder_is_read_as_when_named(reconstructor, shared, tmp_path):
    from PIL import Image

    folder = tmp_path / "gifs"
    folder.mkdir()
    Image.open(shared.path("samples") / "prnet_0.jpg").save(folder / "face.gif")
    assert [p.name for p, _ in collect_inputs([folder])] == ["face.gif"]
    report = run(reconstructor, [folder], tmp_path / "out", kinds=["json"], progress=False)
    assert [p.name for p in report.done] == ["face.gif"] and report.faces >= 1
    assert np.isfinite(json.loads((tmp_path / "out" / "face.json").read_text())["faces"][0]["params"]).all()
