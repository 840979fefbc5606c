"""Head pose: split ``[f*R | t]`` into scale, rotation and translation; Euler angles.

Angle convention (that of AFLW2000-3D / 300W-LP ``Pose_Para = [pitch, yaw, roll, tx, ty, tz, s]``):
with ``Rx, Ry, Rz`` the right-handed elementary rotations about x, y, z, the rotation inside the
62 parameters is ::

    R = (Rz(roll) @ Ry(yaw) @ Rx(pitch)).T

so ``Pose_Para``'s angles come back unchanged from :func:`euler_from_rotation` applied to the parameters
converted from it. dasl reports angles as ``[yaw, pitch, roll]`` in degrees, in this order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dasl.morphable import layout


def _rx(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([o, z, z, z, c, -s, z, s, c], -1).reshape(*a.shape, 3, 3)


def _ry(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, z, s, z, o, z, -s, z, c], -1).reshape(*a.shape, 3, 3)


def _rz(a: np.ndarray) -> np.ndarray:
    c, s, o, z = np.cos(a), np.sin(a), np.ones_like(a), np.zeros_like(a)
    return np.stack([c, -s, z, s, c, z, z, z, o], -1).reshape(*a.shape, 3, 3)


def rotation_from_euler(angles_deg: np.ndarray) -> np.ndarray:
    """``[yaw, pitch, roll]`` in degrees ``(N, 3)`` to the parameters' rotation ``(N, 3, 3)``."""
    yaw, pitch, roll = np.radians(np.asarray(angles_deg, dtype=np.float64)).T
    return (_rz(roll) @ _ry(yaw) @ _rx(pitch)).swapaxes(-1, -2)


def euler_from_rotation(rotation: np.ndarray) -> np.ndarray:
    """The parameters' rotation ``(N, 3, 3)`` to ``[yaw, pitch, roll]`` in degrees ``(N, 3)``.

    Yaw is in [-90, 90]; at exactly +-90 degrees (gimbal lock) roll is set to 0 and the remaining
    rotation is reported as pitch.
    """
    m = np.asarray(rotation, dtype=np.float64).swapaxes(-1, -2)  # Rz(roll) Ry(yaw) Rx(pitch)
    sin_yaw = np.clip(-m[..., 2, 0], -1.0, 1.0)
    yaw = np.arcsin(sin_yaw)
    locked = np.abs(sin_yaw) > 1 - 1e-9
    pitch = np.where(
        locked,
        np.arctan2(m[..., 0, 1] * np.sign(sin_yaw), m[..., 1, 1]),
        np.arctan2(m[..., 2, 1], m[..., 2, 2]),
    )
    roll = np.where(locked, 0.0, np.arctan2(m[..., 1, 0], m[..., 0, 0]))
    return np.degrees(np.stack([yaw, pitch, roll], -1))


@dataclass(frozen=True)
class Pose:
    """Similarity part of a batch of parameters: ``V = scale * rotation @ S + translation``.

    ``scale`` ``(N,)``, ``rotation`` ``(N, 3, 3)`` (proper, orthonormal), ``translation`` ``(N, 3)``,
    ``angles`` ``(N, 3)`` as ``[yaw, pitch, roll]`` degrees.
    """

    scale: np.ndarray
    rotation: np.ndarray
    translation: np.ndarray

    @property
    def angles(self) -> np.ndarray:
        return euler_from_rotation(self.rotation)


def decompose(params: np.ndarray) -> Pose:
    """Split ``(N, 62)`` parameters into scale, rotation and translation.

    A regressed ``f*R`` is rarely an exact scaled rotation; the rotation returned is the nearest proper
    rotation (polar decomposition via SVD) and the scale the mean singular value.
    """
    scaled_rotation, translation = layout.affine(np.asarray(params, dtype=np.float64))
    u, sigma, vt = np.linalg.svd(scaled_rotation)
    det = np.sign(np.linalg.det(u @ vt))
    u[..., :, 2] *= det[..., None]
    rotation = u @ vt
    return Pose(scale=sigma.mean(-1), rotation=rotation, translation=translation)


def compose_affine(scale: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    """Scale ``(N,)``, rotation ``(N, 3, 3)`` and translation ``(N, 3)`` to the 12 pose parameters."""
    scaled = np.asarray(scale)[..., None, None] * rotation
    return np.concatenate([scaled, np.asarray(translation)[..., None]], -1).reshape(*scaled.shape[:-2], 12)


def complete_depth_row(params: np.ndarray) -> np.ndarray:
    """Parameters ``(N, 62)`` whose third row of ``f*R`` is rebuilt from the first two.

    For a scaled rotation ``f*R`` (proper ``R``) the rows satisfy ``r3 = (r1 x r2) / f``. Only the first
    two rows move the 2D landmarks, so a model trained on 2D-projected errors alone (dasl's L3d with
    ``loss.coefficient_dims = 2`` and the 2D-assisted losses) never learns the third; rebuilding it
    gives the mesh its depth and :func:`decompose` a pose consistent with what the image shows. The
    translation is kept. Ground-truth labels of HELEN/AFW satisfy the identity to 1e-15.
    """
    p = np.array(params, dtype=np.float64)
    scaled_rotation, _ = layout.affine(p)
    r1, r2 = scaled_rotation[..., 0, :], scaled_rotation[..., 1, :]
    scale = (np.linalg.norm(r1, axis=-1) + np.linalg.norm(r2, axis=-1)) / 2
    r3 = np.cross(r1, r2) / np.maximum(scale, np.finfo(np.float64).tiny)[..., None]
    p[..., layout.DEPTH_ROW] = r3
    return p
