"""2-D pooling as single graph nodes: max_pool2d, avg_pool2d, adaptive_avg_pool2d, adaptive_max_pool2d; their
1-d forms run the same nodes over a unit height, and lp_pool1d/2d compose them with elementwise ops as PyTorch does.

Max and average pooling reduce over the kh*kw strided slices of the (padded) input, one array call per
kernel offset (reducing over tiny trailing window axes is about ten times slower). Max-pool backward
routes each output's gradient to the first maximal element of its window in scan order, as PyTorch
does when values tie; overlapping windows accumulate. Adaptive average pooling is separable: two small
averaging matrices (oh x H and ow x W), so two matrix products, and their transposes for backward.
Every pool is linear in the gradient: with ``create_graph`` its backward is a ``LinearMap`` (max pools: a
scatter at each window's flat index and its gather; average pools: the spread and the average again).
"""

import functools
import math
import numbers

import numpy as np

from ..backend import Implementation
from ..dtypes import FLOAT_KINDS, int64, legacy_name
from . import jit, pool_kernels
from .elementwise import relu
from .linear_map import input_gradient
from .op import Op, xp_of


def _dims(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]"


def _pool_pair(value, fn, name, allow_empty=False):
    if value.__class__ is int:
        return (value, value)
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    value = tuple(value)
    if allow_empty and not value:
        return None
    if len(value) == 1:
        return (int(value[0]),) * 2
    if len(value) != 2:
        if allow_empty:
            raise RuntimeError(f"{fn}: {name} must either be omitted, a single int, or a tuple of two ints")
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of two ints")
    return (int(value[0]), int(value[1]))


def _out_size(size, k, s, p, d, ceil_mode):
    """PyTorch's pooling_output_shape: the last window must start inside the input or left padding."""
    out = (size + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= size + p:
        out -= 1
    return out


def _check_pool_input(shape, fn):
    if len(shape) not in (3, 4):
        raise RuntimeError("non-empty 3D or 4D (batch mode) tensor expected for input")
    if any(s == 0 for s in shape[-3:]):
        raise RuntimeError(f"Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, "
                           f"but got:{_dims(shape)}")


@functools.lru_cache(maxsize=512)
def _geometry(shape, kernel, stride, padding, dilation, ceil_mode, fn):
    """Validated ((kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)) of a pooling call, PyTorch's errors."""
    _check_pool_input(shape, fn)
    kh, kw = kernel
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    # PyTorch's order: the output-size checks (stride, padding) come before the shape checks
    if sh <= 0 or sw <= 0:
        raise RuntimeError("stride should not be zero")
    if ph < 0 or pw < 0:
        raise RuntimeError(f"pad must be non-negative, but got pad: {min(ph, pw)}")
    if ph > ((kh - 1) * dh + 1) // 2 or pw > ((kw - 1) * dw + 1) // 2:
        p, k, d = (ph, kh, dh) if ph > ((kh - 1) * dh + 1) // 2 else (pw, kw, dw)
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p}, "
                           f"kernel_size={k} and dilation={d}")
    if kh <= 0 or kw <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kH: {kh} kW: {kw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}")
    h, w = shape[-2:]
    oh = _out_size(h, kh, sh, ph, dh, ceil_mode)
    ow = _out_size(w, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        c = shape[-3]
        raise RuntimeError(f"Given input size: ({c}x{h}x{w}). Calculated output size: ({c}x{oh}x{ow}). "
                           "Output size is too small")
    return (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)


def _padded(x, pads, spans, fill):
    """``x`` placed in an array covering every window: ``pads`` before, cropped or ``fill``-padded after."""
    xp = xp_of(x)
    (ph, pw), (lh, lw) = pads, spans
    h, w = x.shape[-2:]
    if ph == 0 and pw == 0 and lh <= h and lw <= w:
        return x
    out = xp.full((*x.shape[:-2], lh, lw), fill, dtype=x.dtype)
    ch, cw = min(h, lh - ph), min(w, lw - pw)
    out[..., ph:ph + ch, pw:pw + cw] = x[..., :ch, :cw]
    return out


def _fill_low(dtype):
    if dtype.kind in FLOAT_KINDS:
        return -np.inf
    if dtype.kind == "b":
        return False
    return np.iinfo(dtype).min



def _unpad(xp, gpad, padding, spans, shape):
    """The input's gradient from the gradient of its padded window area (which may stop short of the input's
    far edges when windows do not reach them)."""
    (ph, pw), (h, w) = padding, shape[-2:]
    if spans[0] - ph >= h and spans[1] - pw >= w:
        return gpad[..., ph:ph + h, pw:pw + w]
    gx = xp.zeros(shape, dtype=gpad.dtype)
    ch, cw = min(h, spans[0] - ph), min(w, spans[1] - pw)
    gx[..., :ch, :cw] = gpad[..., ph:ph + ch, pw:pw + cw]
    return gx

class _Windows:
    """The kernel offsets of a pooling call as (i, j, row slice, column slice) of the padded input."""

    @staticmethod
    @functools.lru_cache(maxsize=512)
    def offsets(kernel, stride, dilation, out):
        (kh, kw), (sh, sw), (dh, dw), (oh, ow) = kernel, stride, dilation, out
        hspan, wspan = sh * (oh - 1) + 1, sw * (ow - 1) + 1
        return tuple((i, j, slice(i * dh, i * dh + hspan, sh), slice(j * dw, j * dw + wspan, sw))
                     for i in range(kh) for j in range(kw))


def _first_max_indices(node, offsets):
    """Flat H*W index (int64) of the first maximal element of each window, in scan order."""
    xs, out = node.xs, node.out
    xp = xp_of(out)
    shape, (_, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow), _ = node.geom
    sel = xp.zeros(out.shape, dtype=np.int64)
    for n in range(len(offsets) - 1, 0, -1):
        _, _, r, c = offsets[n]
        sel[xs[..., r, c] == out] = n
    # A window's first maximum is the lowest offset that equals it; later equal offsets were overwritten.
    _, _, r, c = offsets[0]
    sel[xs[..., r, c] == out] = 0
    rows = (xp.arange(oh, dtype=np.int64) * sh - ph)[:, None] + (sel // kw) * dh
    cols = (xp.arange(ow, dtype=np.int64) * sw - pw)[None, :] + (sel % kw) * dw
    return rows * shape[-1] + cols


class _CompiledMax(Implementation):
    """``pool_kernels``: host float32/float64; keeps each window's index, so backward is one scatter."""

    name = "compiled"

    @staticmethod
    def applies(x, **_):
        return x.size > 0 and jit.takes_floats(x)

    @staticmethod
    def forward(node, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), out_size=(1, 1),
                return_indices=False):
        node.geom = (x.shape, kernel, stride, padding, dilation, out_size, None)
        x4 = x.reshape(-1, *x.shape[-3:])
        out, index = pool_kernels.forward(x4, kernel, stride, padding, dilation, out_size)
        out, node.index = out.reshape(*x.shape[:-2], *out_size), index.reshape(*x.shape[:-2], *out_size)
        return (out, node.index) if return_indices else out

    @staticmethod
    def backward(node, g, *_):
        shape = node.geom[0]
        index = node.index.reshape(math.prod(node.index.shape[:-3]), *node.index.shape[-3:])
        gx = pool_kernels.backward(g.reshape(index.shape), index, (index.shape[0], *shape[-3:]))
        return (gx.reshape(shape),)

    @staticmethod
    def indices(node):
        return node.index


class _GenericMax(Implementation):
    """A maximum over the kh*kw strided slices of the padded input, on NumPy or CuPy arrays."""

    @staticmethod
    def forward(node, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), dilation=(1, 1), out_size=(1, 1),
                return_indices=False):
        xp = xp_of(x)
        offsets = _Windows.offsets(kernel, stride, dilation, out_size)
        spans = ((out_size[0] - 1) * stride[0] + dilation[0] * (kernel[0] - 1) + 1,
                 (out_size[1] - 1) * stride[1] + dilation[1] * (kernel[1] - 1) + 1)
        xs = _padded(x, padding, spans, _fill_low(x.dtype))
        _, _, r0, c0 = offsets[0]
        if len(offsets) == 1:
            out = xs[..., r0, c0].copy()
        else:
            _, _, r1, c1 = offsets[1]
            out = xp.maximum(xs[..., r0, c0], xs[..., r1, c1])
            for _, _, r, c in offsets[2:]:
                xp.maximum(out, xs[..., r, c], out=out)
        node.xs, node.out = xs, out
        node.geom = (x.shape, kernel, stride, padding, dilation, out_size, spans)
        if return_indices:
            return out, _first_max_indices(node, offsets)
        return out

    @staticmethod
    def backward(node, g, *_):
        shape, kernel, stride, padding, dilation, out_size, spans = node.geom
        xs, out = node.xs, node.out
        xp = xp_of(g)
        offsets = _Windows.offsets(kernel, stride, dilation, out_size)
        disjoint = stride[0] >= dilation[0] * (kernel[0] - 1) + 1 and stride[1] >= dilation[1] * (kernel[1] - 1) + 1
        gpad = xp.zeros((*shape[:-2], *spans), dtype=g.dtype)
        taken = None
        last = len(offsets) - 1
        for n, (_, _, r, c) in enumerate(offsets):
            hit = xs[..., r, c] == out
            if taken is None:
                taken = hit
            else:
                hit = xp.greater(hit, taken)  # equal to the maximum, and no earlier offset took it
                if n != last:
                    taken |= hit
            if disjoint:
                xp.multiply(g, hit, out=gpad[..., r, c])
            else:
                gpad[..., r, c] += g * hit
        return (_unpad(xp, gpad, padding, spans, shape),)

    @staticmethod
    def indices(node):
        _, kernel, stride, _, dilation, out_size, _ = node.geom
        return _first_max_indices(node, _Windows.offsets(kernel, stride, dilation, out_size))


def _plane_scatter(g, index, shape):
    """Zeros of ``shape`` (..., H, W) with ``g`` (..., oh, ow) added at the flat H*W positions ``index``."""
    xp = xp_of(g)
    planes, hw, n = math.prod(shape[:-2]), shape[-2] * shape[-1], g.shape[-2] * g.shape[-1]
    flat = index.reshape(planes, n) + xp.arange(0, planes * hw, hw, dtype=index.dtype)[:, None]
    out = xp.zeros(planes * hw, dtype=g.dtype)
    xp.add.at(out, flat.reshape(-1), g.reshape(-1))
    return out.reshape(shape)


def _plane_gather(gx, index):
    """The values of ``gx`` (..., H, W) at the flat H*W positions ``index`` (..., oh, ow): ``_plane_scatter``'s
    adjoint."""
    planes, n = math.prod(index.shape[:-2]), index.shape[-2] * index.shape[-1]
    flat = gx.reshape(planes, gx.shape[-2] * gx.shape[-1])
    return xp_of(gx).take_along_axis(flat, index.reshape(planes, n), axis=1).reshape(index.shape)


def _max_input_gradient(node, g, index, shape):
    """A max pool's input gradient (each window's gradient at its maximum) as a differentiable op."""
    return input_gradient(node, g, functools.partial(_plane_scatter, index=index, shape=shape),
                          functools.partial(_plane_gather, index=index), shape)


class MaxPool2d(Op):
    """Max pooling; a window's gradient goes to its first maximal element in scan order, as in PyTorch."""

    __slots__ = ("geom", "index", "out", "xs")
    _name = "MaxPool2DWithIndicesBackward0"
    saves = 1
    implementations = (_CompiledMax, _GenericMax)

    def backward_graph(self, g, *_):
        return (_max_input_gradient(self, g, self._impl.indices(self), self.geom[0]),)


class MaxPool2dWithIndices(MaxPool2d):
    __slots__ = ()
    num_outputs = 2


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool2d`` (also ``max_pool2d_with_indices`` with ``return_indices=True``)."""
    fn = "max_pool2d"
    kernel = _pool_pair(kernel_size, fn, "kernel_size")
    stride = kernel if stride is None else (_pool_pair(stride, fn, "stride", allow_empty=True) or kernel)
    padding = _pool_pair(padding, fn, "padding")
    dilation = _pool_pair(dilation, fn, "dilation")
    x = input._data
    kernel, stride, padding, dilation, out_size = _geometry(x.shape, kernel, stride, padding, dilation,
                                                            bool(ceil_mode), fn)
    return _max_pool(input, kernel, stride, padding, dilation, out_size, return_indices)


def _max_pool(input, kernel, stride, padding, dilation, out_size, return_indices, op=None):
    if op is None:
        op = MaxPool2dWithIndices if return_indices else MaxPool2d
    return op.apply(input, kernel=kernel, stride=stride, padding=padding, dilation=dilation, out_size=out_size,
                    return_indices=return_indices)


def max_pool2d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


# ----- average pooling -----
def _avg_counts(size, k, s, p, out, count_include_pad):
    """Per-output window sizes along one axis (PyTorch's divisor, which is separable over the axes)."""
    start = np.arange(out) * s - p
    end = np.minimum(start + k, size + p)
    if count_include_pad:
        return end - start
    return np.minimum(end, size) - np.maximum(start, 0)


def _window_mean(x, geom, scale):
    """Average pooling of ``x`` in geometry ``geom``: the window sums times ``scale``."""
    _, kernel, stride, padding, out_size, spans = geom
    offsets = _Windows.offsets(kernel, stride, (1, 1), out_size)
    xs = _padded(x, padding, spans, 0)
    _, _, r0, c0 = offsets[0]
    if len(offsets) == 1:
        out = xs[..., r0, c0].copy()
    else:
        _, _, r1, c1 = offsets[1]
        out = xs[..., r0, c0] + xs[..., r1, c1]
        for _, _, r, c in offsets[2:]:
            out += xs[..., r, c]
    out *= scale
    return out


def _window_spread(g, geom, scale):
    """``_window_mean``'s adjoint: each output's ``g`` times ``scale``, added over its window."""
    shape, kernel, stride, padding, out_size, spans = geom
    xp = xp_of(g)
    gs = g * scale
    offsets = _Windows.offsets(kernel, stride, (1, 1), out_size)
    disjoint = stride[0] >= kernel[0] and stride[1] >= kernel[1]
    gpad = xp.zeros((*shape[:-2], *spans), dtype=g.dtype)
    for _, _, r, c in offsets:
        if disjoint:
            gpad[..., r, c] = gs
        else:
            gpad[..., r, c] += gs
    return _unpad(xp, gpad, padding, spans, shape)


class AvgPool2d(Op):
    __slots__ = ("geom", "scale")
    _name = "AvgPool2DBackward0"
    saves_tensors = False

    def forward(self, x, kernel=(1, 1), stride=(1, 1), padding=(0, 0), out_size=(1, 1), scale=None):
        spans = ((out_size[0] - 1) * stride[0] + kernel[0], (out_size[1] - 1) * stride[1] + kernel[1])
        self.scale = scale = xp_of(x).asarray(scale) if not isinstance(scale, float) else scale
        self.geom = geom = (x.shape, kernel, stride, padding, out_size, spans)
        return _window_mean(x, geom, scale)

    def backward(self, g):
        return (_window_spread(g, self.geom, self.scale),)

    def backward_graph(self, g):
        geom, scale = self.geom, self.scale
        return (input_gradient(self, g, functools.partial(_window_spread, geom=geom, scale=scale),
                               functools.partial(_window_mean, geom=geom, scale=scale), geom[0]),)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """``torch.nn.functional.avg_pool2d``."""
    fn = "avg_pool2d"
    kernel = _pool_pair(kernel_size, fn, "kernel_size")
    stride = kernel if stride is None else (_pool_pair(stride, fn, "stride", allow_empty=True) or kernel)
    padding = _pool_pair(padding, fn, "padding")
    x = input._data
    if x.dtype.kind not in FLOAT_KINDS:
        raise RuntimeError(f'"avg_pool2d" not implemented for \'{legacy_name(x.dtype)}\'')
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    kernel, stride, padding, _, out_size = _geometry(x.shape, kernel, stride, padding, (1, 1), bool(ceil_mode), fn)
    if divisor_override is not None:
        scale = 1.0 / divisor_override
    else:
        h, w = x.shape[-2:]
        rows = _avg_counts(h, kernel[0], stride[0], padding[0], out_size[0], count_include_pad)
        cols = _avg_counts(w, kernel[1], stride[1], padding[1], out_size[1], count_include_pad)
        counts = rows[:, None] * cols[None, :]
        if (counts == counts.flat[0]).all():
            scale = 1.0 / float(counts.flat[0])
        else:
            scale = (1.0 / counts).astype(x.dtype)
    return _avg_pool(input, kernel, stride, padding, out_size, scale)


def _avg_pool(input, kernel, stride, padding, out_size, scale):
    return AvgPool2d.apply(input, kernel=kernel, stride=stride, padding=padding, out_size=out_size, scale=scale)


# ----- adaptive pooling -----
def _adaptive_size(output_size, shape, fn):
    if isinstance(output_size, numbers.Integral) or output_size is None:
        output_size = (output_size, output_size)
    output_size = tuple(output_size)
    if len(output_size) != 2:
        raise RuntimeError(f"{fn}(): internal error: output_size.size() must be 2" if fn == "adaptive_max_pool2d"
                           else f"{fn}: output_size must be 2")
    return tuple(shape[i] if s is None else int(s) for i, s in zip((-2, -1), output_size))


def _check_adaptive_input(x, fn):
    if x.ndim not in (3, 4):
        raise RuntimeError(f"{fn}(): Expected 3D or 4D tensor, but got {_dims(x.shape)}")
    for d in range(1, x.ndim) if x.ndim == 4 else range(x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {_dims(x.shape)} with dimension {d} being empty")


def _adaptive_bounds(size, out):
    o = np.arange(out)
    return (o * size) // out, -((-(o + 1) * size) // out)


@functools.lru_cache(maxsize=64)
def _averaging_matrix(size, out, dtype_name):
    """(out, size) matrix whose rows average PyTorch's adaptive windows (host array, cached)."""
    start, end = _adaptive_bounds(size, out)
    pos = np.arange(size)
    inside = (pos[None, :] >= start[:, None]) & (pos[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype_name)


def _separable_mean(x, ah, aw):
    """``ah @ x @ aw.T`` over the trailing (H, W) planes: one product over the width, one over the height."""
    *lead, h, w = x.shape
    oh, ow = ah.shape[0], aw.shape[0]
    t = x.reshape(-1, w) @ aw.T  # (N*C*H, ow)
    return (ah @ t.reshape(-1, h, ow)).reshape(*lead, oh, ow)


def _separable_spread(g, ah, aw, shape):
    """``_separable_mean``'s adjoint: ``ah.T @ g @ aw`` back to ``shape``."""
    oh, ow = g.shape[-2:]
    t = ah.T @ g.reshape(-1, oh, ow)  # (N*C, H, ow)
    return (t.reshape(-1, ow) @ aw).reshape(shape)


class AdaptiveAvgPool2d(Op):
    __slots__ = ("ah", "aw", "shape")
    _name = "AdaptiveAvgPool2DBackward0"
    saves_tensors = False

    def forward(self, x, out_size=(1, 1)):
        xp = xp_of(x)
        self.shape = x.shape
        h, w = x.shape[-2:]
        oh, ow = out_size
        if (oh, ow) == (1, 1):
            self.ah = self.aw = None
            return x.mean(axis=(-2, -1), keepdims=True)
        self.ah = xp.asarray(_averaging_matrix(h, oh, x.dtype.name))
        self.aw = xp.asarray(_averaging_matrix(w, ow, x.dtype.name))
        return _separable_mean(x, self.ah, self.aw)

    def backward(self, g):
        h, w = self.shape[-2:]
        if self.ah is None:
            return (xp_of(g).broadcast_to(g * (1.0 / (h * w)), self.shape),)
        return (_separable_spread(g, self.ah, self.aw, self.shape),)

    def backward_graph(self, g):
        h, w = self.shape[-2:]
        if self.ah is None:  # a mean, whose gradient PyTorch computes from ``g`` alone
            return ((g * (1.0 / (h * w))).expand(self.shape),)
        ah, aw, shape = self.ah, self.aw, self.shape
        return (input_gradient(self, g, functools.partial(_separable_spread, ah=ah, aw=aw, shape=shape),
                               functools.partial(_separable_mean, ah=ah, aw=aw), shape),)


class _GlobalAvgPool2d(AdaptiveAvgPool2d):
    __slots__ = ()
    _name = "MeanBackward1"  # PyTorch computes an output size of 1 as a mean


def adaptive_avg_pool2d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool2d``."""
    x = input._data
    _check_adaptive_input(x, "adaptive_avg_pool2d")
    out_size = _adaptive_size(output_size, x.shape, "adaptive_avg_pool2d")
    op = _GlobalAvgPool2d if out_size == (1, 1) else AdaptiveAvgPool2d
    return op.apply(input, out_size=out_size)


class AdaptiveMaxPool2d(MaxPool2d):
    """Adaptive max pooling with windows that divide the input evenly: a plain strided max pool."""

    __slots__ = ()
    _name = "AdaptiveMaxPool2DBackward0"


class AdaptiveMaxPool2dWithIndices(AdaptiveMaxPool2d):
    __slots__ = ()
    num_outputs = 2


class AdaptiveMaxPool2dGeneral(Op):
    """Adaptive max pooling with uneven windows: each window read through clipped index arrays, so a
    shorter window repeats its last row/column (harmless for a maximum, and later in scan order)."""

    __slots__ = ("cols", "out", "rows", "shape", "x")
    _name = "AdaptiveMaxPool2DBackward0"
    saves = 1

    def forward(self, x, out_size=(1, 1), return_indices=False):
        xp = xp_of(x)
        *_, h, w = x.shape
        oh, ow = out_size
        hs, he = _adaptive_bounds(h, oh)
        ws, we = _adaptive_bounds(w, ow)
        rows = [np.minimum(hs + i, he - 1) for i in range(int((he - hs).max()))]
        cols = [np.minimum(ws + j, we - 1) for j in range(int((we - ws).max()))]
        rows, cols = [xp.asarray(r) for r in rows], [xp.asarray(c) for c in cols]
        out = None
        for r in rows:
            xr = xp.take(x, r, axis=-2)
            for c in cols:
                v = xp.take(xr, c, axis=-1)
                out = v if out is None else xp.maximum(out, v, out=out)
        self.x, self.out, self.rows, self.cols, self.shape = x, out, rows, cols, x.shape
        return (out, self.indices()) if return_indices else out

    def indices(self):
        """Flat H*W index of each window's first maximum in scan order."""
        x, out, w = self.x, self.out, self.shape[-1]
        xp = xp_of(x)
        idx = xp.zeros(out.shape, dtype=np.int64)
        for r in reversed(self.rows):
            xr = xp.take(x, r, axis=-2)
            for c in reversed(self.cols):
                hit = xp.take(xr, c, axis=-1) == out
                idx[hit] = xp.broadcast_to(r[:, None] * w + c[None, :], out.shape)[hit]
        return idx

    def backward(self, g, *_):
        x, out, rows, cols = self.x, self.out, self.rows, self.cols
        xp = xp_of(g)
        gx = xp.zeros(self.shape, dtype=g.dtype)
        taken = None
        for r in rows:
            xr = xp.take(x, r, axis=-2)
            for c in cols:
                hit = xp.take(xr, c, axis=-1) == out
                if taken is None:
                    taken = hit
                else:
                    hit = xp.greater(hit, taken)
                    taken |= hit
                xp.add.at(gx, (Ellipsis, r[:, None], c[None, :]), g * hit)
        return (gx,)

    def backward_graph(self, g, *_):
        return (_max_input_gradient(self, g, self.indices(), self.shape),)


class AdaptiveMaxPool2dGeneralWithIndices(AdaptiveMaxPool2dGeneral):
    __slots__ = ()
    num_outputs = 2


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool2d``."""
    x = input._data
    _check_adaptive_input(x, "adaptive_max_pool2d")
    _check_float(x, "adaptive_max_pool2d")
    oh, ow = _adaptive_size(output_size, x.shape, "adaptive_max_pool2d")
    h, w = x.shape[-2:]
    if oh == 0 or ow == 0:  # an empty result, as PyTorch allows
        out = input[..., :oh, :ow]
        return (out, out.new_zeros(out.shape, dtype=int64)) if return_indices else out
    if h % oh == 0 and w % ow == 0:
        kernel = (h // oh, w // ow)
        op = AdaptiveMaxPool2dWithIndices if return_indices else AdaptiveMaxPool2d
        return _max_pool(input, kernel, kernel, (0, 0), (1, 1), (oh, ow), return_indices, op=op)
    op = AdaptiveMaxPool2dGeneralWithIndices if return_indices else AdaptiveMaxPool2dGeneral
    return op.apply(input, out_size=(oh, ow), return_indices=return_indices)


def adaptive_max_pool2d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool2d(input, output_size, return_indices=True)



# ----- 1-d pooling: the 2-d ops over a unit height -----
def _one(value, fn, name, rule, default=None):
    """A 1-d pooling argument as an int (``default`` for an empty tuple), with PyTorch's error for longer ones."""
    if isinstance(value, numbers.Integral):
        return int(value)
    value = tuple(value)
    if not value and default is not None:
        return default
    if len(value) != 1:
        raise RuntimeError(f"{fn}() {name} must be {rule} of size 1 but got size {len(value)}")
    return int(value[0])


def _one_arg(value, fn, name):
    """A 1-d argument the way PyTorch's argument parser takes it (``max_pool1d_with_indices``, ``avg_pool1d``)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    value = tuple(value)
    if len(value) != 1:
        raise RuntimeError(f"{fn}() argument '{name}' should contain one int (got {len(value)})")
    return int(value[0])


def _check_float(x, kernel):
    if x.dtype.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{legacy_name(x.dtype)}\'')


def _check_1d_dims(x, fn):
    if x.ndim not in (2, 3):
        raise RuntimeError(f"Expected 2 to 3 dimensions, but got {x.ndim}-dimensional tensor for argument #1 "
                           f"'self' (while checking arguments for {fn})")


def _squeezed(out):
    return tuple(o.squeeze(-2) for o in out) if isinstance(out, tuple) else out.squeeze(-2)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """``torch.nn.functional.max_pool1d``: max_pool2d over a unit height, with max_pool1d's own checks."""
    fn = "max_pool1d"
    x = input._data
    if return_indices:
        _check_1d_dims(x, fn)
        kernel = _one_arg(kernel_size, fn, "kernel_size")
        stride = kernel if stride is None or stride == () else _one_arg(stride, fn, "stride")
        padding, dilation = _one_arg(padding, fn, "padding"), _one_arg(dilation, fn, "dilation")
    else:
        if x.ndim not in (2, 3) or 0 in x.shape[-2:]:
            raise RuntimeError(f"{fn}: Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for "
                               f"input, but got:{_dims(x.shape)}")
        _check_float(x, "max_pool1d_impl")
        kernel = _one(kernel_size, fn, "kernel_size", "an int, list of ints or tuple of ints")
        stride = kernel if stride is None else _one(stride, fn, "stride", "None, an int, list of ints, or tuple of "
                                                    "ints", default=kernel)
        padding = _one(padding, fn, "padding", "an int, list of ints, or tuple of ints")
        dilation = _one(dilation, fn, "dilation", "an int, list of ints or tuple of ints")
        for name, value, low in (("kernel_size", kernel, 1), ("stride", stride, 1), ("padding", padding, 0),
                                 ("dilation", dilation, 1)):
            if value < low:
                raise RuntimeError(f"{fn}() {name} must be {'non-negative' if low == 0 else 'greater than zero'}, "
                                   f"but got {value}")
        if padding > kernel // 2:
            raise RuntimeError(f"{fn}() padding should be at most half of kernel size, but got padding={padding} "
                               f"and kernel_size={kernel}")
        out = _out_size(x.shape[-1], kernel, stride, padding, dilation, bool(ceil_mode))
        if out < 1:
            raise RuntimeError(f"{fn}() Invalid computed output size: {out}")
    return _squeezed(max_pool2d(input.unsqueeze(-2), (1, kernel), (1, stride), (0, padding), (1, dilation),
                                ceil_mode, return_indices))


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """``torch.nn.functional.avg_pool1d``: avg_pool2d over a unit height."""
    fn = "avg_pool1d"
    _check_1d_dims(input._data, fn)
    kernel = _one_arg(kernel_size, fn, "kernel_size")
    stride = kernel if stride is None or stride == () else _one_arg(stride, fn, "stride")
    padding = _one_arg(padding, fn, "padding")
    return avg_pool2d(input.unsqueeze(-2), (1, kernel), (1, stride), (0, padding), ceil_mode,
                      count_include_pad).squeeze(-2)


def adaptive_avg_pool1d(input, output_size):
    """``torch.nn.functional.adaptive_avg_pool1d``: adaptive_avg_pool2d over a unit height."""
    fn = "adaptive_avg_pool1d"
    _check_1d_dims(input._data, fn)
    return adaptive_avg_pool2d(input.unsqueeze(-2), (1, _one_arg(output_size, fn, "output_size"))).squeeze(-2)


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """``torch.nn.functional.adaptive_max_pool1d``: adaptive_max_pool2d over a unit height."""
    fn = "adaptive_max_pool1d"
    x = input._data
    _check_1d_dims(x, fn)
    size = _one_arg(output_size, fn, "output_size")
    for d in range(x.ndim - 2, x.ndim):
        if x.shape[d] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input "
                               f"has sizes {_dims(x.shape)} with dimension {d} being empty")
    return _squeezed(adaptive_max_pool2d(input.unsqueeze(-2), (1, size), return_indices))


def max_pool1d_with_indices(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
                            return_indices=True):
    return max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices=True)


def adaptive_max_pool1d_with_indices(input, output_size, return_indices=True):
    return adaptive_max_pool1d(input, output_size, return_indices=True)


# ----- power-average pooling: compositions, as in PyTorch -----
def _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, max_pool, avg_pool, window):
    if norm_type == float("inf"):
        return max_pool(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg_pool(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * relu(out.abs())).mul(window).pow(1.0 / norm_type)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool1d``: (sum of x**p over each window) ** (1/p)."""
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, max_pool1d, avg_pool1d, kernel_size)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """``torch.nn.functional.lp_pool2d``: (sum of x**p over each window) ** (1/p)."""
    kh, kw = _pool_pair(kernel_size, "lp_pool2d", "kernel_size")
    return _lp_pool(input, norm_type, kernel_size, stride, ceil_mode, max_pool2d, avg_pool2d, kh * kw)


__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
    "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
    "adaptive_max_pool2d_with_indices", "avg_pool1d", "avg_pool2d", "lp_pool1d", "lp_pool2d", "max_pool1d",
    "max_pool1d_with_indices", "max_pool2d", "max_pool2d_with_indices",
]
