"""The 3D Morphable Model: loading, batched reconstruction in numpy and torch, subsets.

Reconstruction works on numpy arrays and on torch tensors with the same code (torch stays differentiable),
always batch first: parameters ``(N, 62)`` give vertices ``(N, K, 3)`` in the *model frame* (x right,
y up, z towards the camera, units of crop pixels; see ``docs/conventions.md``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from pathlib import Path

import numpy as np

from dasl.errors import BadInputError, MissingFileError
from dasl.morphable import layout
from dasl.morphable.layout import Array, torch_if_tensor
from dasl.paths import SharedData

_REQUIRED = ("mean_shape", "shape_basis", "exp_basis", "param_mean", "param_std")


@dataclass(frozen=True, eq=False)
class MorphableModel:
    """A linear face model over ``K`` vertices with 40 identity and 10 expression components.

    Arrays are xyz-interleaved like the file: ``mean`` ``(3K,)``, ``basis`` ``(3K, 50)`` (identity
    columns first, then expression).  ``keypoints`` are the vertex ids of the 68 landmarks when the
    model is dense, ``None`` for a model that only holds landmarks.
    """

    mean: np.ndarray
    basis: np.ndarray
    param_mean: np.ndarray
    param_std: np.ndarray
    name: str = "bfm"
    keypoints: np.ndarray | None = None
    triangles: np.ndarray | None = None
    uv: np.ndarray | None = None
    mean_texture: np.ndarray | None = None
    symmetric_pairs: np.ndarray | None = None
    face_vertices: np.ndarray | None = None
    face_triangles: np.ndarray | None = None
    _torch_cache: dict = field(default_factory=dict, repr=False, compare=False)

    # ------------------------------------------------------------------ loading
    @classmethod
    def load(cls, path: str | Path, name: str | None = None) -> MorphableModel:
        """Load a model file in the layout of ``bfm_62.npz`` (see ``../shared/README.md``).

        Files holding only ``mean_shape``, ``shape_basis``, ``exp_basis``, ``param_mean``, ``param_std``
        (like the 3DDFA_V2 peer's 68-landmark file) load as landmark-only models.
        """
        path = Path(path)
        if not path.is_file():
            raise MissingFileError(path, "3DMM file")
        try:
            data = np.load(path)
            arrays = {key: data[key] for key in data.files}
        except Exception as exc:  # numpy raises several types for corrupt files
            raise BadInputError(path, f"cannot read the 3DMM file ({exc})") from exc
        missing = [key for key in _REQUIRED if key not in arrays]
        if missing:
            raise BadInputError(path, f"not a 3DMM file: missing arrays {', '.join(missing)}")
        mean = arrays["mean_shape"].astype(np.float32)
        basis = np.concatenate([arrays["shape_basis"], arrays["exp_basis"]], axis=1).astype(np.float32)
        if basis.shape != (mean.shape[0], layout.N_SHAPE + layout.N_EXP) or mean.shape[0] % 3:
            raise BadInputError(path, f"bases of shape {basis.shape} do not match a mean of {mean.shape}")
        opt = {key: arrays.get(key) for key in ("triangles", "uv", "mean_texture", "symmetric_pairs")}
        return cls(
            mean=mean,
            basis=basis,
            param_mean=arrays["param_mean"].astype(np.float32),
            param_std=arrays["param_std"].astype(np.float32),
            name=name or path.stem,
            keypoints=arrays.get("keypoint_vertices"),
            face_vertices=arrays.get("noneck_vertices"),
            face_triangles=arrays.get("noneck_triangles"),
            **opt,
        )

    # ------------------------------------------------------------------ structure
    @property
    def n_vertices(self) -> int:
        return self.mean.shape[0] // 3

    def subset(self, vertex_ids: np.ndarray, name: str | None = None) -> MorphableModel:
        """A model over the given vertices only (mesh data dropped), e.g. the 68 landmarks."""
        ids = np.asarray(vertex_ids, dtype=np.int64)
        flat = (3 * ids[:, None] + np.arange(3)).reshape(-1)
        return replace(
            self,
            mean=self.mean[flat],
            basis=self.basis[flat],
            name=name or f"{self.name}[{len(ids)}]",
            keypoints=None,
            triangles=None,
            uv=None,
            mean_texture=None,
            symmetric_pairs=None,
            face_vertices=None,
            face_triangles=None,
            _torch_cache={},
        )

    @cached_property
    def landmarks68(self) -> MorphableModel:
        """The sparse model of the 68 landmarks (the model itself if it holds only those)."""
        if self.keypoints is None:
            if self.n_vertices != 68:
                raise ValueError(f"{self.name} has no landmark indices")
            return self
        return self.subset(self.keypoints, name=f"{self.name}-68")

    # ------------------------------------------------------------------ whitening
    def whiten(self, params: Array) -> Array:
        return layout.whiten(params, self.param_mean, self.param_std)

    def unwhiten(self, params: Array) -> Array:
        return layout.unwhiten(params, self.param_mean, self.param_std)

    # ------------------------------------------------------------------ reconstruction
    def arrays_like(self, like: Array) -> tuple[Array, Array]:
        """``mean`` and ``basis`` as the same kind of array as ``like`` (torch tensors cached per device/dtype)."""
        torch = torch_if_tensor(like)
        if torch is not None:
            key = (like.device, like.dtype)
            if key not in self._torch_cache:
                self._torch_cache[key] = (
                    torch.as_tensor(self.mean, dtype=like.dtype, device=like.device),
                    torch.as_tensor(self.basis, dtype=like.dtype, device=like.device),
                )
            return self._torch_cache[key]
        return self.mean, self.basis

    def shape(self, params: Array) -> Array:
        """Shape in the model's own coordinates (before pose): ``(N, 62) -> (N, K, 3)``."""
        mean, basis = self.arrays_like(params)
        coeffs = params[..., layout.SHAPE.start : layout.EXPRESSION.stop]
        flat = mean + coeffs @ basis.T
        return flat.reshape(*params.shape[:-1], self.n_vertices, 3)

    def vertices(self, params: Array) -> Array:
        """Posed vertices in the model frame: ``(N, 62) -> (N, K, 3)``, ``V = S @ (f R)^T + t``."""
        scaled_rotation, translation = layout.affine(params)
        return self.shape(params) @ scaled_rotation.swapaxes(-1, -2) + translation[..., None, :]

    def landmarks(self, params: Array) -> Array:
        """The 68 landmarks in the model frame: ``(N, 62) -> (N, 68, 3)``."""
        return self.landmarks68.vertices(params)


def load_bfm(shared=None) -> MorphableModel:
    """The project's 3DMM (``assets/bfm/bfm_62.npz`` in the shared folder: a :class:`SharedData`, a
    folder, or ``None`` for the default location), loaded once per path."""
    data = shared if isinstance(shared, SharedData) else SharedData.find(shared)
    return _load_cached(str(data.require("bfm")))


@cache
def _load_cached(path: str) -> MorphableModel:
    return MorphableModel.load(path, name="bfm")
