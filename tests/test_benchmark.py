"""The AFLW2000-3D harness reproduces known figures: the peer's published-by-README bins, the oracle."""

import json

import numpy as np
import pytest

from dasl.eval import aflw2000 as bench
from dasl.eval.candidates import make_candidate
from dasl.eval.metrics import box_size, nme
from dasl.morphable.landmarks import to_aflw18

PEER_BINS = {"0-30": 2.94, "30-60": 3.86, "60-90": 5.00, "mean": 3.93}
#: the shipped models' figures as published in the README and docs/models.md: the default configuration
#: (dasl-light on the map of dasl-landmarks mirror-averaged, fitted to its landmarks; the README's headline
#: row), dasl-light on its own map, and mirror-averaged (the default before the fit)
DEFAULT_BINS = {"0-30": 2.52, "30-60": 3.22, "60-90": 4.19, "mean": 3.31}
LIGHT_BINS = {"0-30": 3.75, "30-60": 5.34, "60-90": 6.95, "mean": 5.34}
LIGHT_FLIP_BINS = {"0-30": 3.54, "30-60": 5.08, "60-90": 6.75, "mean": 5.12}


@pytest.fixture(scope="module")
def results(shared, bfm, aflw):
    names = ["oracle", "mean-shape", "3ddfa-v2-mb05", "default", "dasl-light", "dasl-light+flip"]
    candidates = [make_candidate(n, bfm, shared) for n in names]
    settings = bench.Settings(metrics=("2d", "3d", "pose", "human"))
    return {r.name: r for r in bench.run(candidates, aflw, settings, bfm)}


def test_peer_reproduces_its_known_nme(results):
    summary = results["3ddfa-v2-mb05"].summary["nme_2d"]
    for key, value in PEER_BINS.items():
        assert abs(summary[key] - value) < 0.03, (key, summary[key])
    assert summary["count"] == {"0-30": 1312, "30-60": 383, "60-90": 305}


@pytest.mark.parametrize(
    "name, bins",
    [("dasl-light+fit+detflip", DEFAULT_BINS), ("dasl-light", LIGHT_BINS), ("dasl-light+flip", LIGHT_FLIP_BINS)],
)
def test_shipped_default_model_holds_its_published_nme(results, name, bins):
    summary = results[name].summary["nme_2d"]
    for key, value in bins.items():
        assert abs(summary[key] - value) < 0.03, (key, summary[key])


def test_the_peer_in_its_own_pixel_frame_reproduces_its_published_figure(shared, bfm, aflw):
    """3DDFA_V2 reads crop landmarks one pixel up and left of dasl's frame: its mean NME there is 3.80
    (2.93 / 3.67 / 4.79; published elsewhere as 3.798), against 3.93 in dasl's frame."""
    settings = bench.Settings(metrics=("2d",), frame="3ddfa-v2")
    summary = bench.run([make_candidate("3ddfa-v2-mb05", bfm, shared)], aflw, settings, bfm)[0].summary["nme_2d"]
    for key, value in {"0-30": 2.93, "30-60": 3.67, "60-90": 4.79, "mean": 3.80}.items():
        assert abs(summary[key] - value) < 0.03, (key, summary[key])


def test_oracle_and_mean_shape_bracket_the_peer(results):
    oracle = results["oracle"].summary
    assert oracle["nme_2d"]["mean"] < 1.0
    assert oracle["pose"]["mean"] < 1e-6
    assert oracle["pose"]["rotation"] < 1e-4  # the ground-truth rotation rebuilt from Pose_Para's angles
    mean_shape = results["mean-shape"].summary["nme_2d"]["mean"]
    assert oracle["nme_2d"]["mean"] < mean_shape < results["3ddfa-v2-mb05"].summary["nme_2d"]["mean"]


def test_peer_pose_error_is_plausible(results):
    pose = results["3ddfa-v2-mb05"].summary["pose"]
    assert pose["count"] == 1969  # images with all angles within [-99, 99] degrees
    assert 1.0 < pose["mean"] < 6.0


def test_dense_metric_is_zero_for_oracle_and_positive_for_mean_shape(shared, bfm, aflw):
    from dasl.data.aflw2000 import AFLW2000

    small = AFLW2000.load(shared)
    keep = np.arange(0, 2000, 100)
    for attr in ("names",):
        setattr(small, attr, [small.names[i] for i in keep])
    small.index, small.roi, small.yaw = small.index[keep], small.roi[keep], small.yaw[keep]
    small.landmarks_3d, small.landmarks_2d = small.landmarks_3d[keep], small.landmarks_2d[keep]
    settings = bench.Settings(metrics=("dense",))
    out = bench.run([make_candidate(n, bfm, shared) for n in ("oracle", "mean-shape")], small, settings, bfm)
    assert out[0].per_image["dense_2d"].max() < 1e-3
    assert 1.0 < out[1].summary["dense_2d"]["all"] < 4.0


def test_cli_writes_table_json_and_plot(tmp_path, shared):
    from typer.testing import CliRunner

    from dasl.cli import app

    result = CliRunner().invoke(
        app,
        [
            "benchmark",
            "aflw2000",
            "-m",
            "oracle",
            "-m",
            "mean-shape",
            "--metric",
            "2d",
            "--out",
            str(tmp_path),
            "--shared",
            str(shared.root),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "oracle" in result.output and "0-30" in result.output
    report = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert set(report["models"]) == {"oracle", "mean-shape"}
    assert len(report["models"]["oracle"]["per_image"]["nme_2d"]) == 2000
    png = next(tmp_path.glob("*_edc.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob(".*part*"))  # no temporary files left behind


def test_people_annotations_score_landmarks_against_points_a_person_placed(results, aflw):
    """``--metric human``: the 18 points AFLW annotates (read from the 68 as AFLW marks them, the mouth centre
    on the lips) against AFLW's own annotated points of the photos (visible ones). The benchmark's 68-point
    labels are a 3DMM fit: they are themselves 2.63% from the people's points (2.85 at 60-90 degrees); the
    ground-truth fit truncated to 40/10 ("oracle") scores 3.03 mean of bins, the mean shape at the true
    pose 3.91."""
    points, visible = aflw.human_points
    assert points.shape == (2000, 18, 2) and abs(visible.mean() - 0.816) < 0.001
    assert np.isnan(points[~visible]).all() and not np.isnan(points[visible]).any()
    own = nme(to_aflw18(aflw.landmarks_2d), points, box_size(aflw.landmarks_2d), visible=visible)
    assert abs(own.mean() - 2.63) < 0.01
    oracle, mean_shape = results["oracle"].summary["nme_human"], results["mean-shape"].summary["nme_human"]
    assert abs(oracle["mean"] - 3.03) < 0.01 and abs(mean_shape["mean"] - 3.91) < 0.01
    assert oracle["60-90"] < mean_shape["60-90"]


@pytest.mark.parametrize("metric", ["2d", "3d", "pose", "dense", "human"])
def test_every_metric_alone_works(tmp_path, shared, metric):
    """``--metric pose`` alone ended in a ZeroDivisionError (no error curve to plot); each metric alone now
    gives its table and JSON, and a plot where there is an NME to plot."""
    from typer.testing import CliRunner

    from dasl.cli import app

    args = ["benchmark", "aflw2000", "-m", "mean-shape", "--metric", metric, "--out", str(tmp_path)]
    result = CliRunner().invoke(app, [*args, "--shared", str(shared.root)])
    assert result.exit_code == 0, result.output
    assert "mean-shape" in result.output and json.loads(next(tmp_path.glob("*.json")).read_text())["models"]
    assert bool(list(tmp_path.glob("*_edc.png"))) == (metric != "pose")
