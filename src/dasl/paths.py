"""Where dasl finds the shared data (the 3DMM, the benchmarks, peer weights).

The shared folder is never copied into the repository; dasl reads it in place. Its location is, in order
of precedence:

1. an explicit ``root`` argument (the CLI's ``--shared`` option),
2. the environment variable ``DASL_SHARED`` (when set, it must name a folder: no fallback),
3. ``../shared`` beside the repository this package was installed from (editable installs),
4. ``../shared`` relative to the current working directory.

Every file is requested through :meth:`SharedData.require`, which raises :class:`MissingFileError` naming
the path and what the file is, so a user knows exactly what is missing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dasl.errors import MissingFileError

ENV_VAR = "DASL_SHARED"
#: the trained models the package ships (``dasl/weights``)
WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"

#: Every shared file dasl reads, with a description used in error messages.
FILES: dict[str, str] = {
    "bfm": "assets/bfm/bfm_62.npz",
    "aflw2000_images": "data/aflw2000-3d/images",
    "aflw2000_crops": "data/aflw2000-3d/crops",
    "aflw2000_pts68": "data/aflw2000-3d/protocol/AFLW2000-3D.pts68.npy",
    "aflw2000_pts68_reannotated": "data/aflw2000-3d/protocol/AFLW2000-3D-Reannotated.pts68.npy",
    "aflw2000_pts21": "data/aflw2000-3d/protocol/AFLW2000-3D.pts21.npy",
    "aflw2000_yaw": "data/aflw2000-3d/protocol/AFLW2000-3D.pose.npy",
    "aflw2000_yaw_new": "data/aflw2000-3d/protocol/AFLW2000-3D-new.pose.npy",
    "aflw2000_roi": "data/aflw2000-3d/protocol/AFLW2000-3D_crop.roi_box.npy",
    "aflw2000_list": "data/aflw2000-3d/protocol/AFLW2000-3D_crop.list",
    "aflw1998_list": "data/aflw2000-3d/protocol/AFLW1998-3D_crop.list",
    "aflw_wild": "data/aflw-wild",
    "helen_afw": "data/helen-afw",
    "samples": "data/samples",
    "peer_mb05_weights": "models/peers/3ddfa_v2_mb05_120x120.pth",
    "peer_mb05_bfm68": "models/peers/3ddfa_v2_bfm68.npz",
    "faceboxes": "models/peers/faceboxes_prod.pth",
}

DESCRIPTIONS: dict[str, str] = {
    "bfm": "the 3D Morphable Model (62-parameter BFM)",
    "aflw2000_images": "the AFLW2000-3D photos and .mat files",
    "aflw2000_crops": "the AFLW2000-3D benchmark crops (120x120)",
    "aflw2000_pts68": "the AFLW2000-3D 68-point ground truth",
    "aflw2000_pts68_reannotated": "the re-annotated AFLW2000-3D 68-point ground truth",
    "aflw2000_pts21": "AFLW's own 21 annotated points of the AFLW2000-3D images",
    "aflw2000_yaw": "the AFLW2000-3D yaw angles",
    "aflw2000_yaw_new": "the re-estimated AFLW2000-3D yaw angles",
    "aflw2000_roi": "the AFLW2000-3D crop boxes",
    "aflw2000_list": "the AFLW2000-3D image list",
    "aflw1998_list": "the AFLW1998-3D image list",
    "aflw_wild": "the in-the-wild AFLW crops",
    "helen_afw": "the HELEN/AFW landmarked photos",
    "samples": "the sample photos",
    "peer_mb05_weights": "the 3DDFA_V2 MobileNetV1x0.5 peer weights",
    "peer_mb05_bfm68": "the 3DDFA_V2 peer's 68-landmark basis",
    "faceboxes": "the FaceBoxes face detector weights of the 3DDFA_V2 peer's pipeline",
}


def _candidates() -> list[tuple[str, Path]]:
    found: list[tuple[str, Path]] = []
    env = os.environ.get(ENV_VAR)
    if env:
        found.append((f"${ENV_VAR}", Path(env)))
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file():
            found.append(("beside the repository", parent.parent / "shared"))
            break
    found.append(("beside the working directory", Path.cwd().parent / "shared"))
    return found


def resolve_root(root: str | Path | None = None) -> Path:
    """Return the shared data folder (see the module docstring for the search order)."""
    if root is not None:
        path = Path(root).expanduser()
        if not path.is_dir():
            raise MissingFileError(path, "shared data folder (given with --shared)")
        return path
    env = os.environ.get(ENV_VAR)
    if env and not Path(env).expanduser().is_dir():  # set, but wrong: never silently another folder
        raise MissingFileError(Path(env), f"shared data folder (given with ${ENV_VAR})")
    tried = _candidates()
    for _, path in tried:
        if path.is_dir():
            return path.resolve()
    looked = "\n".join(f"  {how}: {path}" for how, path in tried)
    raise MissingFileError(
        tried[0][1],
        "shared data folder",
        f"looked in:\n{looked}\nset {ENV_VAR}=/path/to/shared or pass --shared /path/to/shared",
    )


@dataclass(frozen=True)
class SharedData:
    """The shared data folder; ``SharedData.find()`` locates it."""

    root: Path

    @classmethod
    def find(cls, root: str | Path | None = None) -> SharedData:
        return cls(resolve_root(root))

    def path(self, key: str) -> Path:
        """Path of a known shared file or folder, whether or not it exists."""
        return self.root / FILES[key]

    def require(self, key: str) -> Path:
        """Path of a known shared file or folder; :class:`MissingFileError` if it is absent."""
        path = self.path(key)
        if not path.exists():
            raise MissingFileError(
                path, DESCRIPTIONS[key], f"(shared data folder: {self.root}; see ../shared/README.md)"
            )
        return path
