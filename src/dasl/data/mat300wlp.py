"""Ground-truth labels in the 300W-LP / AFLW2000-3D ``.mat`` layout, and their conversion to 62 parameters.

A label file holds ``Pose_Para = [pitch, yaw, roll, tx, ty, tz, s]`` (radians), ``Shape_Para`` (199 BFM
identity coefficients), ``Exp_Para`` (29 expression coefficients), and optionally ``pt2d`` / ``pt3d_68``
landmarks and ``roi``. The face is ``V = s R S + t`` with ``R = (Rz(roll) Ry(yaw) Rx(pitch))^T`` in the
image model frame (``y_img = H + 1 - y``). Truncating the coefficients to the first 40 / 10 gives this
project's 62-parameter layout (to about 0.8% NME on AFLW2000-3D's landmarks).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.io

from dasl.errors import BadInputError, MissingFileError
from dasl.geometry.params import image_to_crop_params
from dasl.morphable import layout
from dasl.morphable.pose import compose_affine, decompose, rotation_from_euler


@dataclass(frozen=True)
class MatLabel:
    """One ``.mat`` label. Angles in radians as in the file."""

    pose_para: np.ndarray  # (7,)
    shape_para: np.ndarray  # (>=40,)
    exp_para: np.ndarray  # (>=10,)
    pt2d: np.ndarray | None = None  # (2, K) image frame
    pt3d_68: np.ndarray | None = None  # (3, 68) image frame
    roi: np.ndarray | None = None


def read_mat(path: str | Path) -> MatLabel:
    """Read a 300W-LP-layout ``.mat`` file; :class:`BadInputError` names the file if it is not one."""
    path = Path(path)
    if not path.is_file():
        raise MissingFileError(path, "3DMM label (.mat)")
    try:
        m = scipy.io.loadmat(str(path))
    except Exception as exc:
        raise BadInputError(path, f"not a readable .mat file ({exc})") from exc
    missing = [k for k in ("Pose_Para", "Shape_Para", "Exp_Para") if k not in m]
    if missing:
        raise BadInputError(path, f"not a 300W-LP label: missing {', '.join(missing)}")
    pose = np.asarray(m["Pose_Para"], dtype=np.float64).reshape(-1)
    shape = np.asarray(m["Shape_Para"], dtype=np.float64).reshape(-1)
    exp = np.asarray(m["Exp_Para"], dtype=np.float64).reshape(-1)
    if pose.size != 7 or shape.size < layout.N_SHAPE or exp.size < layout.N_EXP:
        raise BadInputError(
            path, f"unexpected sizes Pose_Para {pose.size}, Shape_Para {shape.size}, Exp_Para {exp.size}"
        )

    def opt(key: str) -> np.ndarray | None:
        return np.asarray(m[key], dtype=np.float64) if key in m else None

    return MatLabel(pose, shape, exp, opt("pt2d"), opt("pt3d_68"), opt("roi"))


def pose_para_to_image_params(pose_para: np.ndarray, shape_para: np.ndarray, exp_para: np.ndarray) -> np.ndarray:
    """``Pose_Para`` ``(N, 7)`` and coefficients ``(N, >=40)``, ``(N, >=10)`` to ``(N, 62)`` parameters in the
    image model frame (coefficients truncated to 40 / 10)."""
    pose = np.atleast_2d(np.asarray(pose_para, dtype=np.float64))
    pitch, yaw, roll = pose[:, 0], pose[:, 1], pose[:, 2]
    rotation = rotation_from_euler(np.degrees(np.stack([yaw, pitch, roll], -1)))
    affine = compose_affine(pose[:, 6], rotation, pose[:, 3:6])
    shape = np.atleast_2d(shape_para)[:, : layout.N_SHAPE]
    exp = np.atleast_2d(exp_para)[:, : layout.N_EXP]
    return np.concatenate([affine, shape, exp], -1)


def image_params_to_pose_para(params: np.ndarray) -> np.ndarray:
    """Inverse of the pose part of :func:`pose_para_to_image_params`: ``(N, 62)`` to ``Pose_Para`` ``(N, 7)``."""
    pose = decompose(params)
    yaw, pitch, roll = np.radians(pose.angles).T
    return np.stack([pitch, yaw, roll, *pose.translation.T, pose.scale], -1)


def label_to_crop_params(label: MatLabel, roi: np.ndarray, image_height: float) -> np.ndarray:
    """A label to ``(62,)`` parameters in the crop frame of ``roi`` ``[sx, sy, ex, ey]``."""
    params = pose_para_to_image_params(label.pose_para, label.shape_para, label.exp_para)
    return image_to_crop_params(params, np.asarray(roi)[None], image_height)[0]
