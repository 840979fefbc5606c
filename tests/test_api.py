"""The Python API: Face records, coordinates, crops, models by name and path."""

import json

import numpy as np
import pytest

from dasl.api import Reconstructor
from dasl.data.images import read_rgb
from dasl.errors import BadInputError, MissingFileError
from dasl.geometry.frames import flip_y


def test_reconstruct_given_boxes_gives_complete_faces(reconstructor, shared):
    image = read_rgb(shared.path("samples") / "trump_hillary.jpg")
    boxes = np.array([[250.0, 100.0, 450.0, 320.0], [1000.0, 150.0, 1200.0, 380.0]])
    faces = reconstructor.reconstruct(image, boxes=boxes)
    assert len(faces) == 2
    for face, box in zip(faces, boxes, strict=True):
        assert face.params.shape == (62,) and face.landmarks_2d.shape == (68, 2) and face.landmarks_3d.shape == (68, 3)
        assert face.vertices.shape == (53215, 3)
        centre = face.landmarks_2d.mean(0)
        assert box[0] - 100 < centre[0] < box[2] + 100 and box[1] - 100 < centre[1] < box[3] + 100
        record = json.loads(json.dumps(face.to_dict()))
        assert set(record) >= {"box", "params", "landmarks_2d", "landmarks_3d", "pose", "roi"}
        assert {"yaw", "pitch", "roll", "scale", "translation"} <= set(record["pose"])
        # the landmarks are the dense mesh's landmark vertices
        np.testing.assert_allclose(face.vertices[face.dense.keypoints], face.landmarks_3d, atol=1e-6)


def test_face_coordinates_are_zero_based_pixels(reconstructor):
    crops = np.random.default_rng(0).integers(0, 255, (2, 120, 120, 3), dtype=np.uint8)
    faces = reconstructor.predict_crops(crops)
    for face in faces:
        crop_frame = flip_y(face.morphable.landmarks(face.params[None]))[0]
        np.testing.assert_allclose(face.landmarks_3d[:, :2], crop_frame[:, :2] - 0.5, atol=1e-9)
        np.testing.assert_allclose(face.landmarks_3d[:, 2], crop_frame[:, 2], atol=1e-9)


def test_predict_crops_feeds_given_landmarks_to_the_map(reconstructor):
    """With landmarks the map holds them (one pass); without, the model's own (two passes)."""
    seen = []
    regressor = reconstructor.regressor
    plain = regressor.forward  # the network on one input batch, whichever the backend
    regressor.forward = lambda inputs: seen.append(inputs[:, 3].copy()) or plain(inputs)  # NumPy in and out
    try:
        crops = np.random.default_rng(1).integers(0, 255, (1, 120, 120, 3), dtype=np.uint8)
        reconstructor.predict_crops(crops)
        assert len(seen) == 2 and (seen[0] == -1).all() and (seen[1] == 1).sum() > 5
        seen.clear()
        given = np.zeros((1, 68, 2))
        given[0, :, 0], given[0, :, 1] = np.linspace(20, 100, 68), 50.0  # 0-based crop pixels
        reconstructor.predict_crops(crops, given)
        assert len(seen) == 1
        rows, cols = np.nonzero(seen[0][0] == 1)
        assert set(rows) == {50}  # y = 50 (0-based) is crop-frame 50.5: pixel row 50
    finally:
        del regressor.forward
    with pytest.raises(ValueError, match="uint8"):
        reconstructor.predict_crops(crops.astype(np.float32))


def test_unknown_or_missing_model_is_a_clear_error(shared, tmp_path):
    with pytest.raises(MissingFileError, match="nosuch.safetensors"):
        Reconstructor(model=tmp_path / "nosuch.safetensors", shared=shared)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"12345678")
    with pytest.raises(BadInputError, match="junk.safetensors"):
        Reconstructor(model=junk, shared=shared)


def test_peer_is_selectable_by_name(shared):
    rec = Reconstructor(model="3ddfa-v2-mb05", shared=shared)
    crops = np.full((1, 120, 120, 3), 128, np.uint8)
    face = rec.predict_crops(crops)[0]
    assert face.morphable.n_vertices == 68 and face.vertices.shape == (53215, 3)


@pytest.mark.parametrize("name, backbone", [("default", "mobilenet_v1"), ("dasl-resnet50", "resnet50")])
def test_every_shipped_model_loads_by_name_and_finds_the_landmarks(shared, aflw, name, backbone):
    """Both shipped models: their network, and 68 landmarks on five AFLW2000-3D crops near the ground
    truth (median NME below 5%; measured: dasl-light median 2.5, an untrained network 16.9; frame 300 is
    one of the benchmark's outliers, 47% for dasl-light)."""
    from dasl.eval.metrics import box_size, nme
    from dasl.geometry.frames import image_to_crop

    rec = Reconstructor(model=name, shared=shared)
    assert getattr(rec.regressor, "inner", rec.regressor).meta.backbone == backbone
    frames = [0, 7, 300, 1200, 1999]
    pred = np.stack([f.landmarks_2d for f in rec.predict_crops(aflw.stored_crops(frames))])
    gt = image_to_crop(aflw.landmarks_2d[frames], aflw.roi[frames]) - 0.5  # crop frame -> 0-based crop pixels
    errors = nme(pred, gt, box_size(gt))
    assert np.median(errors) < 5.0, errors
