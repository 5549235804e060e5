"""``affine_grid`` and ``grid_sample`` (4-D and 5-D inputs; bilinear, nearest and, for 4-D, bicubic; zeros,
border and reflection padding).

``affine_grid`` is a product of a constant base grid with the transposed matrices, so autograd differentiates
it to any order. ``grid_sample`` is one node: every sampling point has taps (its 2**k corners, one nearest pixel,
or 4x4 for bicubic), each a product of per-axis weights; forward gathers all taps as rows of the channels-last
input at once, backward scatters the weighted gradient back to the input and sums tap values times the weights'
derivatives into the grid's gradient, chained through the padding mode's coordinate map as PyTorch's
``*_set_grad`` helpers do (borders count as outside, so the clip's derivative is zero there; bicubic maps each
tap's integer position, without derivative). Like PyTorch's, its backward is not differentiable again.
"""

import functools
import itertools
import math
import warnings

import numpy as np

from ..dtypes import FLOAT_KINDS, legacy_name
from ..tensor import make_tensor
from .interpolate import _CUBIC_A, _cubic_weights
from .op import Op, autocast_inputs, xp_of
from .pool import _dims, _plane_scatter

_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. Please "
                  "specify align_corners=True if the old behavior is desired. See the documentation of grid_sample for "
                  "details.")


def _clip(x, size):
    """PyTorch's ``clip_coordinates_set_grad``: ``x`` clipped to [0, size - 1] and its derivative."""
    return x.clip(0, size - 1), ((x > 0) & (x < size - 1)).astype(x.dtype)


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


def _unnormalize(coord, size, align_corners):
    """PyTorch's ``grid_sampler_unnormalize``: pixel coordinates of normalised ``coord`` and their derivative."""
    if align_corners:
        return (coord + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coord + 1) * size - 1) / 2, size / 2


def _padded(x, size, padding_mode, align_corners):
    """PyTorch's ``compute_coordinates``: coordinates mapped by the padding mode, and the map's derivative."""
    if padding_mode == "zeros":
        return x, 1
    mult = 1
    if padding_mode == "reflection":
        x, mult = _reflect(x, 0, 2 * (size - 1)) if align_corners else _reflect(x, -1, 2 * size - 1)
    x, d = _clip(x, size)
    return x, mult * d


def _cubic_grads(t):
    """d/dt of ``_cubic_weights(t)`` (PyTorch's ``get_cubic_coefficients_grad`` is its negative)."""
    a = _CUBIC_A
    x0, x1, x2, x3 = -1 - t, -t, 1 - t, 2 - t
    return ((3 * a * x0 + 10 * a) * x0 + 8 * a, (3 * (a + 2) * x1 + 2 * (a + 3)) * x1,
            (-3 * (a + 2) * x2 + 2 * (a + 3)) * x2, (-3 * a * x3 + 10 * a) * x3 - 8 * a)


def _axis_taps(coord, size, mode, padding_mode, align_corners):
    """The taps of one axis: (integer-valued position, weight, d(weight)/d(coord)) per tap."""
    xp = xp_of(coord)
    if mode == "bicubic":  # the padding maps each tap's position, which has no derivative
        x, mult = _unnormalize(coord, size, align_corners)
        x0 = xp.floor(x)
        t = x - x0
        return [(_padded(x0 + (k - 1), size, padding_mode, align_corners)[0], w, d * mult)
                for k, (w, d) in enumerate(zip(_cubic_weights(t), _cubic_grads(t)))]
    x, mult = _unnormalize(coord, size, align_corners)
    x, d = _padded(x, size, padding_mode, align_corners)
    if mode == "nearest":
        return [(xp.rint(x), 1, None)]
    x0 = xp.floor(x)
    t = x - x0
    mult = mult * d
    return [(x0, 1 - t, -mult), (x0 + 1, t, mult)]


def _taps(grid, spatial, mode, padding_mode, align_corners):
    """Every tap of every sampling point, stacked last: flat index into the spatial plane, weight (zero outside
    the input), and per grid coordinate the weight's derivative (None for nearest)."""
    xp = xp_of(grid)
    sizes = spatial[::-1]  # grid coordinate a (x, y, z) indexes spatial axis -1 - a
    axes = [_axis_taps(grid[..., a], size, mode, padding_mode, align_corners) for a, size in enumerate(sizes)]
    strides = [math.prod(sizes[:a]) for a in range(len(sizes))]
    index, weights, derivs = [], [], [[] for _ in sizes]
    for combo in itertools.product(*axes):
        inside, flat, weight = True, 0, 1
        for (pos, w, _), size, stride in zip(combo, sizes, strides):
            inside = inside & (pos >= 0) & (pos < size)
            flat = flat + pos.clip(0, size - 1).astype(np.int64) * stride
            weight = weight * w
        index.append(flat)
        weights.append(xp.broadcast_to(weight * inside, flat.shape))
        if combo[0][2] is not None:
            for a, d in enumerate(derivs):
                others = math.prod([w for b, (_, w, _) in enumerate(combo) if b != a])
                d.append(combo[a][2] * others * inside)
    stack = functools.partial(xp.stack, axis=-1)
    return stack(index), stack(weights).astype(grid.dtype, copy=False), (
        None if not derivs[0] else [stack(d) for d in derivs])


def _rows(x):
    """(N, C, *spatial) as (N*prod(spatial), C): each pixel's channels one row, so a tap is one row gather."""
    n, c = x.shape[:2]
    return x.reshape(n, c, -1).transpose(0, 2, 1).reshape(-1, c)


class GridSample(Op):
    __slots__ = ("derivs", "index", "rows", "shape", "weights")
    _name = "GridSampler2DBackward0"
    saves = 1

    def forward(self, x, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        dtype, (n, c) = x.dtype, x.shape[:2]
        if dtype.itemsize < 4:  # half precisions sample in float32 and round, as PyTorch's opmath does
            x, grid = x.astype(np.float32), grid.astype(np.float32)
        self.index, self.weights, self.derivs = _taps(grid, x.shape[2:], mode, padding_mode, align_corners)
        self.rows, self.shape = _rows(x), x.shape
        xp = xp_of(x)
        out = xp.einsum("npk,npkc->npc", self.weights.reshape(n, -1, self.weights.shape[-1]), self._tap_values())
        return out.transpose(0, 2, 1).reshape(n, c, *grid.shape[1:-1]).astype(dtype, copy=False)

    def _tap_values(self):
        """(N, points, taps, C): the input's channels at every tap (zero weight marks those outside)."""
        index, n, c = self.index, self.shape[0], self.shape[1]
        xp = xp_of(index)
        plane = math.prod(self.shape[2:])
        flat = index + (xp.arange(n, dtype=np.int64) * plane).reshape(n, *(1,) * (index.ndim - 1))
        return xp.take(self.rows, flat.reshape(-1), axis=0).reshape(n, -1, index.shape[-1], c)

    def backward(self, g):
        xp = xp_of(g)
        n, c = self.shape[:2]
        index, weights = self.index, self.weights
        dtype, g = g.dtype, g.astype(weights.dtype, copy=False)
        full = xp.broadcast_to(index[:, None], (n, c, *index.shape[1:])).reshape(n, c, -1, 1)
        flat_shape = (n, c, math.prod(self.shape[2:]), 1)
        gx = _plane_scatter((g[..., None] * weights[:, None]).reshape(full.shape), full, flat_shape)
        gx = gx.reshape(self.shape).astype(dtype, copy=False)
        if self.derivs is None:
            return gx, xp.zeros((*index.shape[:-1], len(self.shape) - 2), dtype=dtype)
        per_tap = xp.einsum("npkc,ncp->npk", self._tap_values(), g.reshape(n, c, -1)).reshape(index.shape)
        ggrid = xp.stack([(per_tap * d).sum(axis=-1) for d in self.derivs], axis=-1)
        return gx, ggrid.astype(dtype, copy=False)


class GridSample3d(GridSample):
    __slots__ = ()
    _name = "GridSampler3DBackward0"


def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """``torch.nn.functional.grid_sample``."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', "
                         f"but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, UserWarning, stacklevel=2)
    input, grid = autocast_inputs(GridSample, input, grid)
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
    if x.ndim == 5 and mode == "bicubic":
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    op = GridSample3d if x.ndim == 5 else GridSample
    return op.apply(input, grid, mode=mode, padding_mode=padding_mode, align_corners=bool(align_corners))


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
