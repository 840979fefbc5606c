"""The mirror map of the 3DMM's parameters: how close the mirrored parameters come to the mirrored face."""

import numpy as np

from conftest import random_params
from dasl.geometry.frames import CROP_SIZE, crop_landmarks, flip_y, mirror_x
from dasl.morphable.landmarks import FLIP_68
from dasl.morphable.symmetry import mirror_of


def test_mirrored_parameters_give_the_mirrored_landmarks_and_mesh(bfm, rng):
    """Measured 0.22 px (68 landmarks) and 0.17 px (dense mesh) at half the parameters' spread; the same
    landmarks without the left/right relabelling are 23 px off, so the bound tells a working map."""
    params = random_params(rng, 200, bfm)
    mirror = mirror_of(bfm)
    flipped = mirror.flip_params(params, CROP_SIZE)
    expected = mirror_x(crop_landmarks(bfm, params)[..., :2], FLIP_68)
    error = np.linalg.norm(crop_landmarks(bfm, flipped)[..., :2] - expected, axis=-1).mean()
    assert error < 0.4, error
    unlabelled = mirror_x(crop_landmarks(bfm, params)[..., :2], np.arange(68))
    assert np.linalg.norm(crop_landmarks(bfm, flipped)[..., :2] - unlabelled, axis=-1).mean() > 10

    dense = flip_y(bfm.vertices(params[:10]))[..., :2]
    dense_expected = mirror_x(dense, mirror.vertex_map)
    dense_error = np.linalg.norm(flip_y(bfm.vertices(flipped[:10]))[..., :2] - dense_expected, axis=-1).mean()
    assert dense_error < 0.3, dense_error


def test_the_cached_mirror_map_is_the_solved_one(bfm, tmp_path, monkeypatch):
    """The mirror map is read from the user's cache after its first solve: the same numbers, and a cache
    folder that cannot be written only costs the solve."""
    from dasl.morphable import symmetry

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    symmetry.mirror_of.cache_clear()
    first = symmetry.mirror_of(bfm)
    assert symmetry._cache_file(bfm).is_file()
    symmetry.mirror_of.cache_clear()
    again = symmetry.mirror_of(bfm)  # from the file
    np.testing.assert_array_equal(again.coeff_matrix, first.coeff_matrix)
    np.testing.assert_array_equal(again.vertex_map, first.vertex_map)
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    symmetry.mirror_of.cache_clear()
    np.testing.assert_allclose(symmetry.mirror_of(bfm).coeff_matrix, first.coeff_matrix)
    symmetry.mirror_of.cache_clear()
