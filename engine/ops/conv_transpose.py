"""Transposed convolution (``conv_transpose1d``/``2d``): the input gradient of the convolution whose weight
it shares, as one graph node. Its input plays the convolution's output gradient, so forward is that
convolution's input gradient in its geometry (input size the transposed output, output size the transposed
input); backward is that convolution's forward (input gradient) and weight gradient, and double backward goes
through ``Conv2d`` and ``ConvWeightGrad``.

Forward without dilation runs as ``sh * sw`` unit-stride convolutions, one per output phase
(``out[a::sh, b::sw]`` only sees the taps ``w[a::sh, b::sw]``), each through ``Conv2d``'s fastest
implementation: ``W.T @ x`` and col2im (``conv._input_grad``, kept for dilated calls) write a column matrix
of kh*kw times the input's size and add it back with one strided pass per tap, about 3x the time.
Host float32 calls without groups run all three passes on oneDNN's convolution primitives instead (``onednn``),
twice as fast as the phases at the benchmark's shape (bench/NOTES.md).
"""

import numpy as np

from ..autocast_state import state as _autocast
from ..backend import Implementation, choose, is_host
from ..dtypes import legacy_name
from . import conv_transpose_kernels, jit, onednn
from .channel_sums import channel_sum
from .conv import Conv2d as _Conv2d
from .conv import (
    ConvWeightGrad,
    _batch_first,
    _check_groups,
    _check_options,
    _columns,
    _convolve,
    _convolved,
    _dims,
    _dims_of,
    _Generic,
    _grads,
    _input_grad,
    _needs,
    _out_grad_rows,
    _pair,
    _weight_grad,
    _Wide,
)
from .conv_wide import _flipped_transpose
from .op import Op, xp_of


def _convolution(x, w, pads, groups):
    """A unit-stride convolution of arrays by ``Conv2d``'s full-row or generic implementation: the phases'
    sub-kernels are small (2x2 for a 4x4 kernel at stride 2) and their channels many, where one product over
    chunks of the column matrix beat the compiled direct kernel (19 against 26 ms at 64x32x16x16 -> 64x17x17
    on one thread)."""
    options = {"stride": (1, 1), "pads": pads, "dilation": (1, 1), "groups": groups}
    return choose((_Wide, _Generic), (x, w), options).forward(object.__new__(_Conv2d), x, w, None, **options)


def _phases(size, pad, stride, extent, taps):
    """Per output phase ``a`` along one dimension that has taps and outputs: (kernel slice of the flipped
    kernel, (padding before, after), rows ``q0:q1`` of the phase's convolution, first output index)."""
    out = []
    for a in range(min(stride, taps)):
        count = -(-(taps - a) // stride)
        q0, q1 = max(0, -((a - pad) // stride)), (pad + extent - 1 - a) // stride + 1
        if q1 > q0:
            start = taps - 1 - a - stride * (count - 1)
            out.append((slice(start, None, stride), (count - 1, max(0, q1 - size)), slice(q0, q1),
                        a + stride * q0 - pad))
    return out


def _by_phases(x, w, b, geom):
    """The transposed convolution of ``x`` (N, C, H, W) with ``w`` (C, K/G, kh, kw) and bias ``b`` (or None),
    without dilation, as one unit-stride convolution per output phase: rows ``a::sh`` of the output take the
    taps ``a::sh`` of the kernel, flipped, over ``x`` padded by that sub-kernel's size - 1 before (and after,
    as far as the output reaches). Ungrouped phases whose sub-kernels have one size (the kernel a multiple of
    the stride) are one convolution with their output channels stacked: the input is read and padded once,
    and the result placed in one pass (``_PLACEMENTS``)."""
    (_, _, ho, wo), (h, wd), (sh, sw), (ph, _, pw, _), _, groups = geom
    xp = xp_of(x)
    flipped = _flipped_transpose(w, groups)
    pairs = [(r, c) for r in _phases(h, ph, sh, ho, w.shape[2]) for c in _phases(wd, pw, sw, wo, w.shape[3])]
    subs = [flipped[:, :, r[0], c[0]] for r, c in pairs]
    if groups == 1 and len({sub.shape for sub in subs}) == 1:
        pads = (pairs[0][0][1][0], max(r[1][1] for r, _ in pairs), pairs[0][1][1][0], max(c[1][1] for _, c in pairs))
        stacked = _convolution(x, xp.ascontiguousarray(xp.concatenate(subs)), pads, 1)
        return choose(_PLACEMENTS, (stacked,), {}).place(stacked, b, pairs, geom)
    parts = [_convolution(x, xp.ascontiguousarray(sub), (*r[1], *c[1]), groups) for (r, c), sub in zip(pairs, subs)]
    return _placed(x, parts, b, pairs, geom)


def _placed(x, parts, b, pairs, geom):
    """The output from the phases' outputs ``parts`` by NumPy (on ``x``'s array type and dtype): zeros, a
    strided assignment per phase, the bias. There may be no phase at all: a 1x1 kernel padded by 1 at stride 2
    reaches no output column of a 2-wide input, which then holds only the bias."""
    (n, k, ho, wo), _, (sh, sw), *_ = geom
    out = xp_of(x).zeros((n, k, ho, wo), dtype=x.dtype)
    for (r, c), part in zip(pairs, parts):
        out[:, :, r[3]::sh, c[3]::sw] = part[:, :, r[2], c[2]]
    if b is not None:
        out += b[:, None, None]
    return out


class _StridedPlacement(Implementation):
    """The phases placed by NumPy (``_placed``)."""

    @staticmethod
    def place(stacked, b, pairs, geom):
        k = geom[0][1]
        return _placed(stacked, [stacked[:, i * k:(i + 1) * k] for i in range(len(pairs))], b, pairs, geom)


class _CompiledPlacement(Implementation):
    """The phases placed by one compiled pass that adds the bias (``conv_transpose_kernels``; host floats)."""

    name = "compiled"

    @staticmethod
    def applies(stacked):
        return jit.takes_floats(stacked) and stacked.flags.c_contiguous

    @staticmethod
    def place(stacked, b, pairs, geom):
        (n, k, ho, wo), _, strides, *_ = geom
        out = np.empty((n, k, ho, wo), dtype=stacked.dtype)
        table = [(r[3], r[2].start, r[2].stop - r[2].start, c[3], c[2].start, c[2].stop - c[2].start)
                 for r, c in pairs]
        rows = {row: count for row, _, count, *_ in table}  # each row phase once
        cols = {col: count for *_, col, _, count in table}
        if sum(rows.values()) < ho or sum(cols.values()) < wo:  # a kernel smaller than the stride misses some
            out[...] = 0 if b is None else b[:, None, None]
        return conv_transpose_kernels.interleave(stacked, b, table, out, strides)


_PLACEMENTS = (_CompiledPlacement, _StridedPlacement)


class _OneDNNTransposed(Implementation):
    """``onednn``: host float32, groups 1, an output padding within the stride. Forward is the input gradient of
    the convolution the weight belongs to, backward that convolution's forward and weight gradient, all on
    oneDNN's primitives (``onednn.Convolution``), as PyTorch's CPU path runs them."""

    name = "onednn"

    @staticmethod
    def applies(x, w, b=None, geom=None):
        if not (geom[5] == 1 and is_host(x) and x.dtype == np.float32 and w.dtype == np.float32 and x.size > 0
                and (b is None or b.dtype == np.float32)):
            return False
        return _OneDNNTransposed.convolution(x, w, geom) is not None

    @staticmethod
    def convolution(x, w, geom):
        """The convolution whose input gradient this call is, None where oneDNN has none: it refuses an output
        padding at or past the stride (allowed below the dilation), whose convolution gives back a larger
        output than ``x``."""
        out_shape, _, stride, pads, dilation, _ = geom
        return onednn.convolution(out_shape, w.shape, x.shape[2:], stride, pads, dilation)

    @staticmethod
    def forward(node, x, w, b=None, geom=None):
        node.x, node.w, node.geom = x, w, geom
        node.flat = _OneDNNTransposed.convolution(x, w, geom)  # as applies made it, kept for backward
        out = node.flat.input_grad(np.ascontiguousarray(x), np.ascontiguousarray(w))
        if b is not None:
            out += b[:, None, None]
        return out

    @staticmethod
    def backward(node, g):
        need_x, need_w, need_b = _needs(node)
        convolution = node.flat
        plain, x = np.ascontiguousarray(g, dtype=np.float32), np.ascontiguousarray(node.x)
        gx = gw = None
        if need_x:  # the convolution's forward keeps ``g`` in its layout for the weight gradient too
            gx, kept = convolution.forward(plain, np.ascontiguousarray(node.w))
            if need_w:
                gw = convolution.backward(x, kept, False, True)[1]
        elif need_w:
            gw = convolution.weight_grad(plain, x)
        return _grads(node, gx, gw, channel_sum(g) if need_b else None)


class _Phases(Implementation):
    """Forward by output phases (``_by_phases``; col2im where dilated), backward by ``g``'s column matrix."""

    @staticmethod
    def forward(node, x, w, b=None, geom=None):
        node.x, node.w, node.geom = x, w, geom
        if geom[4] == (1, 1):
            return _by_phases(x, w, b, geom)
        out = xp_of(x).ascontiguousarray(_input_grad(_out_grad_rows(x), w, geom))
        if b is not None:
            out += b[:, None, None]
        return out

    @staticmethod
    def backward(node, g):
        """The input's gradient is the convolution of ``g``, the weight's that convolution's weight gradient
        for output gradient ``x``: both multiply ``g``'s column matrix, built once."""
        need_x, need_w, need_b = _needs(node)
        gx = gw = None
        if need_x:
            rows, col = _convolve(g, node.w, node.geom)
            gx = _batch_first(rows, node.geom)
        elif need_w:
            col = _columns(g, node.geom, node.w.shape[2:])
        if need_w:
            gw = _weight_grad(_out_grad_rows(node.x), col, node.geom[5]).reshape(node.w.shape)
        return _grads(node, gx, gw, channel_sum(g) if need_b else None)


class ConvTranspose2d(Op):
    """``conv_transpose2d`` on a batched channel-first input in ``conv``'s geometry ``geom``; bias optional."""

    __slots__ = ("flat", "geom", "w", "x")
    _name = "ConvolutionBackward0"
    saves = 1
    implementations = (_OneDNNTransposed, _Phases)

    def backward_graph(self, g):
        need_x, need_w, need_b = _needs(self)
        x, w = self.saved_input(0, self.x), self.saved_input(1, self.w)
        oh, ow = self.geom[1]
        gx = _convolved(g, w, self.geom)[:, :, :oh, :ow] if need_x else None
        gw = ConvWeightGrad.apply(x, g, w, geom=self.geom) if need_w else None
        return _grads(self, gx, gw, g.sum((0, 2, 3)) if need_b else None)


def _check_output_padding(out_pad, stride, dilation):
    """PyTorch's checks of the output padding, all arguments as 2-d (a 1-d call has unit height)."""
    if any(p < 0 for p in out_pad):
        raise RuntimeError("negative output_padding is not supported")
    if any(p >= s and p >= d for p, s, d in zip(out_pad, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding_height: {out_pad[0]} output_padding_width: {out_pad[1]} stride_height: "
                           f"{stride[0]} stride_width: {stride[1]} dilation_height: {dilation[0]} dilation_width: "
                           f"{dilation[1]}")


def _transposed(name, input, weight, bias, stride, padding, output_padding, groups, dilation, dims):
    """The checked call of a ``dims``-dimensional transposed convolution as (batched input, weight, bias, geom,
    unbatched), with PyTorch's errors; 1-d calls become 2-d ones of unit height."""
    x, w = input._data, weight._data
    unbatched = _dims_of(name, x, dims)
    if w.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be tuple of ints, not str")
    shape = (1, *x.shape) if unbatched else x.shape
    if w.ndim != len(shape):
        raise RuntimeError(f"Expected {w.ndim}-dimensional input for {w.ndim}-dimensional weight {_dims(w.shape)}, "
                           f"but got {len(shape)}-dimensional input of size {_dims(shape)} instead")
    stride, padding, out_pad, dilation = (_pair(v, what, w.ndim - 2) for v, what in (
        (stride, "stride"), (padding, "padding"), (output_padding, "output_padding"), (dilation, "dilation")))
    groups = int(groups)
    _check_options(stride, dilation, groups, padding)
    if dims == 1:
        stride, padding, out_pad, dilation = ((unit, *v) for unit, v in zip(
            (1, 0, 0, 1), (stride, padding, out_pad, dilation)))
    _check_output_padding(out_pad, stride, dilation)
    _check_groups(w, groups)
    if shape[1] != w.shape[0]:
        raise RuntimeError(f"Given transposed=1, weight of size {_dims(w.shape)}, expected input{_dims(shape)} to "
                           f"have {w.shape[0]} channels, but got {shape[1]} channels instead")
    k = w.shape[1] * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != k):
        raise RuntimeError(f"Given transposed=1, weight of size {_dims(w.shape)}, expected bias to be 1-dimensional "
                           f"with {k} elements, but got bias of size {_dims(bias._data.shape)} instead")
    for other, what in ((weight, "weight"), (bias, "bias")):
        if other is not None and other._data.dtype != x.dtype and not _autocast.active:
            raise RuntimeError(f"Input type (torch.{legacy_name(x.dtype)}Tensor) and {what} type "
                               f"(torch.{legacy_name(other._data.dtype)}Tensor) should be the same or input should "
                               f"be a MKLDNN tensor and {what} is a dense tensor")
    if unbatched:
        input = input.unsqueeze(0)
    if dims == 1:
        input, weight = input.unsqueeze(-2), weight.unsqueeze(-2)
    size_in = input._data.shape[2:]
    size_out = [(i - 1) * s - 2 * p + d * (kk - 1) + o + 1
                for i, s, p, d, kk, o in zip(size_in, stride, padding, dilation, weight._data.shape[2:], out_pad)]
    pads = (padding[0], padding[0], padding[1], padding[1])
    geom = ((shape[0], k, *size_out), tuple(size_in), stride, pads, dilation, groups)
    return input, weight, bias, geom, unbatched


def _apply(name, dims, input, weight, bias, stride, padding, output_padding, groups, dilation):
    x, w, b, geom, unbatched = _transposed(name, input, weight, bias, stride, padding, output_padding, groups,
                                           dilation, dims)
    out = ConvTranspose2d.apply(*((x, w) if b is None else (x, w, b)), geom=geom)
    if dims == 1:
        out = out.squeeze(-2)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """``torch.nn.functional.conv_transpose2d``: (N, C, H, W) or unbatched input, weight (C, K/groups, kh, kw)."""
    return _apply("conv_transpose2d", 2, input, weight, bias, stride, padding, output_padding, groups, dilation)


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """``torch.nn.functional.conv_transpose1d``: (N, C, L) or unbatched input, weight (C, K/groups, k)."""
    return _apply("conv_transpose1d", 1, input, weight, bias, stride, padding, output_padding, groups, dilation)


__all__ = ["ConvTranspose2d", "conv_transpose1d", "conv_transpose2d"]
