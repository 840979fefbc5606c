"""Ray Data (--engine ray) on a local Ray of 2 CPUs: the same JSON as the local run, resumable, and the
Python entry on a Dataset of image arrays."""

import json
import shutil

import numpy as np
import pytest

ray = pytest.importorskip("ray")

from dasl.data.images import read_rgb  # noqa: E402
from dasl.pipeline import run  # noqa: E402
from dasl.scale import reconstruct_dataset, run_folder  # noqa: E402


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def photos(aflw, tmp_path_factory):
    folder = tmp_path_factory.mktemp("aflw")
    for i in (0, 400, 800, 1200):
        shutil.copy(aflw.shared.require("aflw2000_images") / aflw.names[i], folder / aflw.names[i])
    return folder


@pytest.fixture(scope="module")
def default(shared):
    from dasl.api import Reconstructor

    return Reconstructor(shared=shared)


def test_the_ray_run_writes_what_the_local_run_writes_and_resumes(local_ray, photos, default, tmp_path):
    local = run(default, [photos], tmp_path / "local", ["json"], progress=False, workers=1)
    report = run_folder(default, [photos], tmp_path / "ray", ["json"], workers=2)
    assert len(report.done) == len(local.done) == 4 and report.faces == local.faces
    for path in sorted((tmp_path / "local").glob("*.json")):
        a, b = json.loads(path.read_text()), json.loads((tmp_path / "ray" / path.name).read_text())
        assert len(a["faces"]) == len(b["faces"]) >= 1
        for x, y in zip(a["faces"], b["faces"], strict=True):
            np.testing.assert_allclose(x["landmarks_2d"], y["landmarks_2d"], atol=1e-3)
        assert a["made_with"] == b["made_with"]
    (tmp_path / "ray" / sorted(p.name for p in photos.iterdir())[0]).with_suffix(".json").unlink()
    again = run_folder(default, [photos], tmp_path / "ray", ["json"], workers=2)
    assert len(again.skipped) == 3 and len(again.done) == 1


def test_the_python_entry_takes_a_dataset_of_image_arrays(local_ray, photos, default):
    files = sorted(photos.iterdir())[:2]
    dataset = ray.data.from_items([{"name": f.name, "image": read_rgb(f)} for f in files])
    rows = reconstruct_dataset(dataset, default.settings, workers=1).take_all()
    assert [r["name"] for r in rows] == [f.name for f in files] and not any(r["error"] for r in rows)
    expected = default.reconstruct(files[0])[0].landmarks_2d
    np.testing.assert_allclose(json.loads(rows[0]["record"])["faces"][0]["landmarks_2d"], expected, atol=1e-3)
