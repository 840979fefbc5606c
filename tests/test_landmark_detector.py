"""dasl's shipped 2D landmark detector on real crops, and as the regressor's map source."""

import numpy as np
import torch

from dasl.eval.metrics import box_size, nme
from dasl.geometry.frames import image_to_crop
from dasl.landmarkers import DaslLandmarker
from dasl.nets.heatmaps import soft_argmax
from dasl.nets.inputs import normalise_images
from dasl.nets.landmark_net import LandmarkNet

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
        untrained = soft_argmax(LandmarkNet().eval()(torch.from_numpy(normalise_images(crops))))[0].numpy()
    assert np.median(nme(untrained, gt, box_size(gt))) > 20


def test_the_detector_feeds_the_regressors_map(shared, aflw):
    from dasl.stages import load_stages

    stages = load_stages("dasl-light+det", shared)
    assert stages.fitter is None and stages.name == "dasl-light+det"
    crops = aflw.stored_crops(FRAMES)
    direct = stages.regressor.predict(crops, stages.landmarker.crop_landmarks(crops))
    np.testing.assert_allclose(stages.predict(crops), direct)
    # the map matters: the regressor on its own map answers otherwise
    assert np.abs(stages.regressor.predict(crops) - direct).max() > 1e-3


def test_landmark_weights_halve_at_tau_and_keep_a_mean_of_one():
    from dasl.landmarkers import LandmarkEstimate

    spread = np.full((2, 68), 2.0)
    spread[0, 5] = 6.0  # three taus: a tenth of the weight a spread of 0 gets
    estimate = LandmarkEstimate(np.zeros((2, 68, 2)), spread)
    w = estimate.weights(spread_tau=2.0)
    np.testing.assert_allclose(w.mean(-1), 1.0)
    np.testing.assert_allclose(w[1], 1.0)  # all alike: all 1
    np.testing.assert_allclose(w[0, 5] / w[0, 4], (1 / 10) / (1 / 2))  # 1/(1+9) against 1/(1+1)
    flips = np.zeros((2, 68))
    flips[1, 7] = 1.0  # one tau: half
    both = LandmarkEstimate(np.zeros((2, 68, 2)), spread, flips).weights(spread_tau=2.0, flip_tau=1.0)
    np.testing.assert_allclose(both[1, 7] / both[1, 6], 0.5)


def test_the_detectors_uncertainty_picks_out_its_larger_errors(aflw):
    """On 40 AFLW2000-3D crops, the landmarks the mirror-averaged detector is least sure of (lowest tenth
    of weights) are off by more than the rest: measured 2.3x; weights that carried no information, 1x."""
    frames = list(range(0, 2000, 50))
    crops = aflw.stored_crops(frames)
    gt = image_to_crop(aflw.landmarks_2d[frames], aflw.roi[frames])
    found = DaslLandmarker(flip=True).locate(crops)
    np.testing.assert_allclose(found.points, DaslLandmarker(flip=True).crop_landmarks(crops))
    error = np.linalg.norm(found.points - gt, axis=-1) / box_size(gt)[:, None]
    w = found.weights()
    unsure = w < np.quantile(w, 0.1)
    assert error[unsure].mean() > 1.5 * error[~unsure].mean(), (error[unsure].mean(), error[~unsure].mean())


def test_the_fit_leans_less_on_landmarks_the_detector_is_unsure_of(shared, aflw, monkeypatch):
    """The nine nose landmarks moved 10 px to the right with wide heatmaps: the fit that weighs all 68
    alike follows them (measured 3.5 and 4.1 px), the weighted fit hardly (0.3 and 0.8 px)."""
    from dasl.geometry.frames import crop_landmarks
    from dasl.landmarkers import LandmarkEstimate
    from dasl.stages import load_stages

    nose = list(range(27, 36))
    regressor = load_stages("default", shared)
    crops = aflw.stored_crops(FRAMES[:2])
    found = regressor.landmarker.locate(crops)
    moved = found.points.copy()
    moved[:, nose, 0] += 10.0
    spread = found.spread.copy()
    spread[:, nose] = 20.0
    fake = LandmarkEstimate(moved, spread, found.flip_distance)
    monkeypatch.setattr(regressor.landmarker, "locate", lambda crops: fake)

    def pull() -> np.ndarray:
        fitted = crop_landmarks(regressor.morphable, regressor.predict(crops))[:, nose, 0]
        return (fitted - found.points[:, nose, 0]).mean(1)

    weighted = pull()
    regressor.weighted = False
    uniform = pull()
    assert np.all(uniform > 2.0) and np.all(weighted < 0.5 * uniform), (weighted, uniform)


def test_the_detector_sees_crops_at_the_zoom_it_was_trained_at(tmp_path):
    """A detector file records the zoom of its training crops and :class:`DaslLandmarker` applies it; a file
    from before zoomed training gets :data:`ZOOM`; an explicit zoom wins. Training's validation zooms
    image tensors as inference zooms crops."""
    from dasl.geometry.crop import zoom_crops
    from dasl.landmarkers.dasl_net import ZOOM
    from dasl.nets.landmark_net import save_landmark_file
    from dasl.nets.model_file import LandmarkMeta
    from dasl.train.landmark_loop import zoom_images

    state = LandmarkNet(width=8).state_dict()
    old = save_landmark_file(tmp_path / "old.safetensors", state, LandmarkMeta(8))
    new = save_landmark_file(tmp_path / "new.safetensors", state, LandmarkMeta(8, zoom=1.12))
    assert DaslLandmarker(old).zoom == ZOOM
    assert DaslLandmarker(new).zoom == 1.12
    assert DaslLandmarker(new, zoom=1.0).zoom == 1.0
    assert LandmarkMeta.from_dict(LandmarkMeta(8, zoom=1.12).to_dict()).zoom == 1.12

    yy, xx = np.mgrid[0:120, 0:120] + 0.5
    blob = np.exp(-((xx - 80.0) ** 2 + (yy - 45.0) ** 2) / (2 * 4.0**2))
    crops = np.repeat((blob * 255)[None, ..., None], 3, -1).astype(np.uint8)
    by_numpy = zoom_crops(crops, 1.12)[0, ..., 0].astype(float)
    by_torch = zoom_images(torch.from_numpy(crops.astype(np.float32)).permute(0, 3, 1, 2), 1.12)[0, 0].numpy()
    assert np.abs(by_numpy - by_torch).max() < 1.5  # the same warp (uint8 rounding, OpenCV fixed point apart)
    centre = [(by_torch * xx).sum() / by_torch.sum(), (by_torch * yy).sum() / by_torch.sum()]
    np.testing.assert_allclose(centre, [(80 - 60) * 1.12 + 60, (45 - 60) * 1.12 + 60], atol=0.05)
