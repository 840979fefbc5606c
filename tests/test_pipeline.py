"""``dasl reconstruct``: every output format reloaded and checked, folders resumed, videos, bad input."""

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest
import trimesh
from PIL import Image

from dasl.pipeline import run

FACE_VERTICES = 38365


@pytest.fixture(scope="module")
def photo(shared, tmp_path_factory):
    folder = tmp_path_factory.mktemp("photos")
    shutil.copy(shared.path("samples") / "prnet_trump.jpg", folder / "one.jpg")
    return folder / "one.jpg"


@pytest.fixture(scope="module")
def outputs(reconstructor, photo, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    report = run(reconstructor, [photo], out, progress=False)
    assert report.done == [photo] and report.faces >= 1
    return out


def test_json_record(outputs, photo):
    record = json.loads((outputs / "one.json").read_text())
    h, w = cv2.imread(str(photo)).shape[:2]
    assert (record["height"], record["width"]) == (h, w)
    face = record["faces"][0]
    assert np.array(face["landmarks_2d"]).shape == (68, 2) and len(face["params"]) == 62
    marks = np.array(face["landmarks_2d"])  # 0-based pixels: inside the crop they were found in
    sx, sy, ex, ey = face["roi"]  # image frame (1-based)
    assert (marks[:, 0] >= sx - 1).all() and (marks[:, 0] <= ex - 1).all(), (marks.min(0), face["roi"])
    assert (marks[:, 1] >= sy - 1).all() and (marks[:, 1] <= ey - 1).all()
    assert (np.ptp(marks, axis=0) > 0.2 * (ex - sx)).all()  # a face's spread, not a point


def test_obj_with_material_and_texture_reloads(outputs):
    mesh = trimesh.load(outputs / "one_face0.obj", process=False)
    assert len(mesh.vertices) == FACE_VERTICES and len(mesh.faces) == 76073
    assert mesh.visual.uv.shape == (FACE_VERTICES, 2)
    texture = np.asarray(mesh.visual.material.image)
    assert texture.shape[:2] == (512, 512) and texture.std() > 5  # sampled from the photo, not blank
    record = json.loads((outputs / "one.json").read_text())
    marks = np.array(record["faces"][0]["landmarks_3d"])
    assert np.abs(mesh.vertices.mean(0)[:2] - marks.mean(0)[:2]).max() < 40  # the mesh lies on the face


def test_textured_view_of_a_written_obj(tmp_path):
    """A square whose texture is red on the left, blue on the right, written and drawn back from the file."""
    from dasl.export.images import render_obj
    from dasl.export.mesh import write_obj

    vertices = np.array([[0, 0, 0], [100, 0, 0], [100, 100, 0], [0, 100, 0]], float)  # pixels, y down
    uv = np.array([[0, 1], [1, 1], [1, 0], [0, 0]], float)  # v up: the image's top row at v = 1
    texture = np.zeros((64, 64, 3), np.uint8)
    texture[:, :32] = (255, 0, 0)
    texture[:, 32:] = (0, 0, 255)
    write_obj(tmp_path / "square.obj", vertices, np.array([[0, 1, 2], [0, 2, 3]]), uv, texture)
    picture = render_obj(tmp_path / "square.obj", yaws=[0.0, 40.0], size=100)
    assert picture.shape == (100, 200, 3)
    front = picture[:, :100].astype(int)
    assert np.abs(front[50, 15] - (255, 0, 0)).max() < 10  # left half red (facing the camera: unshaded)
    assert np.abs(front[50, 85] - (0, 0, 255)).max() < 10
    turned = picture[:, 100:]
    assert (turned == 255).all(-1).mean() > (picture[:, :100] == 255).all(-1).mean()  # narrower when turned


def test_view_of_a_reconstructed_mesh_and_bad_mesh_files(outputs, tmp_path):
    from dasl.export.images import render_obj

    picture = render_obj(outputs / "one_face0.obj", yaws=[0.0], size=120)
    assert 0.3 < (picture != 255).any(-1).mean() < 0.95  # the face fills much of the view, on white
    (tmp_path / "bad.obj").write_text("this is not a mesh")
    with pytest.raises(ValueError, match="bad.obj"):
        render_obj(tmp_path / "bad.obj")
    with pytest.raises(FileNotFoundError, match="missing.obj"):
        render_obj(tmp_path / "missing.obj")


def test_ply_with_vertex_colours_reloads(outputs):
    mesh = trimesh.load(outputs / "one_face0.ply", process=False)
    assert len(mesh.vertices) == FACE_VERTICES and len(mesh.faces) == 76073
    colours = np.asarray(mesh.visual.vertex_colors)[:, :3]
    assert colours.std() > 5
    obj = trimesh.load(outputs / "one_face0.obj", process=False)
    np.testing.assert_allclose(mesh.vertices, obj.vertices, atol=1e-3)


def test_overlay_and_depth_pictures(outputs, photo):
    h, w = cv2.imread(str(photo)).shape[:2]
    overlay = cv2.imread(str(outputs / "one_overlay.png"))
    assert overlay.shape == (h, w, 3)
    original = cv2.imread(str(photo)).astype(int)
    assert (np.abs(overlay.astype(int) - original).sum(-1) > 30).mean() > 0.02  # something was drawn
    depth = cv2.imread(str(outputs / "one_depth.png"), cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16 and depth.shape == (h, w)
    assert 0.02 < (depth > 0).mean() < 0.9 and depth.max() == 65535


def test_folder_run_resumes(reconstructor, shared, tmp_path):
    folder = tmp_path / "in" / "sub"
    folder.mkdir(parents=True)
    for name in ("prnet_0.jpg", "prnet_1.jpg"):
        shutil.copy(shared.path("samples") / name, folder / name)
    out = tmp_path / "out"
    first = run(reconstructor, [tmp_path / "in"], out, kinds=["json"], progress=False)
    assert len(first.done) == 2 and (out / "sub" / "prnet_0.json").is_file()
    again = run(reconstructor, [tmp_path / "in"], out, kinds=["json"], progress=False)
    assert len(again.done) == 0 and len(again.skipped) == 2
    (out / "sub" / "prnet_1.json").unlink()
    third = run(reconstructor, [tmp_path / "in"], out, kinds=["json"], progress=False)
    assert [p.name for p in third.done] == ["prnet_1.jpg"]


def _noisy_clip(shared, path, frames=12):
    """A still photo with fresh noise on every frame: the face does not move, its landmarks jitter."""
    frame = cv2.imread(str(shared.path("samples") / "prnet_trump.jpg"))
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (frame.shape[1], frame.shape[0]))
    for _ in range(frames):
        writer.write(np.clip(frame + rng.normal(0, 12, frame.shape), 0, 255).astype(np.uint8))
    writer.release()
    return path


def _jitter(jsonl):
    """Mean frame-to-frame motion of the first face's landmarks (pixels): all jitter, the face is still."""
    marks = [np.array(json.loads(line)["faces"][0]["landmarks_2d"]) for line in jsonl.read_text().splitlines()]
    return float(np.mean([np.linalg.norm(b - a, axis=-1).mean() for a, b in zip(marks, marks[1:], strict=False)]))


def test_video_frames_and_smoothing(shared, tmp_path):
    """Every frame in the JSON lines and the overlay video; smoothing (weight 0.3 for the new frame) cuts
    the default's frame-to-frame jitter of the landmarks on a still face to under 0.6 of the unsmoothed
    run's (measured: 0.73 -> 0.19 px; with smoothing off the second run is 0.73 again and fails)."""
    from dasl.api import Reconstructor

    reconstructor = Reconstructor(shared=shared)
    video = _noisy_clip(shared, tmp_path / "clip.mp4")
    out = tmp_path / "out"
    report = run(reconstructor, [video], out, progress=False, smooth=1.0)
    assert report.done == [video]
    lines = (out / "clip.jsonl").read_text().splitlines()
    assert len(lines) == 12 and all(json.loads(line)["faces"] for line in lines)
    capture = cv2.VideoCapture(str(out / "clip_overlay.mp4"))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 12
    raw = _jitter(out / "clip.jsonl")
    run(reconstructor, [video], tmp_path / "smooth", kinds=["json"], progress=False, smooth=0.3)
    smoothed = _jitter(tmp_path / "smooth" / "clip.jsonl")
    assert raw > 0.05 and smoothed < 0.6 * raw, (raw, smoothed)


# ---------------------------------------------------------------------- bad input
def _bad_inputs(folder, shared):
    """Every kind of awkward input; returns the ones that must fail."""
    (folder / "text.jpg").write_text("this is not an image")
    (folder / "empty.jpg").write_bytes(b"")
    data = (shared.path("samples") / "prnet_0.jpg").read_bytes()
    (folder / "truncated.jpg").write_bytes(data[: len(data) // 2])
    sample = Image.open(shared.path("samples") / "prnet_1.jpg")
    sample.convert("L").save(folder / "grey.png")
    sample.convert("RGBA").save(folder / "rgba.png")
    deep = (np.asarray(sample.convert("L"), dtype=np.uint16) * 257).astype(np.uint16)
    Image.fromarray(deep).save(folder / "deep16.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to view
    sample.rotate(90, expand=True).save(folder / "rotated.jpg", exif=exif)
    Image.new("RGB", (300, 200), (90, 140, 200)).save(folder / "noface.jpg")
    return ["empty.jpg", "text.jpg", "truncated.jpg"]


def test_bad_inputs_are_reported_and_leave_no_partial_files(reconstructor, shared, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    must_fail = _bad_inputs(folder, shared)
    out = tmp_path / "out"
    report = run(reconstructor, [folder], out, progress=False)
    assert sorted(p.name for p, _ in report.failed) == must_fail
    reasons = {p.name: why for p, why in report.failed}
    assert "empty" in reasons["empty.jpg"] and "not an image" in reasons["text.jpg"]
    assert "truncated" in reasons["truncated.jpg"]
    for name in must_fail:
        assert name in reasons[name]  # the message names the file
        assert not list(out.glob(f"{name[:-4]}*"))  # nothing written for a failed input
    assert not list(out.rglob("*.part*"))
    done = sorted(p.name for p in report.done)
    assert done == ["deep16.png", "grey.png", "noface.jpg", "rgba.png", "rotated.jpg"]
    assert [p.name for p in report.no_face] == ["noface.jpg"]
    assert json.loads((out / "noface.json").read_text())["faces"] == []
    rotated = json.loads((out / "rotated.json").read_text())
    original = Image.open(shared.path("samples") / "prnet_1.jpg")
    assert (rotated["width"], rotated["height"]) == original.size  # EXIF orientation applied
    assert rotated["faces"]


def test_huge_photo_is_handled(reconstructor, tmp_path):
    big = tmp_path / "big.jpg"
    Image.new("RGB", (12000, 12000), (120, 110, 100)).save(big, quality=50)
    report = run(reconstructor, [big], tmp_path / "out", kinds=["json", "overlay"], progress=False)
    assert report.done == [big] and report.no_face == [big]
    overlay = cv2.imread(str(tmp_path / "out" / "big_overlay.png"))
    assert max(overlay.shape[:2]) == 4096


def test_many_faces(reconstructor, shared, tmp_path):
    """The two-face sample: exactly its two faces (a false third face would fail)."""
    report = run(
        reconstructor, [shared.path("samples") / "trump_hillary.jpg"], tmp_path, kinds=["json"], progress=False
    )
    assert report.faces == 2


def test_cli_exit_codes_and_messages(tiny_model, shared, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("nope")
    good = tmp_path / "good.jpg"
    shutil.copy(shared.path("samples") / "prnet_0.jpg", good)
    base = [sys.executable, "-m", "dasl", "reconstruct", "--shared", str(shared.root), "--outputs", "json"]
    proc = subprocess.run(
        [*base, str(bad), str(good), "--model", str(tiny_model), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1 and "bad.jpg" in proc.stderr and "Traceback" not in proc.stderr
    assert (tmp_path / "o" / "good.json").is_file()
    proc = subprocess.run(
        [*base, str(good), "--model", str(tmp_path / "missing.safetensors"), "--out", str(tmp_path / "p")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "missing.safetensors" in proc.stderr and "Traceback" not in proc.stderr
    proc = subprocess.run(
        [*base, str(tmp_path / "nothere.jpg"), "--model", str(tiny_model), "--out", str(tmp_path / "q")],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2 and "nothere.jpg" in proc.stderr


def test_reconstruct_on_the_default_model_does_not_import_torch(shared, tmp_path):
    """Once dasl's networks are exported to ONNX (by any earlier run; the load here makes sure), `dasl
    reconstruct` on the default model runs without PyTorch, whose import is most of the start-up time."""
    from dasl.stages import load_stages

    load_stages("default", shared)  # exports into the cache if it is not there yet
    photo = shared.path("samples") / "prnet_0.jpg"
    code = (
        "import sys\nfrom dasl.cli import app\n"
        "try:\n    app(sys.argv[1:])\nexcept SystemExit as exc:\n    assert exc.code == 0, exc.code\n"
        "print('torch' in sys.modules)"
    )
    args = ["reconstruct", str(photo), "--shared", str(shared.root), "--outputs", "json", "--out", str(tmp_path)]
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False", proc.stdout
    assert json.loads((tmp_path / "prnet_0.json").read_text())["faces"]


def test_glb_reloads_with_texture_colours_and_expression_targets(outputs, reconstructor, photo):
    """The binary glTF of a face: trimesh reads the mesh's vertex and face counts and its texture; its
    vertices are the OBJ's in glTF's frame (the node's record gives the way back); the 10 expression bases
    are named morph targets, and the base plus a target is the face with that coefficient one standard
    deviation higher."""
    import struct

    from dasl.data.images import read_rgb
    from dasl.export.mesh import gltf_frame

    path = outputs / "one_face0.glb"
    scene = trimesh.load(path, process=False)
    mesh = next(iter(scene.geometry.values()))
    assert len(mesh.vertices) == FACE_VERTICES and len(mesh.faces) == 76073
    texture = np.asarray(mesh.visual.material.baseColorTexture)
    assert texture.shape[:2] == (512, 512) and texture.std() > 5
    obj = trimesh.load(outputs / "one_face0.obj", process=False)
    np.testing.assert_allclose(mesh.vertices, gltf_frame(obj.vertices)[0], atol=1e-4)
    data = path.read_bytes()
    document = json.loads(data[20 : 20 + struct.unpack_from("<I", data, 12)[0]])
    assert document["meshes"][0]["extras"]["targetNames"] == [f"expression_{k}" for k in range(10)]
    primitive = document["meshes"][0]["primitives"][0]
    assert len(primitive["targets"]) == 10 and "COLOR_0" in primitive["attributes"]
    assert document["materials"][0]["pbrMetallicRoughness"]["baseColorFactor"] == [1.0, 1.0, 1.0, 1.0]
    face = reconstructor.reconstruct(read_rgb(photo))[0]
    moved = face.expression_targets()
    assert np.abs(moved).max() > 1.0  # an expression moves the mesh by pixels
    target = np.frombuffer(
        data,
        np.float32,
        FACE_VERTICES * 3,
        20
        + struct.unpack_from("<I", data, 12)[0]
        + 8
        + document["bufferViews"][document["accessors"][primitive["targets"][3]["POSITION"]]["bufferView"]][
            "byteOffset"
        ],
    ).reshape(-1, 3)
    expected = moved[3] * 0.001
    expected[:, 1] *= -1
    np.testing.assert_allclose(target, expected, atol=1e-4)
