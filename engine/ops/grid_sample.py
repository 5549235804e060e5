"""``affine_grid`` and ``grid_sample`` (4-D input; bilinear and nearest; zeros, border and reflection padding).

``affine_grid`` is a product of a constant base grid with the transposed matrices, so autograd differentiates
it to any order. ``grid_sample`` is one node: forward gathers the four corners (one for nearest) of every
sampling point as rows of the channels-last input at once, backward scatters the weighted gradient back to the input
and, for bilinear, sums corner values times the weights' derivatives into the grid's gradient, chained through
the padding mode's coordinate map as PyTorch's ``*_set_grad`` helpers do (borders count as outside, so the
clip's derivative is zero there). Like PyTorch's, its backward is not differentiable again.
"""

import warnings

import numpy as np

from ..dtypes import FLOAT_KINDS, legacy_name
from ..tensor import make_tensor
from .op import Op, xp_of
from .pool import _dims, _plane_scatter

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
                  "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
                  "details.")


def _clip(x, size):
    """PyTorch's ``clip_coordinates_set_grad``: ``x`` clipped to [0, size - 1] and its derivative."""
    return x.clip(0, size - 1), (x > 0) & (x < size - 1)


def _reflect(x, twice_low, twice_high):
    """PyTorch's ``reflect_coordinates_set_grad``: ``x`` reflected into [low, high] and its derivative (+-1)."""
    xp = xp_of(x)
    if twice_low == twice_high:
        return xp.zeros_like(x), xp.zeros_like(x)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    x = x - low
    sign = xp.where(x < 0, -1, 1).astype(x.dtype)
    x = abs(x)
    extra = xp.fmod(x, span)
    even = xp.floor(x / span) % 2 == 0
    return xp.where(even, extra + low, span - extra + low), xp.where(even, sign, -sign)


def _source(coord, size, padding_mode, align_corners):
    """Source pixel coordinates along one axis for normalised ``coord``, and d(source)/d(coord)."""
    if align_corners:
        x, mult = (coord + 1) / 2 * (size - 1), (size - 1) / 2
    else:
        x, mult = ((coord + 1) * size - 1) / 2, size / 2
    if padding_mode == "zeros":
        return x, mult
    if padding_mode == "reflection":
        x, d = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
        mult = mult * d
    x, d = _clip(x, size)
    return x, mult * d


def _corner(xp, rows, cols, h, w):
    """Flat H*W index of each (row, col) (clamped inside) and whether it lies inside the input."""
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    return rows.clip(0, h - 1).astype(np.int64) * w + cols.clip(0, w - 1).astype(np.int64), inside


def _rows(x):
    """(N, C, H, W) as (N*H*W, C): each pixel's channels one row, so a sampling point's corner is one row gather."""
    n, c = x.shape[:2]
    return x.reshape(n, c, -1).transpose(0, 2, 1).reshape(-1, c)


class GridSample(Op):
    __slots__ = ("deriv", "index", "mults", "rows", "shape", "weights")
    _name = "GridSampler2DBackward0"
    saves = 1

    def forward(self, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        xp = xp_of(x)
        n, c, h, w = x.shape
        ix, mx = _source(grid[..., 0], w, padding_mode, align_corners)
        iy, my = _source(grid[..., 1], h, padding_mode, align_corners)
        if mode == "nearest":
            index, inside = _corner(xp, xp.rint(iy), xp.rint(ix), h, w)
            index, weights = index[..., None], inside[..., None].astype(x.dtype)
            self.deriv = None
        else:
            x0, y0 = xp.floor(ix), xp.floor(iy)
            tx, ty = ix - x0, iy - y0
            sx, sy = 1 - tx, 1 - ty
            corners = [_corner(xp, r, s, h, w) for r, s in ((y0, x0), (y0, x0 + 1), (y0 + 1, x0), (y0 + 1, x0 + 1))]
            index = xp.stack([i for i, _ in corners], axis=-1)
            inside = xp.stack([m for _, m in corners], axis=-1)
            weights = xp.stack([sx * sy, tx * sy, sx * ty, tx * ty], axis=-1) * inside
            # d(weight)/d(ix) and d(weight)/d(iy) of the four corners, zero outside the input
            self.deriv = (xp.stack([-sy, sy, -ty, ty], axis=-1) * inside,
                          xp.stack([-sx, -tx, sx, tx], axis=-1) * inside)
        self.rows, self.shape, self.index, self.weights, self.mults = _rows(x), x.shape, index, weights, (mx, my)
        values = self._corner_values()
        out = values[:, :, 0] * weights.reshape(n, -1, weights.shape[-1], 1)[:, :, 0]
        for k in range(1, weights.shape[-1]):
            out += values[:, :, k] * weights.reshape(n, -1, weights.shape[-1], 1)[:, :, k]
        return out.transpose(0, 2, 1).reshape(n, c, *grid.shape[1:-1])

    def _corner_values(self):
        """(N, points, corners, C): the input's channels at every corner (zero weight marks those outside)."""
        index, (n, c, h, w) = self.index, self.shape
        flat = index + (xp_of(index).arange(n, dtype=np.int64) * (h * w)).reshape(n, *(1,) * (index.ndim - 1))
        return xp_of(index).take(self.rows, flat.reshape(-1), axis=0).reshape(n, -1, index.shape[-1], c)

    def backward(self, g):
        xp = xp_of(g)
        n, c = self.shape[:2]
        index, weights = self.index, self.weights
        full = xp.broadcast_to(index[:, None], (n, c, *index.shape[1:])).reshape(n, c, -1, 1)
        gx = _plane_scatter((g[..., None] * weights[:, None]).reshape(full.shape), full, self.shape)
        if self.deriv is None:
            return gx, xp.zeros((*index.shape[:-1], 2), dtype=g.dtype)
        rows_g = g.reshape(n, c, -1).transpose(0, 2, 1)[:, :, None, :]  # (N, points, 1, C)
        per_corner = (self._corner_values() * rows_g).sum(axis=-1).reshape(index.shape)
        (dx, dy), (mx, my) = self.deriv, self.mults
        ggrid = xp.stack([(per_corner * dx).sum(axis=-1) * mx, (per_corner * dy).sum(axis=-1) * my], axis=-1)
        return gx, ggrid.astype(g.dtype, copy=False)


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``torch.nn.functional.grid_sample`` for 4-D inputs, modes bilinear and nearest."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
                         f"but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
    x, g = input._data, grid._data
    if x.ndim != g.ndim or x.ndim not in (4, 5):
        raise RuntimeError("grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but got "
                           f"input with sizes {_dims(x.shape)} and grid with sizes {_dims(g.shape)}")
    if g.shape[-1] != x.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {x.ndim - 2} in last dimension, but got grid "
                           f"with sizes {_dims(g.shape)}")
    if x.shape[0] != g.shape[0]:
        raise RuntimeError("grid_sampler(): expected grid and input to have same batch size, but got input with sizes "
                           f"{_dims(x.shape)} and grid with sizes {_dims(g.shape)}")
    for d in range(2, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError("grid_sampler(): expected input to have non-empty spatial dimensions, but input has "
                               f"sizes {_dims(x.shape)} with dimension {d} being empty")
    if x.dtype != g.dtype:
        raise RuntimeError(f"expected scalar type {legacy_name(x.dtype)} but found {legacy_name(g.dtype)}")
    if x.ndim == 5 or mode == "bicubic":
        raise NotImplementedError(f"grid_sample: {'5-D inputs' if x.ndim == 5 else 'bicubic mode'} not supported")
    return GridSample.apply(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))


def _base_axis(xp, size, align_corners, dtype):
    """PyTorch's ``linspace_from_neg_one``: the normalised pixel positions of one axis."""
    if size <= 1:
        return xp.zeros(1, dtype=dtype)
    steps = xp.linspace(-1, 1, size, dtype=dtype)
    return steps if align_corners else steps * ((size - 1) / size)


def affine_grid(theta, size, align_corners=None):
    """``torch.nn.functional.affine_grid``: the sampling grid (N, H, W, 2) (or (N, D, H, W, 3)) of the affine
    matrices ``theta`` (N, 2, 3) (or (N, 3, 4))."""
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
    t = theta._data
    if t.dtype.kind not in FLOAT_KINDS:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = list(size)
    if len(size) not in (4, 5):
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    k = len(size) - 2
    if t.ndim != 3 or t.shape[-2:] != (k, k + 1):
        kind, shape = ("2D", "Nx2x3") if k == 2 else ("3D", "Nx3x4")
        raise ValueError(f"Expected a batch of {kind} affine matrices of shape {shape} for size {size}. Got "
                         f"{theta.shape}.")
    spatial = size[2:]
    if align_corners and min(spatial) == 1:
        warnings.warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
                      "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
                      "affine_grid for details.", UserWarning, stacklevel=2)
    elif min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    xp = xp_of(t)
    axes = [_base_axis(xp, s, bool(align_corners), t.dtype) for s in reversed(spatial)]  # x, y(, z)
    mesh = xp.meshgrid(*axes[::-1], indexing="ij")[::-1]
    base = xp.stack([*mesh, xp.ones(mesh[0].shape, dtype=t.dtype)], axis=-1).reshape(-1, k + 1)
    grid = make_tensor(base, theta._device) @ theta.transpose(1, 2)
    return grid.reshape(size[0], *spatial, k)


__all__ = ["GridSample", "affine_grid", "grid_sample"]
