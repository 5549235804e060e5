"""Reductions: sum, mean, var, std, prod, amax/amin, max/min, argmax/argmin, norm, logsumexp."""

import math
import warnings

import numpy as np

from .. import dtypes, return_types
from ..backend import Implementation
from ..tensor import Tensor, make_tensor, wrap_dim
from . import total_kernels
from .convert import cast
from .elementwise import maximum, minimum
from .op import Op, compute, xp_of


def normalize_dims(dim, ndim):
    """``dim`` (None, int or sequence, negative allowed) as a sorted tuple of axes, or None for all."""
    if dim is None:
        return None
    if dim.__class__ is int:
        return (wrap_dim(dim, ndim),)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if not dims:
        return None
    out = []
    for d in dims:
        d = wrap_dim(d, ndim)
        if d in out:
            raise RuntimeError(f"dim {d} appears multiple times in the list of dims")
        out.append(d)
    return tuple(sorted(out))


def _axis(dims, ndim):
    return None if dims is None or ndim == 0 else dims


def expand_grad(g, in_shape, dims, keepdim):
    """Broadcast a reduced gradient back over the input's shape."""
    if dims is not None and not keepdim and len(in_shape):
        g = g.reshape([1 if i in dims else s for i, s in enumerate(in_shape)])
    return xp_of(g).broadcast_to(g, in_shape)


def constant(array, like):
    """``array`` (a mask, weights, signs) as a tensor without a graph on the device of tensor ``like``, to
    multiply into gradient tensors in a double backward: tensor operators take NumPy arrays but not CuPy's."""
    return make_tensor(array, like._device)


def expand_grad_graph(g, in_shape, dims, keepdim):
    """``expand_grad`` for gradient tensors in a double backward."""
    if dims is not None and not keepdim and len(in_shape):
        g = g.reshape([1 if i in dims else s for i, s in enumerate(in_shape)])
    return g.expand(in_shape)


class _ArrayReduce(Implementation):
    """NumPy's or CuPy's own reductions."""

    @staticmethod
    def sum(x, dims, keepdim):
        return x.sum(axis=_axis(dims, x.ndim), keepdims=keepdim)

    @staticmethod
    def mean(x, dims, keepdim, count):
        return x.mean(axis=_axis(dims, x.ndim), keepdims=keepdim)


class _CompiledTotal(Implementation):
    """``compiled``: all values of a large contiguous host float array at once (``total_kernels``)."""

    name = "compiled"

    @staticmethod
    def applies(x, dims=None, keepdim=False):
        return (dims is None or len(dims) == x.ndim) and total_kernels.applies(x)  # (dims: sorted, no repeats)

    @staticmethod
    def sum(x, dims, keepdim):
        return _scalar(total_kernels.total(x), x, keepdim)

    @staticmethod
    def mean(x, dims, keepdim, count):
        return _scalar(total_kernels.total(x) / count, x, keepdim)


def _scalar(value, x, keepdim):
    """A full reduction's ``value`` as the array NumPy would give: 0-d, or of ``x``'s rank with ``keepdim``."""
    out = np.asarray(value, dtype=x.dtype)
    return out.reshape((1,) * x.ndim) if keepdim else out


class Sum(Op):
    __slots__ = ("dims", "keepdim", "shape")
    _name = "SumBackward0"
    saves_tensors = False
    implementations = (_CompiledTotal, _ArrayReduce)

    def forward(self, x, dims=None, keepdim=False):
        self.shape, self.dims, self.keepdim = x.shape, dims, keepdim
        return self._impl.sum(x, dims, keepdim)

    def backward(self, g):
        return (expand_grad(g, self.shape, self.dims, self.keepdim),)

    def backward_graph(self, g):
        return (expand_grad_graph(g, self.shape, self.dims, self.keepdim),)


class SumDim(Sum):
    __slots__ = ()
    _name = "SumBackward1"


class Mean(Op):
    __slots__ = ("count", "dims", "keepdim", "shape")
    _name = "MeanBackward0"
    saves_tensors = False
    implementations = (_CompiledTotal, _ArrayReduce)

    def forward(self, x, dims=None, keepdim=False):
        self.shape, self.dims, self.keepdim = x.shape, dims, keepdim
        axis = _axis(dims, x.ndim)
        self.count = x.size if axis is None else math.prod(x.shape[d] for d in axis)
        if self.count == 0:  # nan, silently, as in PyTorch
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                return x.mean(axis=axis, keepdims=keepdim)
        return self._impl.mean(x, dims, keepdim, self.count)

    def backward(self, g):
        return (expand_grad(g / self.count, self.shape, self.dims, self.keepdim),)

    def backward_graph(self, g):
        return (expand_grad_graph(g / self.count, self.shape, self.dims, self.keepdim),)


class MeanDim(Mean):
    __slots__ = ()
    _name = "MeanBackward1"


def _int_to_long(t):
    return cast(t, dtypes.int64) if t._data.dtype.kind in "biu" else t


def sum(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtypes.to_dtype(dtype)) if dtype is not None else _int_to_long(input)
    dims = normalize_dims(dim, x._data.ndim)
    return (Sum if dims is None else SumDim).apply(x, dims=dims, keepdim=keepdim)


def _float_only(name, input, dtype):
    if dtype is not None:
        return cast(input, dtypes.to_dtype(dtype))
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(
            f"{name}(): could not infer output dtype. Input dtype must be either a floating point or "
            f"complex dtype. Got: {dtypes.legacy_name(input._data.dtype)}"
        )
    return input


def mean(input, dim=None, keepdim=False, *, dtype=None):
    x = _float_only("mean", input, dtype)
    dims = normalize_dims(dim, x._data.ndim)
    return (Mean if dims is None else MeanDim).apply(x, dims=dims, keepdim=keepdim)


class Var(Op):
    __slots__ = ("centered", "dims", "divisor", "keepdim", "x")
    _name = "VarBackward0"
    saves = 1

    def forward(self, x, dims=None, correction=1, keepdim=False):
        axis = _axis(dims, x.ndim)
        n = x.size if axis is None else math.prod(x.shape[d] for d in axis)
        self.x, self.dims, self.keepdim = x, dims, keepdim
        self.divisor = n - correction if n > correction else 0
        if not self.divisor:
            warnings.warn(f"{self._name[:3].lower()}(): degrees of freedom is <= 0. Correction should be strictly "
                          "less than the reduction factor (input numel divided by output numel).", UserWarning,
                          stacklevel=4)
        self.centered = x - x.mean(axis=axis, keepdims=True)
        ss = (self.centered * self.centered).sum(axis=axis, keepdims=keepdim)
        return ss / self.divisor if self.divisor else ss * x.dtype.type(np.nan)

    def backward(self, g):
        c = self.centered
        g = expand_grad(g, c.shape, self.dims, self.keepdim)
        return (g * c * (2 / self.divisor) if self.divisor else g * c * np.nan,)

    def _centered_graph(self):
        x = self.saved_input(0, self.x)
        return x - x.mean(self.dims, keepdim=True)

    def backward_graph(self, g):
        g = expand_grad_graph(g, self.x.shape, self.dims, self.keepdim) * self._centered_graph()
        return (g * (2 / self.divisor) if self.divisor else g * np.nan,)


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    return 1 if unbiased in (None, True) else 0


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    x = _float_only("var", input, None)
    return Var.apply(x, dims=normalize_dims(dim, x._data.ndim), correction=_correction(unbiased, correction),
                     keepdim=keepdim)


class Std(Var):
    __slots__ = ("out",)
    _name = "StdBackward0"
    saves = 3

    def forward(self, x, dims=None, correction=1, keepdim=False):
        self.out = xp_of(x).sqrt(Var.forward(self, x, dims=dims, correction=correction, keepdim=keepdim))
        return self.out

    def backward(self, g):
        c, out = self.centered, self.out
        xp = xp_of(g)
        g = expand_grad(g / xp.where(out == 0, 1, out), c.shape, self.dims, self.keepdim)
        zero = expand_grad(out == 0, c.shape, self.dims, self.keepdim)
        if not self.divisor:
            return (g * c * np.nan,)
        return (xp.where(zero, 0, g * c / self.divisor),)

    def backward_graph(self, g):
        c = self._centered_graph()
        if not self.divisor:
            return (expand_grad_graph(g, c.shape, self.dims, self.keepdim) * c * np.nan,)
        zero = (self.out == 0).astype(self.out.dtype)
        g = g / (self.saved_output(self.out) + constant(zero, g))
        keep = constant(expand_grad(1 - zero, c.shape, self.dims, self.keepdim) / self.divisor, g)
        return (expand_grad_graph(g, c.shape, self.dims, self.keepdim) * c * keep,)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    x = _float_only("std", input, None)
    return Std.apply(x, dims=normalize_dims(dim, x._data.ndim), correction=_correction(unbiased, correction),
                     keepdim=keepdim)


def _with_mean(name, spread, input, dim, unbiased, keepdim, correction):
    """``(spread(input), mean(input))`` over the same dims; a bool in ``dim``'s place is ``unbiased``."""
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"{name} only support floating point and complex dtypes")
    return spread(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _with_mean("var_mean", var, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _with_mean("std_mean", std, input, dim, unbiased, keepdim, correction)


class Prod(Op):
    __slots__ = ("axis", "keepdim", "x")
    _name = "ProdBackward0"
    saves = 1

    def forward(self, x, axis=None, keepdim=False):
        self.x, self.axis, self.keepdim = x, axis, keepdim
        return x.prod(axis=axis, keepdims=keepdim)

    def backward(self, g):
        x, axis = self.x, self.axis
        xp = xp_of(x)
        # The product of all other elements: exclusive cumulative products from both sides (zeros-safe).
        moved = x.reshape(-1) if axis is None else xp.moveaxis(x, axis, -1)
        ones = xp.ones((*moved.shape[:-1], 1), dtype=x.dtype)
        left = xp.concatenate([ones, xp.cumprod(moved, axis=-1)[..., :-1]], axis=-1)
        right = xp.flip(xp.cumprod(xp.flip(moved, -1), axis=-1), -1)
        right = xp.concatenate([right[..., 1:], ones], axis=-1)
        others = left * right
        if axis is None:
            return ((g.reshape(()) * others).reshape(x.shape),)
        gk = g if self.keepdim else xp.expand_dims(g, axis)
        return (xp.moveaxis(others, -1, axis) * gk,)

    def backward_graph(self, g):
        x, axis = self.saved_input(0, self.x), self.axis
        if not x.ndim:
            return (g,)
        lines = x.reshape(-1) if axis is None else x.movedim(axis, -1)
        others = _exclusive_cumprod(lines) * _exclusive_cumprod(lines.flip(-1)).flip(-1)
        if axis is None:
            return ((g.reshape(()) * others).reshape(x.shape),)
        return (others.movedim(-1, axis) * (g if self.keepdim else g.unsqueeze(axis)),)


def _exclusive_cumprod(lines):
    """The products of the elements before each one along the last axis, in tensor ops (exact with zeros)."""
    n = lines.shape[-1]
    xp = xp_of(lines._data)
    if n < 2:
        return constant(xp.ones(lines.shape, dtype=lines._data.dtype), lines)
    first = xp.zeros(n, dtype=lines._data.dtype)
    first[0] = 1
    shifted = lines[..., np.maximum(np.arange(n) - 1, 0)] * constant(1 - first, lines) + constant(first, lines)
    return shifted.cumprod(-1)


def prod(input, dim=None, keepdim=False, *, dtype=None):
    x = cast(input, dtypes.to_dtype(dtype)) if dtype is not None else _int_to_long(input)
    axis = None if dim is None else normalize_dims(dim, x._data.ndim)[0]
    if x._data.ndim == 0:
        axis = None
    return Prod.apply(x, axis=axis, keepdim=keepdim and axis is not None)


class _Extreme(Op):
    """amax/amin and full max/min: the gradient is shared evenly between tied extremes."""

    __slots__ = ("dims", "keepdim", "mask")
    nan_takes_grad = False  # max()/min() send a NaN's gradient to it; amax/amin give NaN, as in PyTorch

    def forward(self, x, dims=None, keepdim=False):
        if x.size == 0 and dims is None:
            raise RuntimeError(f"{self.op_name}(): Expected reduction dim to be specified for input.numel() "
                               "== 0. Specify the reduction dim with the 'dim' argument.")
        axis = _axis(dims, x.ndim)
        if axis is not None:
            for d in axis:
                if x.shape[d] == 0:
                    raise IndexError(f"{self.op_name}(): Expected reduction dim {d} to have non-zero size.")
        xp = xp_of(x)
        y = (x.max if self.is_max else x.min)(axis=axis, keepdims=True)
        mask = (x == y)
        if self.nan_takes_grad and x.dtype.kind in dtypes.FLOAT_KINDS:
            mask |= xp.isnan(x) & xp.isnan(y)
        mask = mask.astype(x.dtype)
        self.mask = mask / mask.sum(axis=axis, keepdims=True)
        self.dims, self.keepdim = dims, keepdim
        return y if keepdim else y.reshape([s for i, s in enumerate(x.shape)
                                            if axis is not None and i not in axis])

    def backward(self, g):
        return (expand_grad(g, self.mask.shape, self.dims, self.keepdim) * self.mask,)

    def backward_graph(self, g):
        return (expand_grad_graph(g, self.mask.shape, self.dims, self.keepdim) * constant(self.mask, g),)


class Amax(_Extreme):
    __slots__ = ()
    _name = "AmaxBackward0"
    is_max, op_name = True, "amax"


class Amin(_Extreme):
    __slots__ = ()
    _name = "AminBackward0"
    is_max, op_name = False, "amin"


class MaxAll(_Extreme):
    __slots__ = ()
    _name = "MaxBackward1"
    is_max, op_name, nan_takes_grad = True, "max", True


class MinAll(_Extreme):
    __slots__ = ()
    _name = "MinBackward1"
    is_max, op_name, nan_takes_grad = False, "min", True


def amax(input, dim=(), keepdim=False):
    return Amax.apply(input, dims=normalize_dims(dim, input._data.ndim), keepdim=keepdim)


def amin(input, dim=(), keepdim=False):
    return Amin.apply(input, dims=normalize_dims(dim, input._data.ndim), keepdim=keepdim)


class MaxDim(Op):
    """max/min along one dim: values and indices; the gradient goes to the returned index."""

    __slots__ = ("axis", "indices", "keepdim", "shape")
    _name = "MaxBackward0"
    num_outputs = 2
    saves_tensors = False
    pick = "argmax"

    def forward(self, x, axis=0, keepdim=False):
        xp = xp_of(x)
        if x.ndim == 0:
            return x.copy(), xp.zeros((), dtype=np.int64)
        if x.shape[axis] == 0:
            raise IndexError(f"{self.pick[3:]}(): Expected reduction dim {axis} to have non-zero size.")
        idx = getattr(x, self.pick)(axis=axis, keepdims=True)
        values = xp.take_along_axis(x, idx, axis=axis)
        self.axis, self.keepdim, self.shape, self.indices = axis, keepdim, x.shape, idx
        if not keepdim:
            values = values.squeeze(axis)
            idx = idx.squeeze(axis)
        return values, idx.astype(np.int64)

    def backward(self, g, g_idx=None):
        xp = xp_of(g)
        if len(self.shape) == 0:
            return (g,)
        out = xp.zeros(self.shape, dtype=g.dtype)
        gk = g if self.keepdim else xp.expand_dims(g, self.axis)
        xp.put_along_axis(out, self.indices, gk, axis=self.axis)
        return (out,)

    def backward_graph(self, g, g_idx=None):
        if len(self.shape) == 0:
            return (g,)
        picked = xp_of(self.indices).zeros(self.shape, dtype=g._data.dtype)
        xp_of(picked).put_along_axis(picked, self.indices, 1, axis=self.axis)
        gk = g if self.keepdim else g.unsqueeze(self.axis)
        return (gk.expand(self.shape) * constant(picked, g),)


class MinDim(MaxDim):
    __slots__ = ()
    _name = "MinBackward0"
    pick = "argmin"


def _max_min(full_op, dim_op, binary, result, input, dim, keepdim):
    if isinstance(dim, Tensor):
        return binary(input, dim)
    if dim is None:
        return full_op.apply(input, dims=None, keepdim=False)
    axis = normalize_dims(dim, input._data.ndim)[0]
    values, indices = dim_op.apply(input, axis=axis, keepdim=keepdim)
    return result(values, indices)


def max(input, dim=None, keepdim=False):
    return _max_min(MaxAll, MaxDim, maximum, return_types.max, input, dim, keepdim)


def min(input, dim=None, keepdim=False):
    return _max_min(MinAll, MinDim, minimum, return_types.min, input, dim, keepdim)


def _arg(name, input, dim, keepdim):
    def pick(x):
        if dim is None:
            out = xp_of(x).asarray(getattr(x.reshape(-1), name)()).astype(np.int64)
            return out.reshape([1] * x.ndim) if keepdim else out
        axis = normalize_dims(dim, x.ndim)[0]
        if x.ndim == 0:
            return xp_of(x).zeros((), dtype=np.int64)
        return getattr(x, name)(axis=axis, keepdims=keepdim).astype(np.int64)

    return compute(pick, input)


def argmax(input, dim=None, keepdim=False):
    return _arg("argmax", input, dim, keepdim)


def argmin(input, dim=None, keepdim=False):
    return _arg("argmin", input, dim, keepdim)


_SQUARES_BLOCK = 2048


def _sum_of_squares(xp, x, axis, keepdim):
    """``(x * x).sum(axis)``, in one pass without a squared copy for a whole-array sum (axis None or every axis)."""
    whole = axis is None or (isinstance(axis, tuple) and len(axis) == x.ndim)
    if whole and x.dtype.kind == "f" and x.size:
        total = _flat_sum_of_squares(xp, x.reshape(-1))
        return total.reshape((1,) * x.ndim) if keepdim else total
    return (x * x).sum(axis=axis, keepdims=keepdim)


def _flat_sum_of_squares(xp, flat):
    """Blocks of 2048 squared and summed by einsum, the block sums added in float64: faster than a BLAS dot, whose
    one running sum loses digits over a million elements, and as exact as pairwise summation."""
    m = flat.size // _SQUARES_BLOCK * _SQUARES_BLOCK
    if m == 0 or flat.dtype.itemsize < 4:
        return xp.dot(flat, flat)
    head = flat[:m].reshape(-1, _SQUARES_BLOCK)
    total = xp.einsum("ij,ij->i", head, head).sum(dtype=xp.float64)
    if m < flat.size:
        tail = flat[m:]
        total = total + xp.dot(tail, tail)
    return total.astype(flat.dtype)


class Norm(Op):
    __slots__ = ("dims", "keepdim", "out", "p", "x")
    _name = "NormBackward1"
    saves = 3

    def forward(self, x, p=2.0, dims=None, keepdim=False):
        xp = xp_of(x)
        axis = _axis(dims, x.ndim)
        self.x, self.p, self.dims, self.keepdim = x, p, dims, keepdim
        if p == 2:
            self.out = out = xp.sqrt(_sum_of_squares(xp, x, axis, keepdim))
            return out
        a = xp.abs(x)
        if p == 1:
            out = a.sum(axis=axis, keepdims=keepdim)
        elif p == math.inf:
            out = a.max(axis=axis, keepdims=keepdim)
        elif p == -math.inf:
            out = a.min(axis=axis, keepdims=keepdim)
        elif p == 0:
            out = (x != 0).sum(axis=axis, keepdims=keepdim).astype(x.dtype)
        else:
            out = (a ** p).sum(axis=axis, keepdims=keepdim) ** (1.0 / p)
        self.out = out
        return out

    def backward(self, g):
        x, p, out = self.x, self.p, self.out
        xp = xp_of(x)
        if p == 2 and out.size == 1:  # one norm of everything: x times one scale, a single pass
            o = out.reshape(())
            scale = xp.where(o == 0, 0, g.reshape(()) / xp.where(o == 0, 1, o))
            return (x * scale.astype(x.dtype),)
        g = expand_grad(g, x.shape, self.dims, self.keepdim)
        o = expand_grad(out, x.shape, self.dims, self.keepdim)
        if p == 2:
            safe = xp.where(o == 0, 1, o)
            return (xp.where(o == 0, 0, g * x / safe),)
        if p == 1:
            return (g * xp.sign(x),)
        if p in (math.inf, -math.inf):
            return (g * xp.sign(x) * self._tied(),)
        if p == 0:
            return (g * 0,)
        safe = xp.where(o == 0, 1, o)
        return (xp.where(o == 0, 0, g * xp.sign(x) * xp.abs(x) ** (p - 1) / safe ** (p - 1)),)

    def backward_graph(self, g):
        x, p, out = self.x, self.p, self.out
        xp = xp_of(x)
        g = expand_grad_graph(g, x.shape, self.dims, self.keepdim)
        if p == 0:
            return (g * 0,)
        xs = self.saved_input(0, x)
        if p == 1:
            return (g * xs.sign(),)  # sign(x) in the graph (zero derivative), as PyTorch has it
        if p in (math.inf, -math.inf):
            return (g * xs.sign() * constant(self._tied(), g),)
        zero = (out == 0).astype(x.dtype)
        o = expand_grad_graph(self.saved_output(out) + constant(zero, g), x.shape, self.dims, self.keepdim)
        keep = constant(expand_grad(1 - zero, x.shape, self.dims, self.keepdim), g)
        if p == 2:
            return (g * xs / o * keep,)
        return (g * constant(xp.sign(x), g) * xs.abs() ** (p - 1) / o ** (p - 1) * keep,)


    def _tied(self):
        """For p=±inf: the gradient's even shares between the elements whose magnitude is the norm."""
        x = self.x
        mask = (xp_of(x).abs(x) == expand_grad(self.out, x.shape, self.dims, self.keepdim)).astype(x.dtype)
        count = mask.sum(axis=_axis(self.dims, x.ndim), keepdims=self.keepdim)
        return mask / expand_grad(count, x.shape, self.dims, self.keepdim)


def norm(input, p="fro", dim=None, keepdim=False, dtype=None):
    x = _float_only("linalg.vector_norm", input, dtype)
    if p in ("fro", None):
        p = 2.0
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    return Norm.apply(x, p=float(p), dims=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


class LogSumExp(Op):
    __slots__ = ("dims", "keepdim", "out", "x")
    _name = "LogsumexpBackward0"
    saves = 3

    def forward(self, x, dims=None, keepdim=False):
        xp = xp_of(x)
        axis = _axis(dims, x.ndim)
        m = x.max(axis=axis, keepdims=True)
        m = xp.where(xp.isfinite(m), m, 0)
        s = xp.log(xp.exp(x - m).sum(axis=axis, keepdims=True)) + m
        self.x, self.dims, self.keepdim = x, dims, keepdim
        self.out = s
        if keepdim:
            return s
        return s.reshape([n for i, n in enumerate(x.shape) if axis is not None and i not in axis])

    def backward(self, g):
        x = self.x
        g = expand_grad(g, x.shape, self.dims, self.keepdim)
        return (g * xp_of(x).exp(x - self.out),)

    def backward_graph(self, g):
        x = self.saved_input(0, self.x)
        out = self.saved_output(self.out if self.keepdim else self.out.reshape(g.shape))
        g, out = (expand_grad_graph(t, x.shape, self.dims, self.keepdim) for t in (g, out))
        return (g * (x - out).exp(),)


def logsumexp(input, dim, keepdim=False):
    x = input if input._data.dtype.kind in dtypes.FLOAT_KINDS else cast(input, dtypes.get_default_dtype())
    return LogSumExp.apply(x, dims=normalize_dims(dim, x._data.ndim), keepdim=keepdim)


def count_nonzero(input, dim=None):
    dims = normalize_dims(dim, input._data.ndim)
    return compute(lambda x: xp_of(x).asarray((x != 0).sum(axis=_axis(dims, x.ndim))).astype(np.int64), input)


def all(input, dim=None, keepdim=False):
    return compute(lambda x: xp_of(x).asarray(x.all(axis=dim, keepdims=keepdim)), input)


def any(input, dim=None, keepdim=False):
    return compute(lambda x: xp_of(x).asarray(x.any(axis=dim, keepdims=keepdim)), input)
