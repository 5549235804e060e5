"""Reductions built on ``reduce``'s helpers: nansum, nanmean, aminmax."""


import numpy as np

from .. import dtypes, return_types
from ..backend import Implementation, choose, is_host
from ..tensor import make_tensor, wrap_dim
from . import jit
from .convert import cast
from .direct import NO_OPTIONS, new_pair
from .op import Op, untracked, xp_of
from .reduce import _axis, _int_to_long, constant, expand_grad, expand_grad_graph, normalize_dims
from .reduce_extra_kernels import extremes, nan_skipping_sum


class MaskedSum(Implementation):
    """Zero the NaNs, then sum; on any device."""

    name = "masked"

    @staticmethod
    def sum(x, axis, keepdim):
        xp = xp_of(x)
        return xp.where(xp.isnan(x), 0, x).sum(axis=axis, keepdims=keepdim)


class SumFirst(Implementation):
    """On the CPU: sum as is, and zero the NaNs only when the sums show some (the check reads the result,
    not the data, but on a GPU it would wait for the device)."""

    name = "sum_first"

    @staticmethod
    def applies(x, **options):
        return is_host(x)

    @staticmethod
    def sum(x, axis, keepdim):
        out = np.add.reduce(x, axis, keepdims=keepdim)
        seen = np.add.reduce(out, None) if out.ndim else out  # NaN where a sum is (np.isnan(...).any(): +1 us)
        return MaskedSum.sum(x, axis, keepdim) if seen != seen else out


class Compiled(Implementation):
    """One compiled pass that skips the NaNs (float CPU arrays, with numba): at 1e3 elements as fast as
    ``SumFirst`` without NaNs and a fifth of its time with them."""

    name = "numba"
    sum = staticmethod(nan_skipping_sum)

    @staticmethod
    def applies(x, **options):
        return x.size > 0 and jit.takes_floats(x)


class NanSum(Op):
    """The sum with NaNs as zeros; their gradient is zero (times the upstream one, as in PyTorch: NaN where
    that is infinite)."""

    __slots__ = ("dims", "keepdim", "x")
    _name = "NansumBackward0"
    saves = 1
    implementations = (Compiled, SumFirst, MaskedSum)

    def forward(self, x, dims=None, keepdim=False):
        self.x, self.dims, self.keepdim = x, dims, keepdim
        axis = _axis(dims, x.ndim)
        if x.dtype.kind not in dtypes.FLOAT_KINDS:
            return x.sum(axis=axis, keepdims=keepdim)
        return self._impl.sum(x, axis, keepdim)

    def backward(self, g):
        x = self.x
        return (expand_grad(g, x.shape, self.dims, self.keepdim) * ~xp_of(x).isnan(x),)

    def backward_graph(self, g):
        x = self.x
        return (expand_grad_graph(g, x.shape, self.dims, self.keepdim) * constant(~xp_of(x).isnan(x), g),)


class NanMean(NanSum):
    """``NanSum`` divided by the count of values that are not NaN, in one node (PyTorch's is the division's)."""

    __slots__ = ("count",)
    _name = "DivBackward0"
    # the count's mask is read anyway, so no sum-first attempt (a second sum where NaNs are, as usual here)
    implementations = (Compiled, MaskedSum)

    def forward(self, x, dims=None, keepdim=False):
        total = super().forward(x, dims, keepdim)
        self.count = (x == x).sum(axis=_axis(dims, x.ndim), keepdims=keepdim).astype(x.dtype)
        return total / self.count

    def backward(self, g):
        return super().backward(g / self.count)

    def backward_graph(self, g):
        return super().backward_graph(g / constant(self.count, g))


def nansum(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtypes.to_dtype(dtype)) if dtype is not None else _int_to_long(input)
    data = x._data
    dims = None if dim is None else normalize_dims(dim, data.ndim)
    if data.dtype.kind == "f" and untracked(x):  # NanSum's forward without its node (not bfloat16's, in float32)
        impl = choose(NanSum.implementations, (data,), NO_OPTIONS)
        return make_tensor(impl.sum(data, dims and _axis(dims, data.ndim), keepdim))
    return NanSum.apply(x, dims=dims, keepdim=keepdim)


def nanmean(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtypes.to_dtype(dtype)) if dtype is not None else input
    if x._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError("nanmean(): expected input to have floating point or complex dtype but got "
                           f"{dtypes.legacy_name(x._data.dtype)}")
    return NanMean.apply(x, dims=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


class TwoPasses(Implementation):
    """min then max; on any device and dtype."""

    name = "two_passes"

    @staticmethod
    def extremes(x, axis, keepdim):
        return x.min(axis=axis, keepdims=keepdim), x.max(axis=axis, keepdims=keepdim)


class CompiledExtremes(Implementation):
    """Both extremes in one compiled pass (float CPU arrays, with numba), on threads where that pays."""

    name = "numba"
    extremes = staticmethod(extremes)

    @staticmethod
    def applies(x, **options):
        return x.size > 0 and jit.takes_floats(x)


class AminMax(Op):
    """Both extremes in one node; each output's gradient is shared evenly between its tied extremes, as
    amin/amax do. The tie masks are made in backward, from the saved input."""

    __slots__ = ("axis", "dims", "hi", "keepdim", "lo", "x")
    _name = "AminmaxBackward0"
    num_outputs = 2
    saves = 1
    implementations = (CompiledExtremes, TwoPasses)

    def forward(self, x, dims=None, keepdim=False):
        axis = _axis(dims, x.ndim)
        self.x, self.dims, self.keepdim, self.axis = x, dims, keepdim, axis
        self.lo, self.hi = self._impl.extremes(x, axis, True)
        if keepdim:
            return self.lo, self.hi
        shape = [s for i, s in enumerate(x.shape) if axis is not None and i not in axis]
        return self.lo.reshape(shape), self.hi.reshape(shape)

    def backward(self, g_lo, g_hi=None):
        return (self._shared(g_lo, g_hi, expand_grad, lambda shares, g: shares),)

    def backward_graph(self, g_lo, g_hi=None):
        return (self._shared(g_lo, g_hi, expand_grad_graph, constant),)

    def _shared(self, g_lo, g_hi, expand, factor):
        """The gradients spread over the tied extremes; ``expand`` and ``factor`` (the shares as something
        that multiplies ``g``) for arrays or for tensors."""
        x, out = self.x, 0
        for g, extreme in ((g_lo, self.lo), (g_hi, self.hi)):
            if g is not None:
                mask = (x == extreme).astype(x.dtype)
                shares = factor(mask / mask.sum(axis=self.axis, keepdims=True), g)
                out = expand(g, x.shape, self.dims, self.keepdim) * shares + out
        return out


def aminmax(input, *, dim=None, keepdim=False):
    data = input._data
    shape = data.shape
    if dim is None:
        if not data.size:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                               "no identity.")
        dims = None
    else:
        dims = (wrap_dim(dim, len(shape)),)
        if shape and not shape[dims[0]]:
            raise IndexError(f"aminmax: Expected reduction dim {dims[0]} to have non-zero size.")
    if untracked(input):  # AminMax's forward without its node
        impl = choose(AminMax.implementations, (data,), NO_OPTIONS)  # (none of them reads the options)
        lo, hi = impl.extremes(data, dims and _axis(dims, data.ndim), keepdim)
        return new_pair(return_types.aminmax, (make_tensor(lo), make_tensor(hi)))
    return return_types.aminmax(*AminMax.apply(input, dims=dims, keepdim=keepdim))
