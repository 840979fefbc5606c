"""Fitting the 3DMM to 2D landmarks: regularised non-linear least squares, batched.

Given 2D landmarks of ``N`` faces (image frame, y down), find the 62 parameters whose projected landmarks
match them: pose (rotation, scale, x/y translation) and 40 identity + 10 expression coefficients with a
Gaussian prior (``param_std`` of the 3DMM file). The solver is Levenberg-Marquardt on all faces at once
(per-face normal equations from a vectorised Jacobian), started from a closed-form weak-perspective pose.
It runs in NumPy, float64: the faces of a video frame are fitted one or two at a time, where NumPy's
small-array overhead is a fraction of PyTorch's (the fit of one face: 16 -> 4 ms, docs/product.md).

Targets are any linear combinations of the 68 landmarks (``scheme``): the 68 points themselves, or
2DASL's 18 (which AFLW's 21 annotations provide), each with a visibility flag. ``extra_vertices`` adds
mesh vertices beyond the 68 (e.g. AFLW's ear lobes, ``scripts/aflw_fit_points.py``): a scheme then maps the
68 landmarks followed by those vertices to the targets.

Contour landmarks: on a turned face the annotated jaw line of the far side is the silhouette, not fixed
mesh points. With ``marching=True`` the far side's jaw landmarks (0-4 or 12-16) slide, at every
iteration, to the mesh vertex of their horizontal band that is outermost in the image (landmark
marching, as 300W-LP's labels were made).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from threadpoolctl import ThreadpoolController

from dasl.morphable import layout
from dasl.morphable.model import MorphableModel
from dasl.morphable.pose import rotation_from_euler

#: jaw landmarks that slide along the silhouette; left side (image left on a frontal face) first
MARCHING_LEFT = (0, 1, 2, 3, 4)
MARCHING_RIGHT = (12, 13, 14, 15, 16)
#: faces turned less than this (degrees) keep every landmark on its fixed vertex
MARCHING_MIN_YAW = 10.0


@dataclass
class FitResult:
    """``params`` ``(N, 62)`` in the image model frame (``y_img = H + 1 - y``, ``H`` the image height
    passed to :meth:`LandmarkFitter.fit`); ``rms`` ``(N,)`` root-mean-square landmark residual in pixels;
    ``landmark_vertices`` ``(N, 68)`` the mesh vertices the 68 landmarks ended on (marching)."""

    params: np.ndarray
    rms: np.ndarray
    landmark_vertices: np.ndarray


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def rodrigues(omega: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(..., 3, 3)`` from rotation vectors ``(..., 3)`` (smooth at zero)."""
    theta2 = (omega * omega).sum(-1)[..., None, None]
    theta = np.sqrt(theta2 + 1e-24)
    x, y, z = omega[..., 0], omega[..., 1], omega[..., 2]
    o = np.zeros_like(x)
    k = np.stack([o, -z, y, z, o, -x, -y, x, o], -1).reshape(*omega.shape[:-1], 3, 3)
    small = theta2 < 1e-12
    a = np.where(small, 1 - theta2 / 6, np.sin(theta) / theta)
    b = np.where(small, 0.5 - theta2 / 24, (1 - np.cos(theta)) / np.maximum(theta2, 1e-24))
    return np.eye(3) + a * k + b * (k @ k)


def _basis_times(basis: np.ndarray, coeffs: np.ndarray) -> np.ndarray:
    """``basis`` ``(N, K, 3, J)`` times coefficients ``(N, J)``: ``(N, K, 3)``."""
    return (basis @ coeffs[:, None, :, None])[..., 0]


class LandmarkFitter:
    """Fits ``model`` (a dense 3DMM with landmark indices) to 2D landmarks.

    ``prior`` scales the Gaussian prior on the coefficients: the cost is
    ``sum_k v_k ||x_k - proj_k||^2 / sigma^2 + prior * sum_j (c_j / std_j)^2`` with landmarks measured
    relative to the face size (``sigma`` = 1% of ``sqrt(w h)`` of the landmarks' box). ``extra_vertices``:
    mesh vertex ids that follow the 68 landmarks as columns of a ``scheme`` ``(K, 68 + E)``.

    ``yaw_starts`` (degrees): besides the closed-form start, start the solver again from the mean face
    turned to each of these yaws, and keep for each face the solution of lowest cost. From the closed-form
    start a profile's one-sided points can end as a squeezed near-frontal face; on AFLW's profiles the
    starts -70 and 70 leave 41 such fits of 1,539 instead of 49 (docs/data.md, "AFLW's mouth centre").
    """

    def __init__(
        self,
        model: MorphableModel,
        prior: float = 1.0,
        iterations: int = 15,
        marching: bool = True,
        band_height: float = 0.03,
        extra_vertices: tuple[int, ...] = (),
        yaw_starts: tuple[float, ...] = (),
        trials: int = 4,
    ) -> None:
        if model.keypoints is None or model.face_vertices is None:
            raise ValueError("fitting needs a dense 3DMM with landmark and face-region indices")
        self.model, self.prior, self.iterations, self.marching = model, prior, iterations, marching
        self.trials = trials  # damping trials per Levenberg-Marquardt step (each a residual evaluation)
        self.band_height = band_height
        self.extra_vertices = tuple(int(v) for v in extra_vertices)
        self.yaw_starts = tuple(float(y) for y in yaw_starts)
        if any(not 0 <= v < model.n_vertices for v in self.extra_vertices):
            raise ValueError(f"extra vertices {self.extra_vertices} outside the model's {model.n_vertices}")

    # ------------------------------------------------------------------ model pieces
    @cached_property
    def _mean(self) -> np.ndarray:
        return np.asarray(self.model.mean, dtype=np.float64).reshape(-1, 3)

    @cached_property
    def _basis(self) -> np.ndarray:
        return np.asarray(self.model.basis, dtype=np.float64).reshape(-1, 3, layout.N_SHAPE + layout.N_EXP)

    @cached_property
    def _coeff_std(self) -> np.ndarray:
        return np.asarray(self.model.param_std[layout.SHAPE.start :], dtype=np.float64)

    @cached_property
    def _keypoints(self) -> np.ndarray:
        """The 68 landmark vertices, then the extra vertices."""
        return np.concatenate(
            [np.asarray(self.model.keypoints, dtype=np.int64), np.array(self.extra_vertices, np.int64)]
        )

    @cached_property
    def bands(self) -> tuple[np.ndarray, np.ndarray]:
        """Candidate vertices ``(10, M)`` of the marching landmarks (padded by repetition) and whether each
        band is on the image-left side ``(10,)``."""
        mean = self.model.mean.reshape(-1, 3)
        face = np.asarray(self.model.face_vertices)
        height = np.ptp(mean[face, 1]) * self.band_height
        bands, left = [], []
        for j in (*MARCHING_LEFT, *MARCHING_RIGHT):
            anchor = mean[self.model.keypoints[j]]
            side = np.sign(anchor[0])
            chosen = face[(np.abs(mean[face, 1] - anchor[1]) < height) & (np.sign(mean[face, 0]) == side)]
            chosen = np.union1d(chosen, [self.model.keypoints[j]])
            bands.append(chosen)
            left.append(j in MARCHING_LEFT)
        width = max(len(b) for b in bands)
        padded = np.stack([np.resize(b, width) for b in bands])
        return padded, np.array(left)

    # ------------------------------------------------------------------ geometry
    def _shapes(self, coeffs: np.ndarray, vertex_ids: np.ndarray) -> np.ndarray:
        """Shapes ``(N, 68, 3)`` of coefficients ``(N, 50)`` at per-face vertex ids ``(N, 68)``."""
        return self._mean[vertex_ids] + _basis_times(self._basis[vertex_ids], coeffs)

    def _march(self, rotation, scale, coeffs) -> np.ndarray:
        """Landmark vertices ``(N, 68)``: on the side of the face turned away from the camera (by more than
        ``MARCHING_MIN_YAW``), the jaw landmarks move to the outermost vertex of their band in the current
        projection (the silhouette); elsewhere they stay on the 3DMM's own landmark vertices."""
        band, left = self.bands
        n = len(coeffs)
        flat = band.reshape(-1)
        pts = self._mean[flat][None] + np.einsum("kcj,nj->nkc", self._basis[flat], coeffs)  # (N, 10*M, 3)
        x = (scale[:, None, None] * pts @ rotation.transpose(0, 2, 1))[..., 0].reshape(n, *band.shape)
        pick = np.where(left[None, :, None], x, -x).argmin(-1)  # image-left bands: smallest x
        marched = band[np.arange(band.shape[0])[None, :], pick]  # (N, 10)
        # the model's +x axis turning towards the camera turns its -x side (landmarks 0-7) away
        towards = rotation[:, 2, 0]
        limit = float(np.sin(np.radians(MARCHING_MIN_YAW)))
        away = np.where(left[None, :], towards[:, None] > limit, towards[:, None] < -limit)
        ids = np.tile(self._keypoints, (n, 1))
        columns = list(MARCHING_LEFT + MARCHING_RIGHT)
        ids[:, columns] = np.where(away, marched, ids[:, columns])
        return ids

    # ------------------------------------------------------------------ the solver
    def fit(
        self,
        points: np.ndarray,
        visible: np.ndarray | None = None,
        scheme: np.ndarray | None = None,
        image_height: float | np.ndarray = 0.0,
        start: np.ndarray | None = None,
    ) -> FitResult:
        """Fit ``(N, K, 2)`` image-frame landmarks; ``scheme`` ``(K, 68)`` maps the 68 model landmarks to
        the K targets (identity for 68 points); ``visible`` ``(N, K)``. Returned parameters are in the
        image model frame for photos of height ``image_height``. ``start`` ``(N, 62)`` (same frame): begin
        there instead of the mean face, and centre the coefficients' prior on its coefficients (a fit that
        only corrects a prediction as far as the landmarks ask).

        BLAS runs on one thread here: the matrices are small, and a second BLAS thread only waits for
        the networks' threads (tenfold slower fits beside a busy PyTorch or ONNX Runtime)."""
        with _blas().limit(limits=1, user_api="blas"):
            return self._fit(points, visible, scheme, image_height, start)

    def _fit(self, points, visible, scheme, image_height, start) -> FitResult:
        pts = np.asarray(points, dtype=np.float64)
        n, k = pts.shape[:2]
        vis = np.ones((n, k)) if visible is None else np.asarray(visible, dtype=np.float64)
        a = None if scheme is None else np.asarray(scheme, dtype=np.float64)  # None: the identity
        columns = len(self._keypoints)
        if a is not None and a.shape != (k, columns):
            raise ValueError(f"scheme of shape {a.shape} does not map {columns} model points to {k} targets")
        if a is None and k != columns:
            raise ValueError(f"{k} target points without a scheme: the {columns} model points expected")
        # normalised target frame: y up, centred, unit = 1% of the face size
        valid = (vis > 0)[..., None]
        lo = np.where(valid, pts, np.inf).min(1)
        hi = np.where(valid, pts, -np.inf).max(1)
        centre = (lo + hi) / 2
        unit = np.maximum(np.sqrt((hi - lo).prod(-1)) / 100, 1e-6)
        target = (pts - centre[:, None]) / unit[:, None, None]
        target = np.nan_to_num(np.stack([target[..., 0], -target[..., 1]], -1), nan=0.0, posinf=0.0, neginf=0.0)

        ids0 = np.tile(self._keypoints, (n, 1))
        if start is None:
            coeffs0 = np.zeros((n, layout.N_SHAPE + layout.N_EXP))
            poses = [self._init_pose(target, vis, a, ids0)]
            poses += [self._pose_at_yaw(target, vis, a, ids0, yaw) for yaw in self.yaw_starts]
        else:
            *pose, coeffs0 = self._from_image_params(start, centre, unit, image_height)
            poses = [tuple(pose)]
        best = None
        for rotation, scale, shift in poses:
            vertex_ids, coeffs, mu = ids0, coeffs0, np.full(n, 1e-3)
            for it in range(self.iterations):
                if self.marching and it > 0:
                    vertex_ids = self._march(rotation, scale, coeffs)
                rotation, scale, shift, coeffs, mu = self._lm_step(
                    target, vis, a, vertex_ids, rotation, scale, shift, coeffs, mu, coeffs0
                )
            residual = self._residual_points(target, a, vertex_ids, rotation, scale, shift, coeffs)
            fit_cost = ((residual**2).sum(-1) * vis).sum(1)
            prior_cost = self.prior * (((coeffs - coeffs0) / self._coeff_std) ** 2).sum(1)
            found = (fit_cost + prior_cost, fit_cost, rotation, scale, shift, coeffs, vertex_ids)
            if best is None:
                best = found
            else:  # each face keeps the start that ended lowest
                lower = found[0] < best[0]
                best = tuple(
                    np.where(lower.reshape(-1, *[1] * (x.ndim - 1)), x, kept)
                    for x, kept in zip(found, best, strict=True)
                )
        _, fit_cost, rotation, scale, shift, coeffs, vertex_ids = best
        rms = np.sqrt(fit_cost / np.maximum(vis.sum(1), 1)) * unit
        landmark_ids = vertex_ids[:, :68]
        params = self._to_image_params(rotation, scale, shift, coeffs, centre, unit, landmark_ids, image_height)
        return FitResult(params, rms, landmark_ids)

    @staticmethod
    def _combine(a: np.ndarray | None, x: np.ndarray) -> np.ndarray:
        """The targets' combinations ``a @ x`` of per-landmark rows ``x`` ``(N, 68, ...)``; ``a`` None is
        the identity."""
        if a is None:
            return x
        return (a @ x.reshape(*x.shape[:2], -1)).reshape(x.shape[0], a.shape[0], *x.shape[2:])

    def _project(self, shapes, rotation, scale, shift):
        return scale[:, None, None] * shapes @ rotation[:, :2].transpose(0, 2, 1) + shift[:, None]

    def _residual_points(self, target, a, ids, rotation, scale, shift, coeffs):
        proj = self._project(self._shapes(coeffs, ids), rotation, scale, shift)
        return self._combine(a, proj) - target

    def _init_pose(self, target, vis, a, ids):
        """Weak-perspective pose of the mean face: affine camera by least squares, made a scaled rotation."""
        shapes = self._combine(a, self._mean[ids])  # (N, K, 3)
        w = vis[..., None]
        sm = (w * shapes).sum(1) / w.sum(1)
        tm = (w * target).sum(1) / w.sum(1)
        s0, t0 = (shapes - sm[:, None]) * w, (target - tm[:, None]) * w
        s0t = s0.transpose(0, 2, 1)
        m = np.linalg.solve(s0t @ s0, s0t @ t0).transpose(0, 2, 1)  # (N, 2, 3): target ~ m @ shape
        u, sigma, vt = np.linalg.svd(m, full_matrices=False)
        r12 = u @ vt  # (N, 2, 3) orthonormal rows
        r3 = np.cross(r12[:, 0], r12[:, 1])
        rotation = np.concatenate([r12, r3[:, None]], 1)
        scale = sigma.mean(-1)
        shift = tm - scale[:, None] * (sm[:, None] @ rotation[:, :2].transpose(0, 2, 1))[:, 0]
        return rotation, scale, shift

    def _pose_at_yaw(self, target, vis, a, ids, yaw: float):
        """The mean face turned to ``yaw`` degrees: scale and shift by weighted least squares."""
        n = len(target)
        rotation = np.repeat(rotation_from_euler(np.array([[yaw, 0.0, 0.0]])), n, 0)
        proj = self._combine(a, self._mean[ids] @ rotation[:, :2].transpose(0, 2, 1))  # (N, K, 2)
        w = vis[..., None]
        pm = (w * proj).sum(1) / w.sum(1)
        tm = (w * target).sum(1) / w.sum(1)
        p0, t0 = proj - pm[:, None], target - tm[:, None]
        scale = np.maximum((w * p0 * t0).sum((1, 2)) / np.maximum((w * p0**2).sum((1, 2)), 1e-12), 1e-3)
        return rotation, scale, tm - scale[:, None] * pm

    def _residuals(self, theta, rotation, mean_ids, basis_ids, target, sw, a, prior, prior_centre):
        """Residuals ``(N, 2K + 50)`` of every face at ``theta`` ``(N, 56)``: the rotation update (a
        rotation vector applied after ``rotation``), log scale, 2D shift and the 50 coefficients. Rows:
        the weighted landmark residuals, then the prior's ``prior * (c - prior_centre)``."""
        rot = rotation @ rodrigues(theta[:, :3]) if theta[:, :3].any() else rotation  # no update: itself
        c = theta[:, 6:]
        shape = mean_ids + _basis_times(basis_ids, c)
        proj = np.exp(theta[:, 3])[:, None, None] * shape @ rot[:, :2].transpose(0, 2, 1) + theta[:, None, 4:6]
        res = (self._combine(a, proj) - target) * sw[..., None]
        return np.concatenate([res.reshape(len(theta), -1), prior * (c - prior_centre)], 1)

    def _jacobian(self, rotation, scale, coeffs, mean_ids, basis_ids, sw, a, prior) -> np.ndarray:
        """The residuals' Jacobian ``(N, 2K + 50, 56)`` at a zero rotation update, in closed form: with
        ``X`` a landmark's 3D point and ``P`` the first two rows of ``rotation``, its projection
        ``s P X + t`` moves by ``-s P [X]x`` per rotation-vector unit, by itself minus ``t`` per unit of
        log scale, by the identity per shift and by ``s P B`` per coefficient (``B`` its basis rows)."""
        n, landmarks = len(coeffs), mean_ids.shape[1]
        x = mean_ids + _basis_times(basis_ids, coeffs)  # (N, 68, 3)
        p2 = scale[:, None, None] * rotation[:, :2]  # (N, 2, 3)
        o = np.zeros_like(x[..., 0])
        neg_skew = np.stack([o, x[..., 2], -x[..., 1], -x[..., 2], o, x[..., 0], x[..., 1], -x[..., 0], o], -1).reshape(
            n, landmarks, 3, 3
        )
        per_landmark = np.empty((n, landmarks, 2, 56))
        per_landmark[..., :3] = p2[:, None] @ neg_skew
        per_landmark[..., 3] = x @ p2.transpose(0, 2, 1)
        per_landmark[..., 4:6] = np.eye(2)
        per_landmark[..., 6:] = p2[:, None] @ basis_ids
        rows = self._combine(a, per_landmark) * sw[:, :, None, None]
        jac = np.zeros((n, rows.shape[1] * 2 + len(prior), 56))
        jac[:, : rows.shape[1] * 2] = rows.reshape(n, -1, 56)
        jac[:, rows.shape[1] * 2 :, 6:] = np.diag(prior)
        return jac

    def _lm_step(self, target, vis, a, ids, rotation, scale, shift, coeffs, mu, prior_centre):
        n = len(target)
        prior = self.prior**0.5 / self._coeff_std
        mean_ids, basis_ids = self._mean[ids], self._basis[ids]
        sw = np.sqrt(vis)
        theta = np.concatenate([np.zeros((n, 3)), np.log(scale)[:, None], shift, coeffs], 1)
        args = (rotation, mean_ids, basis_ids, target, sw, a, prior, prior_centre)
        r = self._residuals(theta, *args)
        jac = self._jacobian(rotation, scale, coeffs, mean_ids, basis_ids, sw, a, prior)
        jt = jac.transpose(0, 2, 1)
        jtj = jt @ jac
        jtr = (jt @ r[..., None])[..., 0]
        cost = (r**2).sum(1)
        eye = np.eye(theta.shape[1])
        diag = np.diagonal(jtj, axis1=1, axis2=2)[:, None, :] * eye
        best_theta, best_cost = theta.copy(), cost.copy()
        for _ in range(self.trials):  # damping search: each face keeps its lowest-cost trial step
            step = np.linalg.solve(jtj + mu[:, None, None] * (diag + 1e-9 * eye), -jtr[..., None])[..., 0]
            trial = theta + step
            new_cost = (self._residuals(trial, *args) ** 2).sum(1)
            better = new_cost < best_cost
            best_theta = np.where(better[:, None], trial, best_theta)
            best_cost = np.where(better, new_cost, best_cost)
            mu = np.where(better, mu * 0.3, mu * 10)
        rotation = rotation @ rodrigues(best_theta[:, :3])
        return rotation, np.exp(best_theta[:, 3]), best_theta[:, 4:6], best_theta[:, 6:], np.clip(mu, 1e-9, 1e9)

    def _from_image_params(self, params: np.ndarray, centre, unit, image_height):
        """The normalised fit's rotation, scale, shift and coefficients of image-model-frame parameters
        (the inverse of :meth:`_to_image_params` for x and y; depth is left to the fit's convention)."""
        p = np.asarray(params, dtype=np.float64)
        n = len(p)
        h = np.broadcast_to(np.asarray(image_height, dtype=np.float64), (n,))
        fr, t = layout.affine(p)
        u, sigma, vt = np.linalg.svd(fr)
        rotation = u @ vt
        flip = np.linalg.det(rotation) < 0  # a reflection: the nearest proper rotation instead
        if flip.any():
            u = u.copy()
            u[flip, :, -1] *= -1
            rotation = u @ vt
        scale = sigma.mean(-1) / unit
        shift = np.stack([(t[:, 0] - centre[:, 0]) / unit, (t[:, 1] - h - 1 + centre[:, 1]) / unit], -1)
        return rotation, scale, shift, p[:, layout.SHAPE.start :].copy()

    def _to_image_params(self, rotation, scale, shift, coeffs, centre, unit, ids, image_height):
        """Parameters in the image model frame (``y_img = H + 1 - y``) from the normalised fit."""
        n = len(coeffs)
        h = np.broadcast_to(np.asarray(image_height, dtype=np.float64), (n,))
        fr = (unit * scale)[:, None, None] * rotation
        # x_img = unit * x_n + cx ;  y (y up, image model frame) = H + 1 - y_img = unit * y_n + H + 1 - cy
        tx = unit * shift[:, 0] + centre[:, 0]
        ty = unit * shift[:, 1] + h + 1 - centre[:, 1]
        # depth: the landmarks' mean depth is zero
        shapes = self._shapes(coeffs, ids)
        tz = -(shapes @ fr[:, 2:3].transpose(0, 2, 1))[..., 0].mean(1)
        t = np.stack([tx, ty, tz], -1)
        return layout.compose(fr, t, coeffs[:, : layout.N_SHAPE], coeffs[:, layout.N_SHAPE :])
