"""Cumulative ops along one dim: cumsum, cumprod, cummax, cummin, logcumsumexp (and ``cumsum_``/``cumprod_``).

CuPy's ufuncs accumulate only ``add`` and ``multiply``, so running maxima, minima and log-sum-exps have two
implementations: NumPy's ``ufunc.accumulate`` on the CPU, and prefix scans by doubling (``log2(n)``
whole-array passes) on any device. Every op works with its dim moved last; a 0-d tensor is scanned as one
element.
"""

import numpy as np

from .. import dtypes, return_types
from ..backend import Implementation, choose, is_host
from ..tensor import make_tensor, wrap_dim
from . import jit
from .convert import cast
from .direct import NO_OPTIONS, new_pair
from .inplace import apply_inplace
from .op import Op, untracked, xp_of
from .reduce import _int_to_long, constant
from .scan_kernels import log_cum_sum_exp, running, running_extreme, running_extreme_grad
from .scatter import scatter_add


def prefix_scan(op, x):
    """Inclusive scan of the binary ufunc ``op`` (associative) along the last axis of ``x``."""
    y = x.copy()
    n, s = x.shape[-1], 1
    while s < n:
        y[..., s:] = op(y[..., s:], y[..., :-s])
        s *= 2
    return y


class Doubling(Implementation):
    """``prefix_scan``, on any device. ``extremes`` gives cummax/cummin's values and indices: an index moves
    to each position that holds the running extreme (ties and NaNs included, as in PyTorch)."""

    name = "doubling"
    scan = staticmethod(prefix_scan)

    @classmethod
    def logcumsumexp(cls, x, reverse=False):
        """The scan of ``logaddexp`` along the last axis; ``reverse`` runs from the end."""
        xp = xp_of(x)

        def scan(a):
            return cls.scan(xp.logaddexp, a)

        return _reverse(scan, x) if reverse else scan(x)

    @classmethod
    def extremes(cls, x, is_max):
        xp = xp_of(x)
        values = cls.scan(xp.maximum if is_max else xp.minimum, x)
        record = values == x
        if x.dtype.kind in dtypes.FLOAT_KINDS:
            record |= xp.isnan(x)
        positions = xp.arange(x.shape[-1], dtype=np.int64)
        return values, cls.scan(xp.maximum, xp.where(record, positions, 0))

    @classmethod
    def extremes_grad(cls, g, idx):
        """cummax/cummin's gradient: each output's to its index. Each index's run of outputs is contiguous:
        it lasts until the next position that is its own index."""
        xp = xp_of(g)
        n = idx.shape[-1]
        positions = xp.arange(n, dtype=np.int64)
        starts = xp.where(idx == positions, positions, n)
        ends = _reverse(lambda a: cls.scan(xp.minimum, a), xp.concatenate(
            [starts[..., 1:], xp.full((*idx.shape[:-1], 1), n, dtype=np.int64)], axis=-1))
        zero = xp.zeros((*g.shape[:-1], 1), dtype=g.dtype)
        totals = xp.concatenate([zero, xp.cumsum(g, axis=-1)], axis=-1)  # totals[k]: the sum of g before k
        run = xp.take_along_axis(totals, ends, axis=-1) - totals[..., :-1]
        return xp.where(idx == positions, run, 0).astype(g.dtype)


class Accumulate(Doubling):
    """One pass of NumPy's ``ufunc.accumulate``; CPU arrays only."""

    name = "accumulate"

    @staticmethod
    def applies(x, **options):
        return is_host(x)

    @staticmethod
    def scan(op, x):
        return op.accumulate(x, axis=-1)


class Compiled(Accumulate):
    """cummax/cummin's values and indices in one compiled pass, and their gradient in one more;
    logcumsumexp in one pass with a running maximum (float CPU arrays, with numba)."""

    name = "numba"

    @staticmethod
    def applies(x, **options):
        return jit.takes_floats(x)

    extremes = staticmethod(running_extreme)
    extremes_grad = staticmethod(running_extreme_grad)
    logcumsumexp = staticmethod(log_cum_sum_exp)


class Running(Implementation):
    """cumsum and cumprod (forwards, or from the end) by NumPy's or CuPy's own, on any device."""

    name = "generic"

    @staticmethod
    def running(x, product, reverse=False):
        xp = xp_of(x)
        fn = xp.cumprod if product else xp.cumsum
        if reverse:
            return xp.flip(fn(xp.flip(x, -1), axis=-1, dtype=x.dtype), -1)
        return fn(x, axis=-1, dtype=x.dtype)  # NumPy would widen small integers


class CompiledRunning(Running):
    """The same in one compiled pass (float CPU arrays, with numba), from 256 elements, where it starts to pay."""

    name = "numba"
    running = staticmethod(running)

    @staticmethod
    def applies(x, **options):
        return x.size >= 256 and jit.takes_floats(x)


def _reverse(op, x):
    xp = xp_of(x)
    return xp.flip(op(xp.flip(x, -1)), -1)


def _reversed(scan, t, axis):
    """A tensor scan run from the end of ``axis`` back to its start."""
    return scan(t.flip(axis)).flip(axis)


def _shift_right(x, first):
    """``x`` moved one step along the last axis, ``first`` entering at the start."""
    xp = xp_of(x)
    head = xp.full((*x.shape[:-1], 1), first, dtype=x.dtype)
    return xp.concatenate([head, x[..., :-1]], axis=-1)


def _to_last(a, axis):
    """``a`` with ``axis`` moved last (a 0-d array as one element)."""
    if not a.ndim:
        return a.reshape(1)
    return a if axis == a.ndim - 1 else xp_of(a).moveaxis(a, axis, -1)


def _from_last(y, axis, shape):
    """``_to_last``'s inverse, for an input of shape ``shape``."""
    if not shape:
        return y.reshape(())
    return y if axis == y.ndim - 1 else xp_of(y).moveaxis(y, -1, axis)


class _Scan(Op):
    """Moves the dim last (a 0-d input becomes one element) around ``scan`` and ``grad``."""

    __slots__ = ("axis", "shape")
    saves_tensors = False

    def forward(self, x, axis=0):
        self.axis, self.shape = axis, x.shape
        out = self.scan(_to_last(x, axis))
        if out.__class__ is tuple:
            return tuple(self._back(o) for o in out)
        return _from_last(out, axis, self.shape)

    def backward(self, g, *ignored):
        return (self._back(self.grad(_to_last(g, self.axis))),)

    def _back(self, y):
        return _from_last(y, self.axis, self.shape)


class Cumsum(_Scan):
    __slots__ = ()
    _name = "CumsumBackward0"
    implementations = (CompiledRunning, Running)

    def scan(self, x):
        return self._impl.running(x, False)

    def grad(self, g):
        return self._impl.running(g, False, reverse=True)

    def backward_graph(self, g):
        if not self.shape:
            return (g,)
        return (_reversed(lambda t: Cumsum.apply(t, axis=self.axis), g, self.axis),)


class Cumprod(_Scan):
    """The gradient is PyTorch's ``reversed_cumsum(g * y) / x`` on lines without zeros, and exact on lines
    with zeros: for ``y_i = x_0 ... x_i``, ``dL/dx_j = (x_0 ... x_{j-1}) * S_j`` with
    ``S_j = g_j + x_{j+1} S_{j+1}``, a linear recurrence solved by a scan over affine maps."""

    __slots__ = ("x",)
    _name = "CumprodBackward0"
    saves_tensors = True
    saves = 1
    implementations = (CompiledRunning, Running)

    def scan(self, x):
        self.x = x
        return self._impl.running(x, True)

    def grad(self, g):
        x, run = self.x, self._impl.running
        xp = xp_of(x)
        sums = run(run(x, True) * g, False, reverse=True)
        with_zeros = (x == 0).any(axis=-1)
        if not with_zeros.any():
            return sums / x
        out = sums / xp.where(x == 0, 1, x)
        out[with_zeros] = _exact_cumprod_grad(x[with_zeros], g[with_zeros])
        return out

    def backward_graph(self, g):
        """PyTorch's formula: the reversed cumulative sum of ``g * y`` over ``x`` without zeros; with zeros,
        ``dL/dx_j = sum_{i >= j} g_i prod_{m <= i, m != j} x_m`` from one cumprod per ``j`` (``n`` times the
        memory, as only a double backward needs it)."""
        axis = self.axis
        if not self.shape or self.shape[axis] < 2:
            return (g,)
        x = self.saved_input(0, self._back(self.x))
        xp = xp_of(self.x)
        if xp.all(self.x != 0):
            y = Cumprod.apply(x, axis=axis)
            return (_reversed(lambda t: Cumsum.apply(t, axis=axis), g * y, axis) / x,)
        n = self.shape[axis]
        eye = xp.eye(n, dtype=self.x.dtype)
        without = (x.movedim(axis, -1).unsqueeze(-2) * constant(1 - eye, g) + constant(eye, g)).cumprod(-1)
        later = constant(xp.triu(xp.ones((n, n), dtype=self.x.dtype)), g)  # [j, i]: i >= j
        return ((without * later * g.movedim(axis, -1).unsqueeze(-2)).sum(-1).movedim(-1, axis),)


def _exact_cumprod_grad(x, g):
    """Cumprod's gradient along the last axis by the affine-map scan, exact with zeros in ``x``."""
    xp = xp_of(x)
    before = _shift_right(xp.cumprod(x, axis=-1), 1)
    a = _shift_right(xp.flip(x, -1), 0)
    b = xp.flip(g, -1).copy()
    n, s = x.shape[-1], 1
    while s < n:
        b[..., s:] = b[..., s:] + a[..., s:] * b[..., :-s]
        a[..., s:] = a[..., s:] * a[..., :-s]
        s *= 2
    return before * xp.flip(b, -1)


class Cummax(_Scan):
    """Values and the index of the latest extreme (NaN counts as the extreme, as in PyTorch); the
    gradient of each output goes to its index."""

    __slots__ = ("indices",)
    _name = "CummaxBackward0"
    saves_tensors = True
    num_outputs = 2
    implementations = (Compiled, Accumulate, Doubling)
    is_max = True

    def scan(self, x):
        values, self.indices = self._impl.extremes(x, self.is_max)
        return values, self.indices

    def grad(self, g):
        return self._impl.extremes_grad(g, self.indices)

    def backward_graph(self, g, *ignored):
        if not self.shape:
            return (g,)
        zeros = constant(xp_of(g._data).zeros(self.shape, dtype=g._data.dtype), g)
        return (scatter_add(zeros, self.axis, constant(self._back(self.indices), g), g),)


class Cummin(Cummax):
    __slots__ = ()
    _name = "CumminBackward0"
    is_max = False


class LogCumSumExp(_Scan):
    """Backward splits the upstream gradient by sign and sums each part in log space, as PyTorch does,
    so large inputs neither overflow nor lose the small terms."""

    __slots__ = ("out", "x")
    _name = "LogcumsumexpBackward0"
    saves_tensors = True
    saves = 3
    implementations = (Compiled, Accumulate, Doubling)

    def scan(self, x):
        self.x = x
        self.out = self._impl.logcumsumexp(x)
        return self.out

    def grad(self, g):
        xp = xp_of(g)
        x, out = self.x, self.out

        def part(mask, magnitude):
            log_g = xp.where(mask, xp.log(xp.where(mask, magnitude, 1)), -np.inf).astype(g.dtype)
            return xp.exp(self._impl.logcumsumexp(log_g - out, reverse=True) + x)

        return part(g > 0, g) - part(g < 0, -g)

    def backward_graph(self, g):
        """PyTorch's formula, the signs' masks as constants (the smallest float, not -inf, where a part
        is empty, so that no 0 * inf reaches the graph)."""
        if not self.shape:
            return (g,)
        axis, data = self.axis, g._data
        x, out = self.saved_input(0, self._back(self.x)), self.saved_output(self._back(self.out))
        lowest = np.finfo(data.dtype).min

        def part(mask):
            mask = mask.astype(data.dtype)
            log_g = (g.abs() * constant(mask, g) + constant(1 - mask, g)).log() + constant((1 - mask) * lowest, g)
            return (_reversed(lambda t: LogCumSumExp.apply(t, axis=axis), log_g - out, axis) + x).exp()

        return (part(data > 0) - part(data < 0),)


def _dim(input, dim):
    return wrap_dim(dim, input._data.ndim)


def _accumulating(input, dtype):
    """``input`` in the dtype PyTorch accumulates in: ``dtype`` when given, int64 for integers and bools."""
    return cast(input, dtypes.to_dtype(dtype)) if dtype is not None else _int_to_long(input)


def _running(input, dim, product):
    """cumsum or cumprod of an untracked tensor, as their node computes it."""
    x = input._data
    axis = wrap_dim(dim, x.ndim)
    out = choose(Cumsum.implementations, (x,), NO_OPTIONS).running(_to_last(x, axis), product)
    return make_tensor(_from_last(out, axis, x.shape))


def _extremes(result, input, dim, is_max):
    """cummax or cummin of an untracked tensor, as their node computes it."""
    x = input._data
    axis = wrap_dim(dim, x.ndim)
    values, indices = choose(Cummax.implementations, (x,), NO_OPTIONS).extremes(_to_last(x, axis), is_max)
    return new_pair(result, (make_tensor(_from_last(values, axis, x.shape)),
                             make_tensor(_from_last(indices, axis, x.shape))))


def cumsum(input, dim, *, dtype=None):
    x = _accumulating(input, dtype)
    if x._data.dtype.kind != "V" and untracked(x):  # bfloat16: computed in float32 by its node
        return _running(x, dim, False)
    return Cumsum.apply(x, axis=_dim(input, dim))


def cumprod(input, dim, *, dtype=None):
    x = _accumulating(input, dtype)
    if x._data.dtype.kind != "V" and untracked(x):  # bfloat16: computed in float32 by its node
        return _running(x, dim, True)
    return Cumprod.apply(x, axis=_dim(input, dim))


def cummax(input, dim):
    if untracked(input):
        return _extremes(return_types.cummax, input, dim, True)
    return return_types.cummax(*Cummax.apply(input, axis=_dim(input, dim)))


def cummin(input, dim):
    if untracked(input):
        return _extremes(return_types.cummin, input, dim, False)
    return return_types.cummin(*Cummin.apply(input, axis=_dim(input, dim)))


def logcumsumexp(input, dim):
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise NotImplementedError(
            f'"logcumsumexp_out_cpu" not implemented for \'{dtypes.legacy_name(input._data.dtype)}\'')
    return LogCumSumExp.apply(input, axis=_dim(input, dim))


def _same_dtype(self, dtype):
    if dtype is None:
        return
    want, have = dtypes.to_dtype(dtype).np, self._data.dtype
    if want != have:
        raise RuntimeError(f"Bad in-place call: input tensor dtype {dtypes.legacy_name(have).lower()} and output "
                           f"tensor dtype {dtypes.legacy_name(want).lower()} should match")


def cumsum_(self, dim, *, dtype=None):
    _same_dtype(self, dtype)
    return apply_inplace(self, lambda s: cumsum(s, dim, dtype=dtype))


def cumprod_(self, dim, *, dtype=None):
    _same_dtype(self, dtype)
    return apply_inplace(self, lambda s: cumprod(s, dim, dtype=dtype))
