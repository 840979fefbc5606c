"""The pixel frames of docs/conventions.md and the maps between them, pinned by known values."""

import cv2
import numpy as np

from conftest import random_params
from dasl.api import Face
from dasl.geometry.crop import crop_image
from dasl.geometry.frames import (
    CROP_ROI,
    crop_landmarks,
    crop_pixels_to_crop,
    crop_to_crop_pixels,
    crop_to_image,
    crop_to_pixels,
    image_landmarks,
    image_to_crop,
    image_to_pixels,
    pixels_to_image,
    resize_pixels,
)
from dasl.geometry.params import crop_to_image_params


def test_known_values_and_round_trips():
    p = np.array([[[0.0, 0.0, 7.0], [10.0, 20.0, -3.0]]])
    np.testing.assert_array_equal(pixels_to_image(p)[0, 0], [1.0, 1.0, 7.0])  # depth never shifts
    np.testing.assert_array_equal(image_to_pixels(pixels_to_image(p)), p)
    np.testing.assert_array_equal(crop_pixels_to_crop(p)[0, 1], [10.5, 20.5, -3.0])
    np.testing.assert_array_equal(crop_to_crop_pixels(crop_pixels_to_crop(p)), p)
    # a 120x120 crop file is its own photo: crop pixels -> crop frame -> its image frame = pixels + 1
    np.testing.assert_array_equal(crop_to_image(crop_pixels_to_crop(p), CROP_ROI), pixels_to_image(p))
    np.testing.assert_array_equal(image_to_crop(crop_to_image(p, CROP_ROI), CROP_ROI), p)


def test_resizing_scales_pixel_edges():
    """Doubling a photo: pixel 0 ([-0.5, 0.5]) becomes pixels 0 and 1, centred at 0.5."""
    np.testing.assert_allclose(resize_pixels(np.array([[0.0, 0.0], [9.0, 4.0]]), 2.0), [[0.5, 0.5], [18.5, 8.5]])
    np.testing.assert_allclose(resize_pixels(resize_pixels(np.array([[3.0, 5.0, 2.0]]), 2.0), 0.5), [[3.0, 5.0, 2.0]])
    np.testing.assert_allclose(resize_pixels(np.array([[0.0, 0.0, 2.0]]), 3.0)[0, 2], 6.0)  # depth scales


def test_api_points_are_opencv_pixels_and_land_in_the_crop_pixel_they_name(bfm, rng):
    """A Face's landmark at (x, y) is where OpenCV draws at (x, y); cutting the photo with the face's ROI
    puts that dot in crop pixel floor(crop-frame coordinate): the whole chain of frames agrees."""
    height, width = 300, 400
    roi = np.array([101.0, 61.0, 340.0, 300.0])  # image frame, 240 pixels: the crop halves the photo
    params = random_params(rng, 1, bfm)
    params[:, [3, 7]] = 60.0  # centred in the crop
    face = Face(np.zeros(4), 1.0, roi, params[0], height, bfm)
    nose = face.landmarks_2d[30]
    photo = np.zeros((height, width, 3), np.uint8)
    x, y = int(round(nose[0])), int(round(nose[1]))
    cv2.circle(photo, (x, y), 1, (255, 255, 255), -1)  # a 3x3 dot centred at pixel (x, y)
    crop = crop_image(photo, roi)
    rows, cols = np.nonzero(crop[..., 0] > 0)
    centre = crop_pixels_to_crop(np.array([cols.mean(), rows.mean()]))  # the dot's centre, crop frame
    dot_crop = image_to_crop(pixels_to_image(np.array([[[x, y]]], dtype=float)), roi[None])[0, 0]
    np.testing.assert_allclose(centre, dot_crop, atol=0.3)
    # the Face's pixels are the crop-frame landmarks through the ROI, minus one; and the photo's model frame
    expected = crop_to_pixels(crop_landmarks(bfm, params), roi[None])[0]
    np.testing.assert_allclose(face.landmarks_3d, expected, atol=1e-9)
    image_params = crop_to_image_params(params, roi[None], height)
    np.testing.assert_allclose(
        face.landmarks_3d, image_to_pixels(image_landmarks(bfm, image_params, height))[0], atol=1e-6
    )
