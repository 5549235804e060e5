"""``interpolate`` (modes nearest, nearest-exact, linear, bilinear, bicubic, trilinear, area; antialiasing for
bilinear and bicubic) as one graph node.

Every mode is separable: each output position along an axis is a fixed weighted sum of
input positions along that axis. So each resized axis gets a small (out, in) weight matrix (cached on the
host), forward is one matrix product per axis (on axes longer than 64, one per block of 64 outputs over the
input columns they reach) and backward the products with the transposes; the op is
linear in its input, so with ``create_graph`` its gradient is a ``LinearMap``. Source positions and weights
follow PyTorch's CPU formulas in the input's precision (float32 for half precisions, PyTorch's opmath type), so
the nearest modes pick PyTorch's indices exactly. uint8 images take PyTorch's integer path (no gradient): the
same matrices in int16 fixed point, rounded and clamped after each axis. Bilinear 2x of (64, 32, 16, 16) is two
BLAS products (bench/layers.py).
"""

import functools
import math
import numbers
import warnings

import numpy as np

from ..dtypes import FLOAT_KINDS, legacy_name
from . import dense
from .linear_map import input_gradient
from .op import Op, compute, xp_of
from .pool import _averaging_matrix

_CUBIC_A = -0.75
_MODES = ("nearest", "linear", "bilinear", "bicubic", "trilinear", "area", "nearest-exact")
_LINEAR_DIMS = {"linear": 1, "bilinear": 2, "trilinear": 3}
_DENSE_MAX, _BLOCK = 64, 64  # axes longer than _DENSE_MAX go block by block (bench: 224 -> 448 bilinear)
_UINT8_MODES = ("nearest", "nearest-exact", "bilinear", "bicubic")  # as PyTorch's CPU kernels take uint8


def _source_scale(t, size, out, scale, align_corners):
    """PyTorch's ``area_pixel_compute_scale``: input positions per output position, in precision ``t``."""
    if align_corners:
        return t(size - 1) / t(out - 1) if out > 1 else t(0)
    if scale is not None and scale > 0:
        return t(1.0 / scale)
    return t(size) / t(out)


def _source_index(t, s, out, align_corners, cubic):
    """PyTorch's ``area_pixel_compute_source_index`` for every output position."""
    dst = np.arange(out).astype(t)
    if align_corners:
        return s * dst
    src = s * (dst + t(0.5)) - t(0.5)
    return src if cubic else np.maximum(src, t(0))


def _guarded(src, size):
    """PyTorch's ``guard_index_and_lambda``: the left neighbour and the fraction past it, in [0, 1]."""
    index = np.minimum(np.floor(src).astype(np.int64), size - 1)
    return index, np.clip(src - index, 0, 1)


def _cubic_weights(t):
    """The four cubic-convolution coefficients (A = -0.75) at fractions ``t``."""
    a = _CUBIC_A

    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a

    return (far(t + 1), near(t), near(1 - t), far(2 - t))


def _antialiased(mode, size, out, s, t):
    """PyTorch's antialiased weights (``_compute_weights_aa``): the filter (triangle, or Keys' cubic with a = -0.5)
    stretched by the downscaling factor, cut to the input and normalised per output."""
    a = t(-0.5)

    def cubic(x):
        x = np.abs(x)
        near = ((a + 2) * x - (a + 3)) * x * x + 1
        far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return np.where(x < 1, near, np.where(x < 2, far, 0))

    def triangle(x):
        return np.maximum(1 - np.abs(x), 0)

    half = t(2 if mode == "bicubic" else 1)
    support = half * s if s >= 1 else half
    inv = t(1) / s if s >= 1 else t(1)
    center = s * (np.arange(out).astype(t) + t(0.5))
    lo = np.maximum((center - support + t(0.5)).astype(np.int64), 0)
    hi = np.minimum((center + support + t(0.5)).astype(np.int64), size)
    cols = np.arange(size)
    inside = (cols[None, :] >= lo[:, None]) & (cols[None, :] < hi[:, None])
    kernel = cubic if mode == "bicubic" else triangle
    m = np.where(inside, kernel((cols[None, :] - center[:, None] + t(0.5)) * inv), 0)
    total = m.sum(axis=1, keepdims=True)
    return np.divide(m, total, out=np.zeros_like(m), where=total != 0)


@functools.lru_cache(maxsize=256)
def _matrix(mode, size, out, scale, align_corners, dtype_name, antialias=False):
    """The (out, size) weights of one axis (a host array of ``dtype_name``), or None when it is the identity."""
    if mode == "area":
        return None if out == size else _averaging_matrix(size, out, dtype_name)
    t = np.dtype(dtype_name).type
    rows = np.arange(out)
    m = np.zeros((out, size), dtype=dtype_name)
    if antialias:
        m[...] = _antialiased(mode, size, out, _source_scale(t, size, out, scale, align_corners), t)
    elif mode in ("nearest", "nearest-exact"):
        s = _source_scale(t, size, out, scale, False)
        dst = rows.astype(t) + (t(0.5) if mode == "nearest-exact" else t(0))
        m[rows, np.minimum(np.floor(dst * s).astype(np.int64), size - 1)] = 1
    elif mode == "bicubic":
        src = _source_index(t, _source_scale(t, size, out, scale, align_corners), out, align_corners, True)
        index, frac = _guarded(src, size)
        for k, w in enumerate(_cubic_weights(frac)):
            np.add.at(m, (rows, np.clip(index - 1 + k, 0, size - 1)), w)
    else:
        src = _source_index(t, _source_scale(t, size, out, scale, align_corners), out, align_corners, False)
        index, frac = _guarded(src, size)
        np.add.at(m, (rows, index), 1 - frac)
        np.add.at(m, (rows, index + (index < size - 1)), frac)
    if out == size and np.array_equal(m, np.eye(size, dtype=dtype_name)):
        return None
    return m


class _Blocked:
    """A long axis's banded weight matrix as dense blocks down its band: output rows in blocks of ``_BLOCK``, each
    with the contiguous input columns its weights reach. A block is one BLAS product over a slice of the axis, so
    an output costs about the band's width in multiply-adds instead of the whole axis."""

    __slots__ = ("T", "blocks", "rows")

    def __init__(self, m, transposed=None):
        self.rows = m.shape[0]
        blocks = []
        for start in range(0, m.shape[0], _BLOCK):
            sub = m[start:start + _BLOCK]
            cols = np.flatnonzero(sub.any(axis=0))
            lo, hi = (int(cols[0]), int(cols[-1]) + 1) if cols.size else (0, 1)
            blocks.append((slice(start, start + sub.shape[0]), slice(lo, hi), np.ascontiguousarray(sub[:, lo:hi])))
        self.blocks = tuple(blocks)
        self.T = _Blocked(m.T, self) if transposed is None else transposed

    def apply(self, x, axis):
        xp = xp_of(x)
        shape = x.shape
        pre, n, post = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])
        x3 = x.reshape(pre, n, post)
        out = xp.empty((pre, self.rows, post), dtype=np.result_type(x.dtype, self.blocks[0][2].dtype))
        for rows, cols, sub in self.blocks:
            sub = xp.asarray(sub)
            if post == 1:
                out[:, rows, 0] = x3[:, cols, 0] @ sub.T
            else:
                out[:, rows] = sub @ x3[:, cols]
        return out.reshape(*shape[:axis], self.rows, *shape[axis + 1:])


def _axis_map(m):
    """``m`` as applied along its axis: one dense product up to ``_DENSE_MAX`` inputs, else ``_Blocked``."""
    return m if m is None or m.shape[1] <= _DENSE_MAX else _Blocked(m)


def _along_axes(x, mats):
    """``x`` with its trailing ``len(mats)`` axes each multiplied by its matrix (None: left as is), in ``x``'s dtype
    (half-precision inputs meet float32 matrices, so they accumulate in float32 as PyTorch's do, then round)."""
    dtype, first = x.dtype, x.ndim - len(mats)
    for i in reversed(range(len(mats))):
        m = mats[i]
        if m is None:
            continue
        shape = x.shape
        axis = first + i
        if isinstance(m, _Blocked):
            x = m.apply(x, axis)
            continue
        pre, n, post = math.prod(shape[:axis]), shape[axis], math.prod(shape[axis + 1:])
        y = x.reshape(pre, n) @ m.T if post == 1 else m @ x.reshape(pre, n, post)
        x = y.reshape(*shape[:axis], m.shape[0], *shape[axis + 1:])
    return x if x.dtype == dtype else x.astype(dtype)


def _along_axes_adjoint(g, mats):
    """``_along_axes``' adjoint: the products with the transposed matrices. Where the gradient repeats along
    leading axes (stride 0: a sum's, broadcast), the products are taken once and their result repeated: NumPy's
    matmul reads such an operand without BLAS, and every repeat gives the same result."""
    mats = tuple(None if m is None else m.T for m in mats)
    lead = g.ndim - len(mats)
    part, repeats = dense.once(g, range(lead))
    if repeats == 1:
        return _along_axes(g, mats)
    xp = xp_of(g)
    part = _along_axes(xp.ascontiguousarray(part), mats)
    return xp.ascontiguousarray(xp.broadcast_to(part, g.shape[:lead] + part.shape[lead:]))


class Interpolate(Op):
    __slots__ = ("mats", "shape")
    _name = "UpsampleBilinear2DBackward0"
    saves_tensors = False
    grad_reads_input = False  # PyTorch's upsample gradients take sizes only; area's (adaptive pooling) the input

    def forward(self, x, mats=()):
        xp = xp_of(x)
        self.shape = x.shape
        self.mats = mats = tuple(m if m is None or isinstance(m, _Blocked) else xp.asarray(m) for m in mats)
        out = _along_axes(x, mats)
        return out.copy() if out is x else out

    def backward(self, g):
        return (_along_axes_adjoint(g, self.mats),)

    def backward_graph(self, g):
        mats, shape = self.mats, self.shape
        return (input_gradient(self, g, functools.partial(_along_axes_adjoint, mats=mats),
                               functools.partial(_along_axes, mats=mats), shape if self.grad_reads_input else None),)


def _node_name(mode, k, antialias):
    if mode == "area":
        return f"AdaptiveAvgPool{k}DBackward0"
    kind = {"nearest": "Nearest", "nearest-exact": "NearestExact", "linear": "Linear", "bilinear": "Bilinear",
            "bicubic": "Bicubic", "trilinear": "Trilinear"}[mode]
    return f"Upsample{kind}{k}D{'Aa' * antialias}Backward0"


_op_classes = {}


def _op_class(mode, k, antialias):
    name = _node_name(mode, k, antialias)
    cls = _op_classes.get(name)
    if cls is None:
        cls = _op_classes[name] = type(f"Interpolate_{name}", (Interpolate,), {
            "__slots__": (), "_name": name, "grad_reads_input": mode == "area"})
    return cls


def _check_mode(mode, ndim, antialias):
    if mode not in _MODES or ndim not in (3, 4, 5):
        raise NotImplementedError(
            f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for the modes: nearest | linear "
            f"| bilinear | bicubic | trilinear | lanczos | area | nearest-exact (got {mode})")
    if antialias and (mode not in ("bilinear", "bicubic") or ndim != 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    need = _LINEAR_DIMS.get(mode, 2 if mode == "bicubic" else None)
    if need is not None and need != ndim - 2:
        wanted = {1: "3D", 2: "4D", 3: "5D"}[need]
        if mode == "bicubic":
            raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {ndim}D) for "
                                      "the modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area "
                                      f"| nearest-exact (got {mode})")
        raise NotImplementedError(f"Got {ndim}D input, but {mode} mode needs {wanted} input")


def _sizes_and_scales(shape, size, scale_factor, recompute_scale_factor):
    """(output sizes, scale factors handed to the kernel or Nones), with PyTorch's checks."""
    dim = len(shape) - 2
    spatial = list(shape[2:])
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError(
                    "Input and output must have the same number of spatial dimensions, but got input with spatial "
                    f"dimensions of {spatial} and output size of {size}. Please provide input tensor in (N, C, d1, "
                    "d2, ...,dK) format and output size in (o1, o2, ...,oK) format.")
            if not all(isinstance(s, numbers.Integral) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or Tuple[int, int, "
                                f"int], but got size with types {[type(s) for s in size]}")
            return tuple(int(s) for s in size), (None,) * dim
        return (int(size),) * dim, (None,) * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError(
                "Input and scale_factor must have the same number of spatial dimensions, but got input with spatial "
                f"dimensions of {spatial} and scale_factor of shape {scale_factor}. Please provide input tensor in "
                "(N, C, d1, d2, ...,dK) format and scale_factor in (s1, s2, ...,sK) format.")
        scales = tuple(float(s) for s in scale_factor)
    else:
        scales = (float(scale_factor),) * dim
    out = tuple(int(n * s) for n, s in zip(spatial, scales))
    return out, (None,) * dim if recompute_scale_factor else scales


def _check_sizes(shape, out):
    if all(s > 0 for s in shape[2:]) and all(o > 0 for o in out):
        return
    names = ("D", "H", "W")[3 - len(out):]
    given = ", ".join(f"{n}: {s}" for n, s in zip(names, shape[2:]))
    wanted = ", ".join(f"{n}: {o}" for n, o in zip(names, out))
    raise RuntimeError(f"Input and output sizes should be greater than 0, but got input ({given}) and output "
                       f"({wanted})")


@functools.lru_cache(maxsize=256)
def _plan(shape, dtype, size, scale_factor, mode, align_corners, recompute_scale_factor, antialias):
    """The validated node class and per-axis matrices of one call (cached: a layer repeats its call)."""
    if mode in ("nearest", "area", "nearest-exact") and align_corners is not None:
        raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                         "bicubic | trilinear")
    align_corners = bool(align_corners)
    if mode == "area" and scale_factor is not None:
        recompute_scale_factor = True
    out, scales = _sizes_and_scales(shape, size, scale_factor, recompute_scale_factor)
    _check_mode(mode, len(shape), antialias)
    _check_sizes(shape, out)
    fixed_point = dtype == np.uint8 and mode in ("bilinear", "bicubic")
    if dtype.kind not in FLOAT_KINDS and not (dtype == np.uint8 and mode in _UINT8_MODES):
        raise NotImplementedError(f'"upsample_{mode}{len(shape) - 2}d" not implemented for \'{legacy_name(dtype)}\'')
    precision = dtype.name if dtype.itemsize >= 4 and not fixed_point else "float64" if fixed_point else "float32"
    mats = tuple(_matrix(mode, n, o, s, align_corners, precision, bool(antialias))
                 for n, o, s in zip(shape[2:], out, scales))
    if fixed_point:
        return None, tuple(None if m is None else (_axis_map(weights), p) for m in mats
                           for weights, p in [_fixed_point(m)])
    return _op_class(mode, len(shape) - 2, bool(antialias)), tuple(_axis_map(m) for m in mats)


def _fixed_point(m):
    """PyTorch's int16 weights for uint8 images: ``m`` times 2**p, rounded half away from zero, with the largest p
    (below 22) that keeps twice the largest weight under 2**15; (weights as float64, p)."""
    top = float(m.max())
    p = next((p for p in range(22) if int(0.5 + top * (1 << (p + 1))) >= 1 << 15), 22)
    scaled = m * float(1 << p)
    return np.trunc(scaled + np.copysign(0.5, scaled)), p


def _fixed_point_resize(x, mats=()):
    """uint8 resizing as PyTorch's separable uint8 kernels do it: one axis at a time from the last, each pass an
    integer weighted sum (exact in float64) rounded by its precision and clamped to [0, 255]."""
    xp = xp_of(x)
    y, k = x.astype(np.float64), len(mats)
    for i in reversed(range(k)):
        if mats[i] is None:
            continue
        weights, p = mats[i]
        weights = weights if isinstance(weights, _Blocked) else xp.asarray(weights)
        y = _along_axes(y, (None,) * i + (weights,) + (None,) * (k - 1 - i))
        y = xp.floor((y + float(1 << (p - 1))) * (1.0 / (1 << p))).clip(0, 255)
    return y.astype(np.uint8)


def _hashable(value):
    return tuple(value) if isinstance(value, list) else value


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None, antialias=False):
    """``torch.nn.functional.interpolate``."""
    x = input._data
    cls, mats = _plan(x.shape, x.dtype, _hashable(size), _hashable(scale_factor), mode, align_corners,
                      recompute_scale_factor, antialias)
    if cls is None:
        return compute(_fixed_point_resize, input, mats=mats)
    return cls.apply(input, mats=mats)


def _deprecated(name):
    warnings.warn(f"`nn.functional.{name}` is deprecated. Use `nn.functional.interpolate` instead.", UserWarning,
                  stacklevel=3)


def upsample(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """``torch.nn.functional.upsample``, deprecated there in favour of ``interpolate``."""
    _deprecated("upsample")
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input, size=None, scale_factor=None):
    _deprecated("upsample_nearest")
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input, size=None, scale_factor=None):
    _deprecated("upsample_bilinear")
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


__all__ = ["Interpolate", "interpolate", "upsample", "upsample_bilinear", "upsample_nearest"]
