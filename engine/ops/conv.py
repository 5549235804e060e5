"""2-D convolution as one graph node with an analytic backward, in four implementations: the compiled
kernels of ``conv_kernels`` (host float32, stride 1), those of ``conv_depthwise`` (host, one group per input
channel), the full-row path of ``conv_wide`` (host, unit column stride), and the generic im2col plus one
matrix product, on NumPy or CuPy arrays alike.

im2col's column matrix is (C*kh*kw, N*oh*ow), kernel axes outermost, built with one copy from a strided
view of the padded input read channel-first; groups are a batched product. Backward: weight gradient
``g2 @ col.T``, input gradient by col2im (strided additions per kernel offset), bias gradient by a sum.
With ``create_graph`` those two gradients are ops themselves (``ConvInputGrad``, ``ConvWeightGrad``, on the
generic path), each differentiated through the other and ``Conv2d``, so derivatives of any order follow.
"""

import math
import numbers

import numpy as np

from ..autocast_state import state as _autocast
from ..backend import Implementation, is_host
from ..dtypes import legacy_name
from ..threads import cpu_map, cpu_shares
from . import binary_kernels, conv_depthwise, conv_kernels, conv_wide, cpu_kind, dense, gemm, jit, onednn
from .channel_sums import channel_sum
from .op import Op, xp_of
from .strides import as_strided

# Stride-1 convolutions run faster on the compiled kernels than on oneDNN when narrower than ONEDNN_MIN_CHANNELS,
# unless they have ONEDNN_MIN_OUT_CHANNELS outputs and ONEDNN_MIN_MACS multiply-adds: 5M as measured on an Intel Xeon
# with AVX-512 (units of full width, which oneDNN's kernels fill), elsewhere 20M as on the AMD EPYC (bench/NOTES.md)
ONEDNN_MIN_CHANNELS, ONEDNN_MIN_OUT_CHANNELS = 32, 16
ONEDNN_MIN_MACS = 5_000_000 if cpu_kind.vendor() == "GenuineIntel" and "avx512f" in cpu_kind.flags() else 20_000_000


def _dims(x):
    return "[" + ", ".join(str(s) for s in x) + "]"


def _pair(value, name, ndim=2):
    """An int or a sequence of 1 or ``ndim`` ints as an ``ndim``-tuple (PyTorch's expansion)."""
    if isinstance(value, numbers.Integral):
        return (int(value),) * ndim
    value = tuple(int(v) for v in value)
    if len(value) == 1:
        return value * ndim
    if len(value) != ndim:
        raise RuntimeError(f"expected {name} to be a single integer value or a list of {ndim} values to match "
                           f"the convolution dimensions, but got {name}={list(value)}")
    return value


def _im2col(xp, xc, kernel, dilation, stride, out_hw):
    """Column matrix (C*kh*kw, N*oh*ow) of channel-first ``xc`` (C, N, Hp, Wp): one copy of a strided view."""
    c, n = xc.shape[:2]
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, out_hw
    s_c, s_n, s_h, s_w = xc.strides
    view = as_strided(xp, xc, (c, kh, kw, n, oh, ow), (s_c, s_h * dh, s_w * dw, s_n, s_h * sh, s_w * sw))
    if not is_host(xc):
        return xp.ascontiguousarray(view).reshape(c * kh * kw, n * oh * ow)
    col = np.empty(view.shape, dtype=xc.dtype)  # on the host, each thread copies its channels' rows

    def rows(part):
        col[part[0]:part[1]] = view[part[0]:part[1]]

    cpu_map(rows, cpu_shares(c, col.size))
    return col.reshape(c * kh * kw, n * oh * ow)


def _col2im(gcol, gpad, kernel, dilation, stride, out_hw):
    """Add the column-matrix gradient ``gcol`` (C, kh, kw, N, oh, ow) into the padded input's ``gpad``
    (C, N, Hp, Wp): one strided addition per kernel offset, each thread taking a share of the channels."""
    (kh, kw), (dh, dw), (sh, sw), (oh, ow) = kernel, dilation, stride, out_hw
    hspan, wspan = sh * (oh - 1) + 1, sw * (ow - 1) + 1

    def channels(part):
        c = slice(*part)
        for i in range(kh):
            rows = slice(i * dh, i * dh + hspan, sh)
            for j in range(kw):
                gpad[c, :, rows, j * dw:j * dw + wspan:sw] += gcol[c, i, j]

    if is_host(gpad):
        cpu_map(channels, cpu_shares(gpad.shape[0], gcol.size))
    else:
        channels((0, gpad.shape[0]))


def _product(w2, col, groups):
    """``W @ col`` (K, M), per group as a batched product."""
    if groups == 1:
        return gemm.matmul(w2, col)
    k, m = w2.shape[0], col.shape[1]
    return (w2.reshape(groups, k // groups, -1) @ col.reshape(groups, -1, m)).reshape(k, m)


def _weight_grad(g2, col, groups):
    """``g2 @ col.T`` (K, C/G*kh*kw), computed as ``(col @ g2.T).T``: OpenBLAS runs that 5-15% faster."""
    if groups == 1:
        return gemm.matmul(col, g2.T).T
    k, m = g2.shape
    return (g2.reshape(groups, k // groups, m) @ col.reshape(groups, -1, m).transpose(0, 2, 1)).reshape(k, -1)


def _col_grad(w2, g2, groups):
    """``W.T @ g2`` (C*kh*kw, M)."""
    if groups == 1:
        return gemm.matmul(w2.T, g2)
    k, m = g2.shape
    w3 = w2.reshape(groups, k // groups, -1)
    return (w3.transpose(0, 2, 1) @ g2.reshape(groups, k // groups, m)).reshape(-1, m)


def _columns(x, geom, kernel):
    """The im2col column matrix of input ``x`` for a call of geometry ``geom``."""
    xp = xp_of(x)
    (n, c, h, wd), out_hw, stride, (pt, pb, pl, pr), dilation, _ = geom
    xc = x.transpose(1, 0, 2, 3)  # channel-first view: the column copy reads it in any layout
    if pt or pb or pl or pr:
        padded = xp.zeros((c, n, h + pt + pb, wd + pl + pr), dtype=x.dtype)
        padded[:, :, pt:pt + h, pl:pl + wd] = xc
        xc = padded
    return _im2col(xp, xc, kernel, dilation, stride, out_hw)


def _out_grad_rows(g):
    """The output gradient (N, K, oh, ow) as rows (K, N*oh*ow)."""
    return xp_of(g).ascontiguousarray(g.transpose(1, 0, 2, 3)).reshape(g.shape[1], -1)


def _input_grad(g2, w, geom):
    """The input gradient from output-gradient rows ``g2``: ``W.T @ g2``, then col2im."""
    (n, c, h, wd), (oh, ow), stride, (pt, pb, pl, pr), dilation, groups = geom
    k, _, kh, kw = w.shape
    gcol = _col_grad(w.reshape(k, -1), g2, groups).reshape(c, kh, kw, n, oh, ow)
    gpad = xp_of(g2).zeros((c, n, h + pt + pb, wd + pl + pr), dtype=g2.dtype)
    _col2im(gcol, gpad, (kh, kw), dilation, stride, (oh, ow))
    return gpad[:, :, pt:pt + h, pl:pl + wd].transpose(1, 0, 2, 3)


def _generic_grads(g, col, w, geom, need_x, need_w):
    """(input gradient, weight gradient) through the column matrix ``col``; None where not needed."""
    g2 = _out_grad_rows(g)
    gw = _weight_grad(g2, col, geom[5]).reshape(w.shape) if need_w else None
    return _input_grad(g2, w, geom) if need_x else None, gw


def _convolve(x, w, geom):
    """The convolution of ``x`` with ``w`` without bias as rows (K, N*oh*ow), and the column matrix."""
    col = _columns(x, geom, w.shape[2:])
    return _product(w.reshape(w.shape[0], -1), col, geom[5]), col


def _batch_first(rows, geom):
    """Rows (K, N*oh*ow) as PyTorch's contiguous (N, K, oh, ow), so that .view() works downstream."""
    (n, *_), (oh, ow) = geom[:2]
    return xp_of(rows).ascontiguousarray(rows.reshape(-1, n, oh, ow).transpose(1, 0, 2, 3))


def _finite(a):
    """Whether host array ``a`` (a weight or its gradient: small) holds only finite values."""
    return math.isfinite(float(a.sum()))


def _needs(node):
    """Which gradients backward must make: (input, weight, bias)."""
    edges = node._edges
    return edges[0] is not None, edges[1] is not None, len(edges) > 2 and edges[2] is not None


def _grads(node, gx, gw, gb):
    return (gx, gw, gb) if len(node._edges) > 2 else (gx, gw)


def _full_width_grads(node, g, x, fast):
    """The gradients of an implementation that computes on full-width rows (``_Compiled``, ``_Wide``).

    ``fast(need_x, need_w)`` gives (gx, gw, gb or None). Its dropped columns multiply input values by zero
    gradients, and padding zeros by the weight, which spoils the gradients only where the weight or the
    input holds inf or NaN: a non-finite weight (checked first) or weight gradient (checked after; both are
    small) sends them to the column-matrix way, whose gradients keep PyTorch's inf/NaN pattern."""
    w, geom = node.w, node.geom
    need_x, need_w, need_b = _needs(node)
    gb = None
    if _finite(w):
        gx, gw, gb = fast(need_x, need_w)
        if gw is not None and not _finite(gw):
            gw = _generic_grads(g, _columns(x, geom, w.shape[2:]), w, geom, False, True)[1]
    else:
        gx, gw = _generic_grads(g, _columns(x, geom, w.shape[2:]), w, geom, need_x, need_w)
    if need_b and gb is None:
        gb = channel_sum(g)
    return _grads(node, gx, gw, gb if need_b else None)


class _Compiled(Implementation):
    """``conv_kernels``: host float32, stride 1, no dilation or groups, padding within the kernel's reach."""

    name = "compiled"

    @staticmethod
    def applies(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        kh, kw = w.shape[2:]
        return (is_host(x) and x.dtype == np.float32 and w.dtype == np.float32 and stride == (1, 1)
                and dilation == (1, 1) and groups == 1 and max(pads[0], pads[1]) < kh
                and max(pads[2], pads[3]) < kw and jit.numba() is not None)

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.w, node.geom = w, _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        out, node.flat = conv_kernels.forward(x, w, b, pads)
        return out

    @staticmethod
    def backward(node, g):
        w, (x_shape, _, _, pads, _, _) = node.w, node.geom

        def fast(need_x, need_w):
            gx = conv_kernels.input_grad(g, w, pads) if need_x else None
            gw, gb = conv_kernels.weight_grad(g, node.flat, w.shape, pads, x_shape) if need_w else (None, None)
            return gx, gw, gb

        return _full_width_grads(node, g, _Compiled.input_of(node), fast)

    @staticmethod
    def input_of(node):
        """The input, as a view of the padded copy that forward kept."""
        (n, c, h, wd), (pt, pb, pl, pr) = node.geom[0], node.geom[3]
        x = node.flat[:n * c * (h + pt + pb) * (wd + pl + pr)].reshape(n, c, h + pt + pb, wd + pl + pr)
        return x[:, :, pt:pt + h, pl:pl + wd]


class _Pointwise(Implementation):
    """1x1 convolutions (stride 1, no padding, groups 1) of a host float32 input laid out channels-last (a
    channel LayerNorm's permuted output, ConvNeXt's and MobileNet's blocks): one product of the (N*H*W, C)
    pixels with the (C, K) weight, and a channels-last output, with no copy either way; the gradients are two
    more products. oneDNN's blocked convolution spent most of its time reordering such inputs (bench/NOTES.md)."""

    name = "pointwise"

    @staticmethod
    def applies(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        return (groups == 1 and w.shape[2:] == (1, 1) and stride == (1, 1) and not any(pads) and x.size > 0
                and w.shape[0] > 0
                and is_host(x) and x.dtype == np.float32 and w.dtype == np.float32
                and (b is None or b.dtype == np.float32) and dense.memory_order(x) == _CHANNELS_LAST)

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.x, node.w = x, w
        node.geom = _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        n, c, h, wd = x.shape
        out = gemm.matmul(dense.flat(x, _CHANNELS_LAST).reshape(-1, c), w.reshape(w.shape[0], c).T)
        if b is not None:
            out = binary_kernels.add_row_(out, b)
        return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2)

    @staticmethod
    def backward(node, g):
        need_x, need_w, need_b = _needs(node)
        x, w = node.x, node.w
        n, c, h, wd = x.shape
        rows = dense.flat(dense.in_order(g.astype(np.float32, copy=False), _CHANNELS_LAST), _CHANNELS_LAST)
        rows = rows.reshape(-1, w.shape[0])
        gx = gemm.matmul(rows, w.reshape(w.shape[0], c)).reshape(n, h, wd, c).transpose(0, 3, 1, 2) if need_x else None
        gw = gemm.matmul(rows.T, dense.flat(x, _CHANNELS_LAST).reshape(-1, c)).reshape(w.shape) if need_w else None
        return _grads(node, gx, gw, channel_sum(g) if need_b else None)

    @staticmethod
    def input_of(node):
        return node.x


_CHANNELS_LAST = (0, 2, 3, 1)


class _OneDNN(Implementation):
    """``onednn``: host float32, groups 1, where the library beats the compiled kernels and im2col: strided and
    1x1 convolutions, wide ones (both sides at least ``ONEDNN_MIN_CHANNELS`` channels), and large ones with at least
    ``ONEDNN_MIN_OUT_CHANNELS`` outputs; see bench/NOTES.md."""

    name = "onednn"

    @staticmethod
    def applies(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        if not (groups == 1 and is_host(x) and x.dtype == np.float32 and w.dtype == np.float32 and x.size > 0
                and (b is None or b.dtype == np.float32)):
            return False
        out_hw = _geometry(x.shape, w.shape, stride, pads, dilation, groups)[1]
        wide = min(w.shape[0], w.shape[1]) >= ONEDNN_MIN_CHANNELS
        large = w.shape[0] >= ONEDNN_MIN_OUT_CHANNELS and x.shape[0] * math.prod(out_hw) * w.size >= ONEDNN_MIN_MACS
        if not (stride != (1, 1) or w.shape[2:] == (1, 1) or wide or large):
            return False
        return onednn.convolution(x.shape, w.shape, out_hw, stride, pads, dilation) is not None

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.geom = geom = _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        node.flat = onednn.convolution(x.shape, w.shape, geom[1], stride, pads, dilation)  # as applies made it
        out, node.x = node.flat.forward(np.ascontiguousarray(x), np.ascontiguousarray(w),
                                        None if b is None else np.ascontiguousarray(b))
        node.w = w
        return out

    @staticmethod
    def backward(node, g):
        need_x, need_w, need_b = _needs(node)
        gx, gw, gb = node.flat.backward(np.ascontiguousarray(g, dtype=np.float32), node.x, need_x, need_w)
        if need_b and gb is None:
            gb = channel_sum(g)
        return _grads(node, gx, gw, gb if need_b else None)

    @staticmethod
    def input_of(node):
        return node.flat.input_of(node.x)


class _Depthwise(Implementation):
    """``conv_depthwise``: host floating arrays, one group per input channel, any stride, dilation, padding."""

    name = "depthwise"

    @staticmethod
    def applies(x, w, b=None, groups=1, **_):
        return groups > 1 and groups == x.shape[1] and w.shape[1] == 1 and jit.takes_floats(x) and x.size > 0

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.w, node.x = w, x
        node.geom = geom = _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        node.wide = conv_depthwise.Phases(x.shape, w.shape[2:], stride, pads, dilation, geom[1])
        return conv_depthwise.forward(x, w, b, node.wide)

    @staticmethod
    def backward(node, g):
        def fast(need_x, need_w):
            return (*conv_depthwise.backward(g, node.x, node.w, node.wide, need_x, need_w), None)

        return _full_width_grads(node, g, node.x, fast)

    @staticmethod
    def input_of(node):
        return node.x


class _Wide(Implementation):
    """``conv_wide``: host floating arrays with unit column stride."""

    name = "wide"

    @staticmethod
    def applies(x, w, b=None, stride=(1, 1), **_):
        return is_host(x) and x.dtype.kind == "f" and stride[1] == 1 and x.size > 0

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.w, node.x = w, x
        node.geom = geom = _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        node.wide = conv_wide.WideGeometry(x.shape, w.shape[2:], stride, pads, dilation, geom[1], x.itemsize)
        return conv_wide.forward(x, w, b, node.wide, groups, lambda w2, col: _product(w2, col, groups))

    @staticmethod
    def backward(node, g):
        groups = node.geom[5]

        def fast(need_x, need_w):
            gx, gw = conv_wide.backward(g, node.x, node.w, node.wide, groups, (need_x, need_w),
                                        lambda w2, col: _product(w2, col, groups),
                                        lambda g2, col: _weight_grad(g2, col, groups),
                                        lambda w2, g2: _col_grad(w2, g2, groups))
            return gx, gw, None

        return _full_width_grads(node, g, node.x, fast)

    @staticmethod
    def input_of(node):
        return node.x


class _Generic(Implementation):
    """im2col plus one matrix product, on NumPy or CuPy arrays alike."""

    @staticmethod
    def forward(node, x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
        node.w, node.x = w, x
        node.geom = geom = _geometry(x.shape, w.shape, stride, pads, dilation, groups)
        out, node.col = _convolve(x, w, geom)
        if b is not None:
            out += b[:, None]
        return _batch_first(out, geom)

    @staticmethod
    def backward(node, g):
        need_x, need_w, need_b = _needs(node)
        gx, gw = _generic_grads(g, node.col, node.w, node.geom, need_x, need_w)
        return _grads(node, gx, gw, channel_sum(g) if need_b else None)

    @staticmethod
    def input_of(node):
        return node.x


def _geometry(x_shape, w_shape, stride, pads, dilation, groups):
    """(input shape, (oh, ow), stride, pads, dilation, groups) of a call."""
    kh, kw = w_shape[2:]
    pt, pb, pl, pr = pads
    oh = (x_shape[2] + pt + pb - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (x_shape[3] + pl + pr - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    return (x_shape, (oh, ow), stride, pads, dilation, groups)


class Conv2d(Op):
    """``conv2d`` on a batched channel-first input; bias optional (a third input when given)."""

    __slots__ = ("col", "flat", "geom", "w", "wide", "x")
    _name = "ConvolutionBackward0"
    saves = 1
    implementations = (_Pointwise, _OneDNN, _Compiled, _Depthwise, _Wide, _Generic)

    def backward_graph(self, g):
        need_x, need_w, need_b = _needs(self)
        geom = self.geom
        x, w = self.saved_input(0, self._impl.input_of(self)), self.saved_input(1, self.w)
        gx = ConvInputGrad.apply(g, x, w, geom=geom) if need_x else None
        gw = ConvWeightGrad.apply(g, x, w, geom=geom) if need_w else None
        return _grads(self, gx, gw, g.sum((0, 2, 3)) if need_b else None)


def _convolved(x, w, geom):
    """``Conv2d`` of tensors ``x`` and ``w`` in geometry ``geom``, without bias."""
    _, _, stride, pads, dilation, groups = geom
    return Conv2d.apply(x, w, stride=stride, pads=pads, dilation=dilation, groups=groups)


def _weight_grad_of(x, g, w_shape, geom):
    """The weight gradient (shape ``w_shape``) of a convolution of ``x`` with output gradient ``g``."""
    return _weight_grad(_out_grad_rows(g), _columns(x, geom, w_shape[2:]), geom[5]).reshape(w_shape)


class ConvInputGrad(Op):
    """A convolution's input gradient from output gradient ``g`` and weight ``w`` (a transposed
    convolution), differentiable again. The result depends on the convolution's input ``x`` with zero
    derivative, as PyTorch's ``convolution_backward`` result does."""

    __slots__ = ("g", "geom", "w")
    _name = "ConvolutionBackwardBackward0"
    saves = 1

    def forward(self, g, x, w, geom=None):
        self.g, self.w, self.geom = g, w, geom
        return _input_grad(_out_grad_rows(g), w, geom)

    def backward(self, gg):
        eg, _, ew = self._edges
        return (None if eg is None else _batch_first(_convolve(gg, self.w, self.geom)[0], self.geom), None,
                None if ew is None else _weight_grad_of(gg, self.g, self.w.shape, self.geom))

    def backward_graph(self, gg):
        eg, _, ew = self._edges
        g, w = self.saved_input(0, self.g), self.saved_input(2, self.w)
        return (None if eg is None else _convolved(gg, w, self.geom), None,
                None if ew is None else ConvWeightGrad.apply(g, gg, w, geom=self.geom))


class ConvWeightGrad(Op):
    """A convolution's weight gradient from output gradient ``g`` and input ``x``, differentiable again;
    the weight ``w`` gives its shape, and the result depends on it with zero derivative."""

    __slots__ = ("g", "geom", "x")
    _name = "ConvolutionBackwardBackward0"
    saves = 1

    def forward(self, g, x, w, geom=None):
        self.g, self.x, self.geom = g, x, geom
        return _weight_grad_of(x, g, w.shape, geom)

    def backward(self, gw):
        eg, ex, _ = self._edges
        return (None if eg is None else _batch_first(_convolve(self.x, gw, self.geom)[0], self.geom),
                None if ex is None else _input_grad(_out_grad_rows(self.g), gw, self.geom), None)

    def backward_graph(self, gw):
        eg, ex, _ = self._edges
        g, x = self.saved_input(0, self.g), self.saved_input(1, self.x)
        return (None if eg is None else _convolved(x, gw, self.geom),
                None if ex is None else ConvInputGrad.apply(g, x, gw, geom=self.geom), None)


def _conv_padding(padding, kernel, dilation, stride):
    """(before, after) per spatial dimension, flat, from an int, a tuple, 'valid' or 'same' (extra padding at
    the end)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0) * len(kernel)
        if padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for d, k in zip(dilation, kernel):
                total = d * (k - 1)
                pads += [total // 2, total - total // 2]
            return tuple(pads)
        raise RuntimeError(f"Invalid padding string: '{padding}'")
    return tuple(p for v in _pair(padding, "padding", len(kernel)) for p in (v, v))


def _dims_of(name, x, dims):
    """Whether ``x`` is unbatched, or PyTorch's error for an input of neither rank."""
    if x.ndim not in (dims + 1, dims + 2):
        raise RuntimeError(f"Expected {dims + 1}D (unbatched) or {dims + 2}D (batched) input to {name}, but got "
                           f"input of size: {_dims(x.shape)}")
    return x.ndim == dims + 1


def _check_options(stride, dilation, groups, pads):
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("non-positive dilation is not supported")
    if any(p < 0 for p in pads):
        raise RuntimeError("negative padding is not supported")


def _check_groups(w, groups):
    k = w.shape[0]
    if k < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but "
                           f"got weight of size {_dims(w.shape)} instead")
    if k % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, "
                           f"but got weight of size [{_dims(w.shape)}] instead")


def _convolution_args(name, input, weight, bias, stride, padding, dilation, groups, dims):
    """Checked (stride, pads, dilation, groups) of a ``dims``-dimensional convolution, and whether the input
    is unbatched, with PyTorch's errors."""
    x, w = input._data, weight._data
    unbatched = _dims_of(name, x, dims)
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    stride = _pair(stride, "stride", w.ndim - 2)
    dilation = _pair(dilation, "dilation", w.ndim - 2)
    shape = (1, *x.shape) if unbatched else x.shape
    if w.ndim != len(shape):
        if dims == 2:
            raise RuntimeError(f"Expected 4-dimensional weight for 4-dimensional input {_dims(shape)}, but got "
                               f"{w.ndim}-dimensional weight of size {_dims(w.shape)} instead")
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {_dims(w.shape)}, "
                           f"but got {x.ndim}-dimensional input of size {_dims(x.shape)} instead")
    groups = int(groups)
    pads = _conv_padding(padding, w.shape[2:], dilation, stride)
    _check_options(stride, dilation, groups, pads)
    k = w.shape[0]
    _check_groups(w, groups)
    if shape[1] != w.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_dims(w.shape)}, expected input"
                           f"{_dims(shape)} to have {w.shape[1] * groups} channels, but got {shape[1]} channels "
                           f"instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != k):
        raise RuntimeError(f"Given weight of size {_dims(w.shape)}, expected bias to be 1-dimensional with {k} "
                           f"elements, but got bias of size {_dims(bias._data.shape)} instead")
    padded = [shape[2 + i] + pads[2 * i] + pads[2 * i + 1] for i in range(dims)]
    extent = [dilation[i] * (w.shape[2 + i] - 1) + 1 for i in range(dims)]
    if any(p < e for p, e in zip(padded, extent)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). Kernel size: "
                           f"({' x '.join(map(str, extent))}). Kernel size can't be greater than actual input size")
    if x.dtype != w.dtype and not _autocast.active:  # autocast casts them in Op.apply
        raise RuntimeError(f"expected scalar type {legacy_name(x.dtype)} but found {legacy_name(w.dtype)}")
    if bias is not None and bias._data.dtype != x.dtype and not _autocast.active:
        raise RuntimeError(f"Input type ({legacy_name(x.dtype).lower()}) and bias type "
                           f"({legacy_name(bias._data.dtype).lower()}) should be the same")
    return stride, pads, dilation, groups, unbatched


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.nn.functional.conv2d``: (N, C, H, W) or unbatched (C, H, W) input, weight (K, C/groups, kh, kw)."""
    stride, pads, dilation, groups, unbatched = _convolution_args(
        "conv2d", input, weight, bias, stride, padding, dilation, groups, 2)
    if unbatched:
        input = input.unsqueeze(0)
    inputs = (input, weight) if bias is None else (input, weight, bias)
    out = Conv2d.apply(*inputs, stride=stride, pads=pads, dilation=dilation, groups=groups)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """``torch.nn.functional.conv1d``: (N, C, L) or unbatched (C, L) input, weight (K, C/groups, k); a conv2d
    of unit height."""
    stride, pads, dilation, groups, unbatched = _convolution_args(
        "conv1d", input, weight, bias, stride, padding, dilation, groups, 1)
    x = input.unsqueeze(-2)
    if unbatched:
        x = x.unsqueeze(0)
    inputs = (x, weight.unsqueeze(-2)) if bias is None else (x, weight.unsqueeze(-2), bias)
    out = Conv2d.apply(*inputs, stride=(1, *stride), pads=(0, 0, *pads), dilation=(1, *dilation), groups=groups)
    return out.squeeze(-2).squeeze(0) if unbatched else out.squeeze(-2)


__all__ = ["Conv2d", "as_strided", "conv1d", "conv2d"]
