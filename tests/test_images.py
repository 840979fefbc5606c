"""Reading photos in every colour mode and arrays given to the API: each mode converted by what it means
(a CMYK JPEG read as RGB channels is a colour negative), and arrays that are no image refused by name."""

import numpy as np
import pytest
from PIL import Image

from dasl.data.images import array_to_rgb8, read_rgb
from dasl.errors import BadInputError


@pytest.fixture(scope="module")
def sample(shared):
    with Image.open(shared.path("samples") / "prnet_trump.jpg") as img:
        return img.convert("RGB")


# mode -> (file suffix, largest mean difference from the RGB photo: the mode's own loss, grey modes lose
# the colour)
MODES = {
    "CMYK": ("jpg", 3.0),
    "YCbCr": ("jpg", 3.0),
    "LAB": ("tif", 3.0),
    "P": ("png", 25.0),
    "PA": ("tif", 25.0),
    "RGBA": ("png", 0.5),
    "L": ("jpg", 40.0),
    "LA": ("tif", 40.0),
    "I": ("tif", 40.0),
    "F": ("tif", 40.0),
}


@pytest.mark.parametrize("mode", [*MODES, "I;16", "HSV"])
def test_every_colour_mode_reads_as_the_photo(sample, mode, tmp_path):
    reference = np.asarray(sample).astype(float)
    if mode == "I;16":  # 16-bit grey: the grey values times 257
        grey = np.asarray(sample.convert("L")).astype(np.uint16) * 257
        image, suffix, bound = Image.fromarray(grey), "png", 40.0
    elif mode == "HSV":  # Pillow cannot write HSV files: read through the same conversion from memory
        from dasl.data.images import image_to_rgb8

        got = image_to_rgb8(sample.convert("HSV"))
        assert np.abs(got - reference).mean() < 3.0
        return
    else:
        suffix, bound = MODES[mode]
        image = sample.convert("P").convert("PA") if mode == "PA" else sample.convert(mode)
    path = tmp_path / f"photo.{suffix}"
    image.save(path)
    got = read_rgb(path)
    assert got.shape == reference.shape and got.dtype == np.uint8
    assert np.abs(got - reference).mean() < bound, (mode, np.abs(got - reference).mean())


def test_a_cmyk_photo_read_as_its_first_three_channels_would_be_a_negative(sample):
    """The check above can fail: the old reading (channels taken as they are) is far from the photo."""
    cmyk = np.asarray(sample.convert("CMYK"))[..., :3].astype(float)
    assert np.abs(cmyk - np.asarray(sample)).mean() > 100


def test_arrays_convert_like_files_and_bad_arrays_are_named_errors(sample):
    rgb = np.asarray(sample)
    np.testing.assert_array_equal(array_to_rgb8(rgb), rgb)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1)
    np.testing.assert_array_equal(array_to_rgb8(rgba), rgb)
    np.testing.assert_array_equal(array_to_rgb8(rgb / 255.0), rgb)  # floats in [0, 1]
    np.testing.assert_array_equal(array_to_rgb8(rgb.astype(np.uint16) * 257), rgb)
    assert array_to_rgb8(rgb[..., 0]).shape == rgb.shape
    for bad, why in (
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((4, 4, 5), np.uint8), "shape"),
        (np.full((4, 4, 3), np.nan), "NaN"),
        (np.array([["a"]]), "type"),
    ):
        with pytest.raises(BadInputError, match=why):
            array_to_rgb8(bad)


def test_the_api_takes_any_image_array(reconstructor, sample):
    """An RGBA float array gives the faces of the RGB photo; an empty one a named error (was a
    ZeroDivisionError in the detector)."""
    rgb = np.asarray(sample)
    plain = reconstructor.reconstruct(rgb)
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], -1) / 255.0
    again = reconstructor.reconstruct(rgba)
    assert len(plain) == len(again) >= 1
    np.testing.assert_allclose(again[0].landmarks_2d, plain[0].landmarks_2d, atol=1e-6)
    with pytest.raises(BadInputError, match="empty"):
        reconstructor.reconstruct(np.zeros((0, 10, 3), np.uint8))
