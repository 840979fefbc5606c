import cv2
import numpy as np
import pytest

from conftest import random_params
from dasl.data.sample import Sample
from dasl.geometry.frames import flip_y
from dasl.morphable.landmarks import FLIP_68, to_subset18
from dasl.morphable.pose import compose_affine, rotation_from_euler
from dasl.morphable.symmetry import mirror_of
from dasl.train.augment import AugmentConfig, AugmentedDataset, mirror_sample, zoom_shift_sample


def _face_sample(bfm, rng) -> tuple[Sample, np.ndarray]:
    p = random_params(rng, 1, bfm)[0]
    rotation = rotation_from_euler(rng.uniform(-40, 40, (1, 3)))
    p[:12] = compose_affine(np.array([5e-4]), rotation, np.array([[60.0, 65.0, 0.0]]) + rng.uniform(-5, 5, 3))[0]
    lm = flip_y(bfm.landmarks(p[None]))[0]
    crop = np.zeros((120, 120, 3), np.uint8)
    for x, y in lm[:, :2]:  # a white dot on every landmark's pixel
        crop[int(np.floor(y)), int(np.floor(x))] = 255
    return Sample(crop, to_subset18(lm[None, :, :2])[0], np.ones(18, bool), p), lm


def test_mirrored_parameters_land_on_the_mirrored_image_landmarks(bfm, rng):
    mirror = mirror_of(bfm)
    errors = []
    for _ in range(20):
        sample, lm = _face_sample(bfm, rng)
        flipped = mirror_sample(sample, mirror)
        new_lm = flip_y(bfm.landmarks(flipped.params[None]))[0]
        expected = lm[FLIP_68].copy()
        expected[:, 0] = 120 - expected[:, 0]
        errors.append(np.linalg.norm(new_lm[:, :2] - expected[:, :2], axis=1))
        # the white dots of the flipped image sit under the flipped parameters' landmarks
        ys, xs = np.nonzero(flipped.crop[..., 0] == 255)
        dots = np.stack([xs + 0.5, ys + 0.5], 1)
        nearest = np.linalg.norm(new_lm[:, None, :2] - dots[None], axis=-1).min(1)
        assert nearest.max() < 2.5
    errors = np.concatenate(errors)
    assert errors.mean() < 0.6 and errors.max() < 2.0  # the 3DMM is not exactly mirror-symmetric
    twice = mirror.flip_params(mirror.flip_params(sample.params[None]))
    assert np.abs(bfm.landmarks(twice) - bfm.landmarks(sample.params[None])).max() < 1.0


def test_mirror_relabels_landmarks_exactly(rng):
    pts = rng.uniform(10, 110, (18, 2))
    visible = rng.random(18) > 0.3
    s = Sample(np.zeros((120, 120, 3), np.uint8), pts, visible)
    m = mirror_sample(s, None)
    back = mirror_sample(m, None)
    np.testing.assert_allclose(back.points18, pts)
    np.testing.assert_array_equal(back.visible18, visible)
    np.testing.assert_allclose(m.points18[13], [120 - pts[13, 0], pts[13, 1]])  # the nose tip stays itself


@pytest.mark.parametrize("scale,shift", [(1.0, (7.0, -4.0)), (0.9, (0.0, 0.0)), (1.12, (-3.5, 2.25))])
def test_zoom_shift_moves_pixels_and_labels_together(bfm, rng, scale, shift):
    points = rng.uniform(30, 90, (18, 2))
    canvas = np.zeros((120, 120), np.float32)
    yy, xx = np.mgrid[0:120, 0:120] + 0.5  # pixel centres in crop-frame coordinates
    for x, y in points[:3]:
        canvas += np.exp(-((xx - x) ** 2 + (yy - y) ** 2) / (2 * 2.0**2))
    crop = np.repeat((canvas / canvas.max() * 255)[..., None], 3, -1).astype(np.uint8)
    sample = Sample(crop, points, np.ones(18, bool), random_params(rng, 1, bfm)[0])
    out = zoom_shift_sample(sample, scale, shift)
    img = out.crop[..., 0].astype(float)
    for x, y in out.points18[:3]:  # the blob's centroid is where the label says
        win = (np.abs(xx - x) < 6) & (np.abs(yy - y) < 6)
        w = img * win
        centre = np.array([(w * xx).sum(), (w * yy).sum()]) / w.sum()
        np.testing.assert_allclose(centre, [x, y], atol=0.35)
    before = flip_y(bfm.landmarks(sample.params[None]))[0]
    after = flip_y(bfm.landmarks(out.params[None]))[0]
    np.testing.assert_allclose(after[:, :2], (before[:, :2] - 60) * scale + 60 + shift, atol=1e-9)


def test_augmented_dataset_is_reproducible(bfm, rng):
    base = [_face_sample(bfm, rng)[0] for _ in range(3)]
    ds = AugmentedDataset(base, AugmentConfig(), mirror_of(bfm), seed=5)
    a, b, c = ds[(1, 0)], ds[(1, 0)], ds[(1, 1)]
    np.testing.assert_array_equal(a.crop, b.crop)
    np.testing.assert_array_equal(a.params, b.params)
    assert not np.array_equal(a.crop, c.crop)


def test_colour_changes_leave_labels_alone(bfm, rng):
    sample = _face_sample(bfm, rng)[0]
    cfg = AugmentConfig(flip=0, scale=0, shift=0, color=1, gray=0.5, blur=0.5, occlusion=1)
    ds = AugmentedDataset([sample], cfg, None)
    out = ds[(0, 3)]
    np.testing.assert_array_equal(out.params, sample.params)
    np.testing.assert_array_equal(out.points18, sample.points18)
    assert out.crop.dtype == np.uint8 and not np.array_equal(out.crop, sample.crop)
    assert cv2.absdiff(out.crop, sample.crop).max() > 0


@pytest.mark.parametrize("angle,scale,shift", [(20.0, 1.0, (0.0, 0.0)), (-35.0, 0.95, (3.0, -2.0))])
def test_rotation_keeps_projected_landmarks_on_the_rotated_image(bfm, rng, angle, scale, shift):
    """An in-plane turn: the turned parameters' 68 landmarks are the turned landmarks (exactly), and the
    white dots drawn on the landmarks' pixels are still under them after the image is warped."""
    sample, lm = _face_sample(bfm, rng)
    out = zoom_shift_sample(sample, scale, shift, angle)
    after = flip_y(bfm.landmarks(out.params[None]))[0]
    a = np.radians(angle)
    turn = scale * np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])  # clockwise on screen (y down)
    np.testing.assert_allclose(after[:, :2], (lm[:, :2] - 60) @ turn.T + 60 + shift, atol=1e-9)
    np.testing.assert_allclose(after[:, 2], lm[:, 2] * scale, atol=1e-9)
    np.testing.assert_allclose(out.points18, to_subset18(after[None, :, :2])[0], atol=1e-9)
    ys, xs = np.nonzero(out.crop[..., 0] > 60)
    dots = np.stack([xs + 0.5, ys + 0.5], 1)
    inside = (after[:, :2] > 2).all(1) & (after[:, :2] < 118).all(1)
    nearest = np.linalg.norm(after[inside, None, :2] - dots[None], axis=-1).min(1)
    assert nearest.max() < 1.5, nearest.max()
    wrong = flip_y(bfm.landmarks(sample.params[None]))[0]  # unturned labels are far from the dots
    assert np.linalg.norm(wrong[inside, None, :2] - dots[None], axis=-1).min(1).mean() > 2 * nearest.mean()


def test_zoomed_training_draws_zooms_about_its_centre(bfm, rng):
    """``AugmentConfig.zoom`` centres the zoom draw: with no spread every view is the crop zoomed by exactly
    that factor about its centre (the view a detector trained at that zoom gets at inference)."""
    sample = _face_sample(bfm, rng)[0]
    cfg = AugmentConfig(flip=0, scale=0, zoom=1.12, shift=0, color=0, gray=0, blur=0, occlusion=0)
    out = AugmentedDataset([sample], cfg, None)[(0, 0)]
    np.testing.assert_allclose(out.points18, (sample.points18 - 60) * 1.12 + 60, atol=1e-9)
    wide = AugmentedDataset([sample], AugmentConfig(flip=0, scale=0.1, zoom=1.12, shift=0), None)
    zooms = [(wide[(0, e)].points18[0] - 60) / (sample.points18[0] - 60) for e in range(40)]
    assert 1.12 * 0.9 - 1e-9 <= np.min(zooms) and np.max(zooms) <= 1.12 * 1.1 + 1e-9
    assert np.min(zooms) < 1.05 < 1.19 < np.max(zooms)  # drawn across the range, not only at its centre
