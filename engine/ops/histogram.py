"""Counting into bins: bincount and histc (neither is differentiable)."""

import math

import numpy as np

from .. import dtypes
from ..backend import CPU, Implementation, choose
from ..tensor import Tensor, make_tensor
from . import jit
from .histogram_kernels import bin_counts
from .op import compute, xp_of


def _bincount(x, w=None, minlength=0):
    """``xp.bincount``, whose own pass over ``x`` refuses a negative value (the caller has checked the rest)."""
    xp = xp_of(x)
    try:
        if w is None:
            return xp.bincount(x, minlength=minlength).astype(np.int64, copy=False)
        out_dtype = w.dtype if w.dtype.kind == "f" else np.float64
        return xp.bincount(x, weights=w.astype(np.float64), minlength=minlength).astype(out_dtype, copy=False)
    except ValueError:
        raise RuntimeError(_NOT_1D_NON_NEGATIVE) from None


_NOT_1D_NON_NEGATIVE = "bincount only supports 1-d non-negative integral inputs."


def bincount(input, weights=None, minlength=0):
    data = input._data
    if data.dtype.kind not in "iu":
        raise NotImplementedError(f'"bincount_cpu" not implemented for \'{dtypes.legacy_name(data.dtype)}\'')
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if data.ndim != 1:
        raise RuntimeError(_NOT_1D_NON_NEGATIVE)
    if weights is None:
        if input._device is CPU:  # no device to enter: ``compute``'s checks are a fifth of the call at 1e3
            return make_tensor(_bincount(data, minlength=minlength))
        return compute(_bincount, input, minlength=minlength)
    if not isinstance(weights, Tensor) or weights._data.shape != data.shape:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    return compute(_bincount, input, weights, minlength=minlength)


def _histc(x, bins, lo, hi):
    """PyTorch's histc: ``bins`` equal bins over [lo, hi] (the data's range when both are equal), the
    last bin closed; values outside and NaNs are left out; a value on an edge goes to the bin above it."""
    xp = xp_of(x)
    if lo == hi and x.size:
        lo, hi = float(x.min()), float(x.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{_edge(lo)}, {_edge(hi)}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    edges = _edges(xp, lo, hi, bins).astype(x.dtype)
    flat = x.reshape(-1)
    return choose(_COUNTERS, [flat], {}).count(flat, edges, bins).astype(x.dtype)


def _edges(xp, lo, hi, bins):
    """``xp.linspace(lo, hi, bins + 1)`` (float64), NumPy's arithmetic written out: its Python-level wrapper
    costs more than the counting at 1e3 elements."""
    delta = hi - lo
    step = delta / bins
    edges = xp.arange(bins + 1, dtype=np.float64)
    if step == 0:  # a range too small for its bins: as linspace, scale by the range after dividing
        edges /= bins
        edges *= delta
    else:
        edges *= step
    edges += lo
    edges[-1] = hi
    return edges


class _Bins(Implementation):
    """Counts by whole-array passes, on any device."""

    name = "generic"

    @staticmethod
    def count(flat, edges, bins):
        xp = xp_of(flat)
        first, last = edges[0], edges[-1]
        inside = (flat >= first) & (flat <= last)
        v = xp.where(inside, flat, first)
        # PyTorch's linear estimate of the bin, then one step either way to agree with the edges exactly.
        pos = xp.minimum(((v - first) * bins / (last - first)).astype(np.int64), bins - 1)
        pos -= v < edges[pos]
        pos += (pos < bins - 1) & (v >= edges[pos + 1])
        return xp.bincount(xp.where(inside, pos, bins), minlength=bins + 1)[:bins]


class _CompiledBins(_Bins):
    """The same bins in one compiled pass (float CPU arrays, with numba)."""

    name = "numba"
    count = staticmethod(bin_counts)

    @staticmethod
    def applies(flat, **options):
        return jit.takes_floats(flat)


_COUNTERS = (_CompiledBins, _Bins)


def _edge(v):
    return "-nan" if math.isnan(v) else f"{v:g}"


def histc(input, bins=100, min=0, max=0):
    if input._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise NotImplementedError(
            f'"histogram_cpu" not implemented for \'{dtypes.legacy_name(input._data.dtype)}\'')
    if bins <= 0:
        raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
    return compute(_histc, input, bins=bins, lo=float(min), hi=float(max))
