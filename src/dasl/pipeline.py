"""``dasl reconstruct``: photos, folders and videos in, files out.

Per photo ``<stem>`` (folders keep their sub-folders under the output folder):

* ``<stem>.json`` (always): every face's box, score, crop ROI, 62 parameters (crop and photo frames), 68
  landmarks 2D and 3D, pose; written last, so a photo with a JSON is done (a rerun skips it);
* ``<stem>_face<k>.obj`` + ``.mtl`` + ``_texture.png``: the face-region mesh textured from the photo;
* ``<stem>_face<k>.ply``: the same mesh with vertex colours;
* ``<stem>_overlay.png``: shaded meshes, 68 landmarks and pose axes over the photo;
* ``<stem>_depth.png``: 16-bit depth of the meshes (0 = no face, larger = nearer).

Per video: ``<stem>.jsonl`` (a line per frame, every face with its track id) and, with ``overlay``,
``<stem>_overlay.mp4``; faces are followed by their landmarks and their parameters smoothed over time
(:mod:`dasl.tracking`). Every file is written under a temporary name and renamed.
"""

from __future__ import annotations

import errno
import glob
import json
import multiprocessing
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from dasl.api import Face, Reconstructor
from dasl.data.images import IMAGE_SUFFIXES, read_rgb
from dasl.errors import BadInputError, DaslError, MissingFileError, OptionError
from dasl.export import images as pictures
from dasl.fileio import bar_disabled, write_json
from dasl.geometry.frames import resize_pixels
from dasl.nets.onnx_runtime import set_inference_threads
from dasl.videos import process_video

VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v")
OUTPUTS = ("json", "obj", "ply", "glb", "overlay", "depth")
#: pictures (overlay, depth) of larger photos are drawn at this long side
PICTURE_MAX_SIDE = 4096


#: a file dasl writes into every output folder: folder runs never read such a folder (or its sub-folders)
#: as input, so that ``dasl reconstruct .`` does not reconstruct its own overlays on the next run
OUTPUT_MARKER = ".dasl-output"


@dataclass
class RunReport:
    done: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    faces: int = 0  # in photos
    face_frames: int = 0  # faces in videos, counted on every frame
    no_face: list[Path] = field(default_factory=list)
    #: inputs whose outputs exist but were made with other settings (not redone without --overwrite)
    stale: list[tuple[Path, str]] = field(default_factory=list)
    #: inputs found in all (0: an empty folder, or one without photos or videos)
    inputs: int = 0
    #: why the run stopped before its end (a full disk), else ``None``
    stopped: str | None = None


def _walk_inputs(folder: Path, skip: Path | None) -> list[Path]:
    """The photos and videos under ``folder``, sorted, leaving out ``skip`` and every folder holding
    :data:`OUTPUT_MARKER`."""
    found = []
    for root, dirs, files in os.walk(folder):
        here = Path(root)
        if OUTPUT_MARKER in files or (skip is not None and here.resolve() == skip):
            dirs.clear()
            continue
        dirs.sort()
        found += [here / f for f in sorted(files) if Path(f).suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES]
    return found


def collect_inputs(paths: Sequence[Path], out: Path | None = None) -> list[tuple[Path, Path]]:
    """``(file, output stem relative to the output folder)`` for every image and video under ``paths``
    (folders searched recursively, the output folder ``out`` and folders of dasl's outputs left out). Files
    whose stems would collide in one output folder (``a.jpg`` and ``a.png``) keep their suffix in the
    stem (``a.jpg``, ``a.png``), so neither is taken for the other's results."""
    skip = Path(out).resolve() if out is not None else None
    found = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found += [(f, f.relative_to(path).with_suffix("")) for f in _walk_inputs(path, skip)]
        elif path.exists():
            found.append((path, Path(path.stem)))
        else:
            raise MissingFileError(path, "input")
    counts = Counter(str(stem).lower() for _, stem in found)
    return [(f, stem if counts[str(stem).lower()] == 1 else stem.with_name(f.name)) for f, stem in found]


def made_with(rec: Reconstructor, kinds: Iterable[str]) -> dict:
    """What a photo's outputs were made with, recorded in its JSON: a rerun redoes nothing only for these."""
    return {"model": rec.stages.name, "detector": rec.detector_name, "outputs": sorted(set(kinds) | {"json"})}


def _outputs_differ(record_path: Path, wanted: dict) -> str | None:
    """Why the outputs recorded in a photo's JSON are not what is asked for now (``None``: they are)."""
    try:
        made = json.loads(record_path.read_text()).get("made_with") or {}
    except (OSError, ValueError, AttributeError):
        return "its JSON is unreadable"
    missing = sorted(set(wanted["outputs"]) - set(made.get("outputs", [])))
    if missing:
        return f"made without {', '.join(missing)}"
    for key in ("model", "detector"):
        if made.get(key) != wanted[key]:
            return f"made with {key} {made.get(key)!r}, not {wanted[key]!r}"
    return None


def write_photo_outputs(
    image: np.ndarray,
    faces: list[Face],
    out: Path,
    stem: Path,
    kinds: Iterable[str],
    source: Path | None = None,
    made: dict | None = None,
) -> list[Path]:
    """Every asked-for output of one photo (see the module docstring); returns the files written. The JSON
    (with ``made``, what the outputs were made with) comes last; when a write fails, every output file of
    this photo is removed, so a photo has all its outputs or none. Files of faces beyond this run's (left
    by an earlier run that found more) are removed after the JSON is written."""
    kinds = set(kinds)
    base = out / stem
    base.parent.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    try:
        _write_photo_files(image, faces, base, kinds, source, made, written)
    except BaseException:
        for path in photo_output_files(base):
            path.unlink(missing_ok=True)
        raise
    for path in photo_output_files(base, faces_from=len(faces)):
        path.unlink(missing_ok=True)
    return written


def photo_output_files(base: Path, faces_from: int | None = None) -> list[Path]:
    """The output files of the photo whose outputs are ``base``'s (``<base>.json``, ``<base>_overlay.png``, its
    faces' meshes and textures ...); with ``faces_from`` only the files of faces ``faces_from`` and beyond."""
    out = []
    for path in base.parent.glob(f"{glob.escape(base.name)}*"):
        rest = path.name[len(base.name) :]
        if rest.startswith("_face"):
            index = rest[len("_face") :].split("_")[0].split(".")[0]
            if index.isdigit() and (faces_from is None or int(index) >= faces_from):
                out.append(path)
        elif faces_from is None and rest in (".json", "_overlay.png", "_depth.png"):
            out.append(path)
    return out


def _write_photo_files(image, faces, base: Path, kinds: set, source, made, written: list[Path]) -> None:
    for k, face in enumerate(faces):
        if "obj" in kinds:
            written += face.save_obj(base.with_name(f"{base.name}_face{k}.obj"), image)
        if "ply" in kinds:
            written.append(face.save_ply(base.with_name(f"{base.name}_face{k}.ply"), image))
        if "glb" in kinds:
            written.append(face.save_glb(base.with_name(f"{base.name}_face{k}.glb"), image))
    if kinds & {"overlay", "depth"}:
        region_meshes = [(f.mesh_vertices, f.region.triangles) for f in faces]
        h, w = image.shape[:2]
        scale = min(1.0, PICTURE_MAX_SIDE / max(h, w))
        small = (
            image
            if scale == 1.0
            else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
        )
        scaled = [(resize_pixels(v, scale), t) for v, t in region_meshes]
        if "overlay" in kinds:
            marks = [resize_pixels(f.landmarks_2d, scale) for f in faces]
            axes = []
            for f in faces:
                size = float(np.sqrt(np.prod(np.ptp(f.landmarks_2d, axis=0)))) * scale
                axes.append((resize_pixels(f.landmarks_3d[30], scale), f.pose.rotation, 0.5 * size))
            written.append(
                pictures.write_png(
                    base.with_name(f"{base.name}_overlay.png"), pictures.overlay(small, scaled, marks, axes)
                )
            )
        if "depth" in kinds:
            written.append(
                pictures.write_png(
                    base.with_name(f"{base.name}_depth.png"), pictures.depth_map(small.shape[:2], scaled)
                )
            )
    # the JSON marks the photo done: always written, and last
    record = {
        "image": str(source) if source else None,
        "height": int(image.shape[0]),
        "width": int(image.shape[1]),
        "made_with": made,
        "faces": [f.to_dict() for f in faces],
    }
    written.append(write_json(base.with_name(f"{base.name}.json"), record))


class DiskFullError(DaslError):
    """The output folder's disk (or quota) is full, or read-only: the run stops (every later photo would
    fail the same way)."""


def process_photo(rec: Reconstructor, path: Path, out: Path, stem: Path, kinds: Sequence[str]) -> int:
    """One photo to its files (:func:`write_photo_outputs`); returns its number of faces. A write error is
    a :class:`~dasl.errors.DaslError` naming the file (:class:`DiskFullError` when no photo can be written
    any more), and leaves none of the photo's outputs."""
    with rec.stages.timed("read"):
        image = read_rgb(path)
    faces = rec.reconstruct(image)
    with rec.stages.timed("write"):
        try:
            write_photo_outputs(image, faces, out, stem, kinds, source=path, made=made_with(rec, kinds))
        except OSError as exc:
            where = exc.filename or (out / stem)
            message = f"cannot write the outputs of {path} ({where}: {exc.strerror or exc})"
            if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
                raise DiskFullError(message) from exc
            raise BadInputError(path, message) from exc
    return len(faces)


_WORKER: Reconstructor | None = None


def _start_worker(settings: dict) -> None:
    """A folder run's worker process: one thread per network, its own reconstructor."""
    global _WORKER
    set_inference_threads(1)
    cv2.setNumThreads(1)
    _WORKER = Reconstructor(**settings)
    torch = sys.modules.get("torch")  # the peer's PyTorch, loaded as the reconstructor was made
    if torch is not None:
        torch.set_num_threads(1)


def _worker_photo(args: tuple[Path, Path, Path, tuple[str, ...]]) -> tuple[Path, int | None, str | None, bool]:
    """``(photo, faces, error, the run must stop)``."""
    path, out, stem, kinds = args
    try:
        return path, process_photo(_WORKER, path, out, stem, kinds), None, False
    except DaslError as exc:
        return path, None, str(exc), isinstance(exc, DiskFullError)


def prepare_output_folder(out: Path) -> None:
    """Make the output folder and mark it as dasl's (:data:`OUTPUT_MARKER`), or stop with an error naming it
    before any work is done (its parent is a file, it is read-only, the disk is full)."""
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
        marker = out / OUTPUT_MARKER
        if not marker.exists():
            marker.write_text("dasl reconstruct's outputs: folder runs do not read this folder as input\n")
    except OSError as exc:
        raise DaslError(f"cannot use the output folder {out}: {exc.strerror or exc}") from exc


def default_workers() -> int:
    """Worker processes of a folder run: one per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def run(
    rec: Reconstructor,
    inputs: Sequence[Path],
    out: Path,
    kinds: Sequence[str] = OUTPUTS,
    smooth: float = 0.5,
    progress: bool = True,
    overwrite: bool = False,
    detect_every: int = 10,
    workers: int = 1,
) -> RunReport:
    """Reconstruct every photo and video under ``inputs``; bad files are recorded and skipped. With
    ``workers`` > 1 the photos are shared among that many processes (each a reconstructor made with
    ``rec.settings``, one thread per network: small networks at batch 1 use a core each best); videos run
    here, in order."""
    unknown = set(kinds) - set(OUTPUTS)
    if unknown:
        raise OptionError(f"unknown outputs {sorted(unknown)}; choose from {', '.join(OUTPUTS)}")
    report = RunReport()
    items = collect_inputs(inputs, out)
    report.inputs = len(items)
    prepare_output_folder(out)
    wanted = made_with(rec, kinds)
    photos, videos = [], []
    for path, stem in items:
        is_video = path.suffix.lower() in VIDEO_SUFFIXES
        done_marker = (out / stem).with_name(f"{stem.name}.jsonl" if is_video else f"{stem.name}.json")
        if done_marker.exists() and not overwrite:
            why = None if is_video else _outputs_differ(done_marker, wanted)
            if why is None:
                report.skipped.append(path)
            else:
                report.stale.append((path, why))
        else:
            (videos if is_video else photos).append((path, stem))
    bar = tqdm(
        total=len(photos) + len(videos),
        desc="reconstructing",
        disable=True if len(items) < 2 else bar_disabled(progress),
    )

    def record(path: Path, faces: int | None, error: str | None, stop: bool = False) -> bool:
        """Count one input's result; whether the run goes on."""
        if error is not None:
            report.failed.append((path, error))
        else:
            report.done.append(path)
            if path.suffix.lower() in VIDEO_SUFFIXES:
                report.face_frames += faces
            else:
                report.faces += faces
            if not faces:
                report.no_face.append(path)
        bar.update(1)
        if stop:
            report.stopped = error
        return not stop

    def attempt(path: Path, work) -> bool:
        try:
            return record(path, work(), None)
        except DaslError as exc:
            return record(path, None, str(exc), isinstance(exc, DiskFullError))

    if workers > 1 and len(photos) > 1:
        jobs = [(path, out, stem, tuple(kinds)) for path, stem in photos]
        context = multiprocessing.get_context("spawn")  # no inherited ONNX Runtime threads
        with ProcessPoolExecutor(workers, context, initializer=_start_worker, initargs=(rec.settings,)) as pool:
            pending = [pool.submit(_worker_photo, job) for job in jobs]
            for future in pending:
                if not record(*future.result()):
                    for later in pending:
                        later.cancel()
                    break
    else:
        for path, stem in photos:
            if not attempt(path, lambda p=path, s=stem: process_photo(rec, p, out, s, kinds)):
                break
    for path, stem in videos:
        if report.stopped or not attempt(
            path, lambda p=path, s=stem: process_video(rec, p, out, s, kinds, smooth, detect_every, progress)
        ):
            break
    bar.close()
    return report
