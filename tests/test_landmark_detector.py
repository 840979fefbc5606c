"""dasl's shipped 2D landmark detector on real crops, and as the regressor's map source."""

import numpy as np
import torch

from dasl.detect.dasl_landmarks import DaslLandmarker
from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import image_to_crop
from dasl.nets.inputs import normalise_images
from dasl.nets.landmark_net import LandmarkNet, soft_argmax

FRAMES = [0, 7, 300, 1200, 1999]


def test_the_shipped_detector_finds_68_landmarks_on_real_crops(aflw):
    """Five AFLW2000-3D crops (frame 300 is one of the benchmark's outliers): median 68-point NME below
    4% (measured 2.85; an untrained detector: 36)."""
    crops = aflw.stored_crops(FRAMES)
    gt = image_to_crop(aflw.landmarks_2d[FRAMES], aflw.roi[FRAMES])
    errors = nme(DaslLandmarker().crop_landmarks(crops), gt, box_size(gt))
    assert np.median(errors) < 4.0, errors
    torch.manual_seed(0)
    with torch.no_grad():
        untrained = soft_argmax(LandmarkNet().eval()(normalise_images(crops)))[0].numpy()
    assert np.median(nme(untrained, gt, box_size(gt))) > 20


def test_the_detector_feeds_the_regressors_map(shared, aflw):
    from dasl.regressors import load_regressor
    from dasl.regressors.map_source import DetectorMap

    regressor = load_regressor("dasl-light+det", shared)
    assert isinstance(regressor, DetectorMap) and regressor.name == "dasl-light+det"
    crops = aflw.stored_crops(FRAMES)
    direct = regressor.inner.predict(crops, regressor.landmarker.crop_landmarks(crops))
    np.testing.assert_allclose(regressor.predict(crops), direct)
