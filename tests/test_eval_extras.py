"""Measurement helpers: detection hits, ROI calibration, held-out scoring, 2DASL's landmark file."""

import numpy as np

from dasl.detect import ROI_CALIBRATION, boxes_to_rois
from dasl.eval.detection import found
from dasl.eval.heldout import heldout_nme
from dasl.regressors.base import Regressor


def test_detection_hit_rule():
    marks = np.array([[100.0, 100.0], [200.0, 220.0]])
    assert found(np.array([[110.0, 120.0, 190.0, 210.0]]), marks)
    assert not found(np.array([[300.0, 300.0, 400.0, 400.0]]), marks)  # elsewhere
    assert not found(np.array([[140.0, 150.0, 160.0, 170.0]]), marks)  # inside, but far too small


def test_roi_calibration_is_applied():
    box = np.array([[100.0, 100.0, 200.0, 200.0]])
    scale, dx, dy = ROI_CALIBRATION["dlib-mmod"]
    roi = boxes_to_rois(box, "dlib-mmod")[0]
    np.testing.assert_allclose(roi[2] - roi[0], np.round(scale * 100), atol=1)
    np.testing.assert_allclose((roi[0] + roi[2]) / 2, 150 + dx * 100, atol=1)
    np.testing.assert_allclose((roi[1] + roi[3]) / 2, 150 + dy * 100, atol=1)


class _Echo(Regressor):
    """Returns the parameters it was built with: a perfect regressor."""

    name = "echo"

    def __init__(self, params, model):
        self.params, self.morphable = params, model

    def predict(self, crops, landmarks=None):
        return self.params


def test_heldout_nme_of_a_perfect_regressor_is_zero(bfm, rng):
    from conftest import random_params

    p = random_params(rng, 3, bfm)
    assert heldout_nme(_Echo(p, bfm), np.zeros((3, 120, 120, 3), np.uint8), p, None, bfm).max() < 1e-9
    shifted = p.copy()
    shifted[:, 3] += 2.0
    assert heldout_nme(_Echo(shifted, bfm), np.zeros((3, 120, 120, 3), np.uint8), p, None, bfm).min() > 0


def test_2dasl_detections_are_read_for_every_image(aflw):
    from dasl.eval.aflw2000 import map_landmarks

    marks = map_landmarks(aflw, None, "2dasl")
    assert marks.shape == (2000, 68, 2)
    missing = np.isnan(marks).all((1, 2))
    assert missing.sum() == 2 and np.isfinite(marks[~missing]).all()
    assert 0 < np.nanmean(marks) < 120
