"""``dasl data build-3d``: 3D training data from landmarked photos (fitting + face profiling).

For every photo with a 68-point ``.pts`` file: fit the 3DMM to the landmarks
(:class:`~dasl.fitting.LandmarkFitter`), then render ``profiles`` new views with the head turned towards
+-90 degrees of yaw (and a little pitch) (:class:`~dasl.builders.profiling.FaceProfiler`). Output, in the
300W-LP layout so that any 300W-LP reader (and dasl's) takes it::

    OUT/<folder>/<name>_0.jpg   the photo itself, with its fitted label
    OUT/<folder>/<name>_<k>.jpg profile k = 1..profiles
    OUT/<folder>/<name>_<k>.mat Pose_Para (1, 7), Shape_Para (199, 1), Exp_Para (29, 1), pt2d (2, 68)
    OUT/labels3d.npz            the same labels as 62 parameters (image model frame), read in one go
    OUT/fits.npz                the fits of the photos (names, params, rms residual in pixels)
    OUT/near_copies.json        photos left out: near-copies of an AFLW2000-3D crop (:mod:`~dasl.builders.near_copies`)
    OUT/contact_sheet.png       the views of the first faces with their projected landmarks

``dasl data profile`` (:func:`profile_label_set`) renders turned views of the faces of an existing 3D set
(the AFLW fits: real large poses made larger) the same way, into a set of their own.

Work already on disk is kept: a rerun fits nothing it has fitted and renders no face whose files exist.
"""

from __future__ import annotations

import multiprocessing
import time
import zlib
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import scipy.io
from PIL import Image
from tqdm import tqdm

from dasl.builders.near_copies import MIN_INLIERS, NearCopyIndex
from dasl.builders.profiling import FaceProfiler
from dasl.data.images import image_beside, read_rgb
from dasl.data.labelled3d import Labelled3D, identity_key, write_label_file
from dasl.data.landmark_io import read_pts
from dasl.data.mat300wlp import image_params_to_pose_para, pose_para_to_image_params, read_mat
from dasl.errors import BadInputError, MissingFileError
from dasl.fileio import atomic_path, bar_disabled, write_json
from dasl.fitting import LandmarkFitter
from dasl.geometry.crop import crop_image, roi_from_landmarks
from dasl.geometry.frames import image_landmarks, image_to_pixels
from dasl.morphable import layout
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import decompose


@dataclass
class BuildSummary:
    photos: int
    views: int
    seconds_fit: float
    seconds_render: float
    fit_rms_px: float
    near_copies: int = 0


def find_landmarked(folder: Path) -> list[tuple[str, Path, Path]]:
    """``(relative stem, image, .pts)`` of every photo with a 68-point file under ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MissingFileError(folder, "folder of landmarked photos")
    found = []
    for pts in sorted(folder.rglob("*.pts")):
        image = image_beside(pts)
        if image is not None:
            found.append((str(pts.relative_to(folder).with_suffix("")), image, pts))
    if not found:
        raise BadInputError(folder, "no photo with a .pts landmark file found")
    return found


def profile_targets(name: str, yaw: float, count: int, max_pitch: float = 10.0) -> list[tuple[float, float]]:
    """``count`` (yaw delta, pitch delta) pairs: yaw evenly from the photo's towards +-90 degrees on the
    side it already turns to (a name-seeded side for frontal photos), pitch uniform in +-``max_pitch``."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    side = np.sign(yaw) if abs(yaw) >= 5 else (1.0 if rng.random() < 0.5 else -1.0)
    start = abs(yaw)
    targets = start + (90.0 - start) * np.arange(1, count + 1) / count
    return [(float(side * (t - start)), float(rng.uniform(-max_pitch, max_pitch))) for t in targets]


def write_mat(path: Path, params: np.ndarray, image_height: int, model: MorphableModel) -> None:
    """A 300W-LP label for image-model-frame parameters ``(62,)`` (atomic)."""
    pose = image_params_to_pose_para(params[None])[0]
    shape = np.zeros((199, 1))
    shape[: layout.N_SHAPE, 0] = params[layout.SHAPE]
    exp = np.zeros((29, 1))
    exp[: layout.N_EXP, 0] = params[layout.EXPRESSION]
    pt2d = image_landmarks(model, params[None], image_height)[0, :, :2].T
    with atomic_path(path) as tmp:
        scipy.io.savemat(str(tmp), {"Pose_Para": pose[None], "Shape_Para": shape, "Exp_Para": exp, "pt2d": pt2d})


def _write_jpg(path: Path, rgb: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        if not cv2.imwrite(str(tmp), rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, 95]):
            raise OSError(f"cannot write {path}")


# ---------------------------------------------------------------------- worker side
_WORKER: dict = {}


def _init_worker(model_path: str) -> None:
    import torch

    torch.set_num_threads(1)
    model = MorphableModel.load(model_path, name="bfm")
    _WORKER["model"], _WORKER["profiler"] = model, FaceProfiler(model)


def _render_face(task: tuple[str, str, np.ndarray, int, str, bool]) -> str:
    """Views 1..count of one face (and view 0, the photo itself, when ``with_photo``)."""
    name, image_path, params, count, out_dir, with_photo = task
    model, profiler = _WORKER["model"], _WORKER["profiler"]
    out = Path(out_dir)
    last = out / f"{name}_{count}.mat"
    if last.is_file():
        return name
    image = read_rgb(image_path)
    h = image.shape[0]
    (out / name).parent.mkdir(parents=True, exist_ok=True)
    if with_photo:
        _write_jpg(out / f"{name}_0.jpg", image)
        write_mat(out / f"{name}_0.mat", params, h, model)
    scene = profiler.scene(image, params)
    yaw = float(decompose(params[None]).angles[0, 0])
    for k, (dyaw, dpitch) in enumerate(profile_targets(name, yaw, count), start=1):
        view = scene.render(dyaw, dpitch)
        _write_jpg(out / f"{name}_{k}.jpg", view.image)
        write_mat(out / f"{name}_{k}.mat", view.params, h, model)
    return name


# ---------------------------------------------------------------------- main side
def fit_photos(photos, model: MorphableModel, out: Path, prior: float, progress: bool, batch: int = 128) -> dict:
    """Fit every photo (cached in ``out/fits.npz``)."""
    cache = out / "fits.npz"
    names = [p[0] for p in photos]
    if cache.is_file():
        data = np.load(cache)
        if list(data["names"]) == names:
            return {k: data[k] for k in data.files}
    fitter = LandmarkFitter(model, prior=prior)
    params, rms, heights = [], [], []
    for start in tqdm(range(0, len(photos), batch), desc="fitting", disable=bar_disabled(progress)):
        chunk = photos[start : start + batch]
        pts = np.stack([read_pts(p[2]) for p in chunk])
        if pts.shape[1:] != (68, 2):
            raise BadInputError(chunk[0][2], "expected 68-point landmarks")
        h = np.array([Image.open(p[1]).size[1] for p in chunk])
        result = fitter.fit(pts, image_height=h)
        params.append(result.params)
        rms.append(result.rms)
        heights.append(h)
    fits = {
        "names": np.array(names),
        "params": np.concatenate(params),
        "rms": np.concatenate(rms),
        "heights": np.concatenate(heights),
    }
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(cache) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, **fits)
    return fits


def collect_labels(out: Path, names: list[str], views: range, groups: list[str] | None = None) -> Path:
    """``labels3d.npz`` from the ``.mat`` files of every view (a view's group: its photo's, when given)."""
    rel, params, view_groups = [], [], []
    for i, name in enumerate(names):
        for k in views:
            mat = out / f"{name}_{k}.mat"
            label = read_mat(mat)
            rel.append(f"{name}_{k}.jpg")
            params.append(pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)[0])
            view_groups.append(groups[i] if groups is not None else identity_key(rel[-1]))
    return write_label_file(out, rel, np.stack(params), groups=view_groups)


def contact_sheet(
    out: Path, names: list[str], views: range, model: MorphableModel, faces: int = 6, tile: int = 200
) -> Path:
    """A grid of the first faces' views with their labels' 68 landmarks drawn."""
    rows = []
    for name in names[:faces]:
        tiles = []
        for k in views:
            image = read_rgb(out / f"{name}_{k}.jpg")[:, :, ::-1].copy()
            label = read_mat(out / f"{name}_{k}.mat")
            params = pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)
            marks = image_to_pixels(image_landmarks(model, params, image.shape[0]))[0]
            for x, y, _ in marks:
                cv2.circle(image, (int(round(x)), int(round(y))), 2, (0, 255, 0), -1)
            yaw = decompose(params).angles[0, 0]
            cv2.putText(image, f"yaw {yaw:+.0f}", (6, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (0, 255, 255), 2)
            tiles.append(cv2.resize(image, (tile, tile), interpolation=cv2.INTER_AREA))
        rows.append(np.hstack(tiles))
    sheet = out / "contact_sheet.png"
    with atomic_path(sheet) as tmp:
        cv2.imwrite(str(tmp), np.vstack(rows))
    return sheet


def _render_all(tasks: list, model_path: Path, workers: int, progress: bool) -> None:
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_init_worker, initargs=(str(model_path),)
    ) as pool:
        futures = [pool.submit(_render_face, t) for t in tasks]
        for future in tqdm(as_completed(futures), total=len(futures), desc="profiling", disable=bar_disabled(progress)):
            future.result()


def photo_crops(photos, params: np.ndarray, model: MorphableModel) -> np.ndarray:
    """The 120x120 crop (landmark ROI rule) of every fitted photo: what the near-copy check compares."""
    crops = []
    for (_, image_path, _), p in zip(photos, params, strict=True):
        image = read_rgb(image_path)
        roi = roi_from_landmarks(image_landmarks(model, p[None], image.shape[0]))[0]
        crops.append(crop_image(image, roi))
    return np.stack(crops)


def build_3d(
    landmarked: Path,
    out: Path,
    profiles: int,
    model: MorphableModel,
    model_path: Path,
    workers: int = 2,
    prior: float = 2.0,
    progress: bool = True,
    limit: int | None = None,
    test_index: NearCopyIndex | None = None,
    test_names: list[str] | None = None,
) -> BuildSummary:
    """Fit, check against the test set (``test_index`` of the crops ``test_names``; photos that are
    near-copies of one are left out and listed in ``OUT/near_copies.json``), profile, label."""
    photos = find_landmarked(landmarked)[:limit]
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    fits = fit_photos(photos, model, out, prior, progress)
    flagged: dict[str, dict] = {}
    if test_index is not None:
        found = test_index.search(photo_crops(photos, fits["params"], model), progress=progress)
        for photo, hit, inliers, match in zip(photos, found.flagged, found.inliers, found.match, strict=True):
            if hit:
                flagged[photo[0]] = {"test_crop": test_names[match], "inliers": int(inliers)}
        write_json(out / "near_copies.json", {"min_inliers": MIN_INLIERS, "left_out": flagged})
    kept = [i for i, p in enumerate(photos) if p[0] not in flagged]
    fitted = time.perf_counter()
    tasks = [(photos[i][0], str(photos[i][1]), fits["params"][i], profiles, str(out), True) for i in kept]
    _render_all(tasks, model_path, workers, progress)
    names = [photos[i][0] for i in kept]
    collect_labels(out, names, range(profiles + 1))
    contact_sheet(out, names, range(profiles + 1), model)
    rendered = time.perf_counter()
    return BuildSummary(
        len(kept),
        len(kept) * (profiles + 1),
        fitted - started,
        rendered - fitted,
        float(np.mean(fits["rms"])),
        len(flagged),
    )


def profile_label_set(
    labels: Path, out: Path, profiles: int, model: MorphableModel, model_path: Path, workers: int = 2, progress=True
) -> BuildSummary:
    """``profiles`` turned views of every face of a 3D set (``labels3d.npz``, e.g. the AFLW fits), each
    with exact labels and the group of its face; the faces themselves are not copied."""
    data = Labelled3D.from_folder(labels, model, progress=False)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    names = [p.stem for p in data.paths]
    if len(set(names)) != len(names):
        raise BadInputError(labels, "image names repeat; profiles are named after them")
    tasks = [(n, str(p), q, profiles, str(out), False) for n, p, q in zip(names, data.paths, data.params, strict=True)]
    _render_all(tasks, model_path, workers, progress)
    collect_labels(out, names, range(1, profiles + 1), data.groups)
    contact_sheet(out, names, range(1, profiles + 1), model)
    return BuildSummary(len(names), len(names) * profiles, 0.0, time.perf_counter() - started, 0.0, 0)
