"""Random sampling from tensors of parameters: ``multinomial``, ``bernoulli``, ``poisson``, ``normal``, and the
in-place fills ``exponential_``, ``bernoulli_``, ``geometric_``, ``log_normal_``, ``cauchy_`` and ``random_``.

Draws come from ``engine.random``'s generators, so ``manual_seed`` reproduces them. As in PyTorch, a draw
from parameters that require grad requires grad too, with a zero gradient (reparameterised sampling lives in
``engine.distributions``).
"""

import math

import ml_dtypes
import numpy as np

from .. import creation, dtypes
from ..autograd.grad_mode import state as _grad_state
from ..random import exponential_array, integers_array, normal_array, poisson_array, uniform_array
from ..tensor import Tensor, make_tensor
from .inplace import _fill_random
from .op import Op, xp_of

_UNSET = object()


class _Draw(Op):
    """Passes a sample through the graph; its parameters get zero gradients, as PyTorch's do."""

    __slots__ = ("shapes",)
    _name = "NormalBackward0"
    saves_tensors = False

    def forward(self, *params, sample=None):
        self.shapes = [p.shape for p in params]
        return sample

    def backward(self, g):
        xp = xp_of(g)
        return tuple(xp.zeros(s, g.dtype) for s in self.shapes)


class _BernoulliDraw(_Draw):
    __slots__ = ()
    _name = "BernoulliBackward0"


class _PoissonDraw(_Draw):
    __slots__ = ()
    _name = "PoissonBackward0"


def _floating(t, name):
    if t._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise NotImplementedError(f'"{name}" not implemented for \'{dtypes.legacy_name(t._data.dtype)}\'')


def _draw_like(op, input, sample):
    return op.apply(input, sample=sample.astype(input._data.dtype, copy=False))


def multinomial(input, num_samples, replacement=False, *, generator=None):
    """Indices drawn from the rows of ``input`` (unnormalised, non-negative weights)."""
    p = input._data
    if p.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(
            f"multinomial only supports floating-point dtypes for input, got: {dtypes.legacy_name(p.dtype)}")
    if p.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if num_samples <= 0:
        raise RuntimeError("cannot sample n_sample <= 0 samples")
    if not replacement and num_samples > p.shape[-1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    xp = xp_of(p)
    rows = p.reshape(-1, p.shape[-1]).astype(np.float64)
    n, k = rows.shape
    if rows.size and (not bool(xp.isfinite(rows).all()) or bool((rows < 0).any())):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    if n and bool((rows.sum(-1) <= 0).any()):
        raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
    dev = input._device
    if replacement:
        # Inverse CDF, one searchsorted over all rows: row i's CDF is shifted into (i, i + 1].
        u = uniform_array((n, num_samples), 0.0, 1.0, dev, generator, np.float64)
        cdf = xp.cumsum(rows, axis=-1)
        cdf /= cdf[:, -1:]
        shift = xp.arange(n, dtype=np.float64)[:, None]
        flat = xp.searchsorted((cdf + shift).reshape(-1), (u + shift).reshape(-1), side="right")
        idx = flat.reshape(n, num_samples) - shift.astype(np.int64) * k
        idx = xp.minimum(idx, k - 1)
    else:
        # Efraimidis-Spirakis: the largest keys log(u) / w are a weighted draw without replacement.
        u = uniform_array((n, k), 0.0, 1.0, dev, generator, np.float64)
        keys = xp.log(u) / rows
        idx = xp.argsort(-keys, axis=-1)[:, :num_samples]
    out = idx.astype(np.int64, copy=False).reshape((*p.shape[:-1], num_samples))
    return make_tensor(out, dev)


def bernoulli(input, p=None, *, generator=None, out=None):
    """0/1 draws with probabilities ``input`` (or the float ``p``), in ``input``'s dtype."""
    if p is None:
        _floating(input, "bernoulli_tensor_cpu_p_")
        probs = input._data
        if probs.size and not bool(((probs >= 0) & (probs <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        _check_p("bernoulli_", p)
        probs = p
    u = uniform_array(input._data.shape, 0.0, 1.0, input._device, generator, _draw_dtype(input))
    result = _draw_like(_BernoulliDraw, input, u < probs)
    return result if out is None else out.copy_(result)


def poisson(input, generator=None):
    _floating(input, "poisson_cpu")
    rates = input._data
    if rates.size and not bool((rates >= 0).all()):
        raise RuntimeError("invalid Poisson rate, expected rate to be non-negative")
    return _draw_like(_PoissonDraw, input, poisson_array(rates, input._device, generator))


def normal(mean, std=1.0, size=None, *, generator=None, out=None, dtype=None, device=None):
    """All of PyTorch's overloads (see ``creation.normal``); tensor parameters get zero gradients."""
    result = creation.normal(mean, std, size, generator=generator, dtype=dtype, device=device)
    params = [t for t in (mean, std) if isinstance(t, Tensor) and t._requires_grad]
    if params and _grad_state.enabled:  # the node only carries zero gradients to parameters that want one
        result = _Draw.apply(*params, sample=result._data)
    return result if out is None else out.copy_(result)


def _draw_dtype(t):
    return t._data.dtype.type if t._data.dtype.kind in dtypes.FLOAT_KINDS else np.float64


def _check_p(name, p):
    if not 0 <= p <= 1:
        raise RuntimeError(f"{name} expects p to be in [0, 1], but got p={p:g}")


def _continuous(self, name):
    if self._data.dtype.kind not in dtypes.FLOAT_KINDS:
        raise RuntimeError(f"{name} distribution is a continuous probability distribution. dtype must be a "
                           f"floating point but you specified {dtypes.legacy_name(self._data.dtype)}")


def exponential_(self, lambd=1.0, *, generator=None):
    _continuous(self, "Exponential")
    if not lambd > 0:
        raise RuntimeError(f"exponential_ expects lambda > 0.0, but found lambda={lambd:g}")
    return _fill_random(self, exponential_array(self._data.shape, lambd, self._device, generator, _draw_dtype(self)))


def bernoulli_(self, p=0.5, *, generator=None):
    if isinstance(p, Tensor):
        probs = p._data
        if probs.size and not bool(((probs >= 0) & (probs <= 1)).all()):
            raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    else:
        _check_p("bernoulli_", p)
        probs = p
    u = uniform_array(self._data.shape, 0.0, 1.0, self._device, generator, np.float64)
    return _fill_random(self, u < probs)


def geometric_(self, p, *, generator=None):
    """Trials until the first success: ``ceil(log(1 - u) / log(1 - p))``, at least 1."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p:g}")
    xp = xp_of(self._data)
    u = uniform_array(self._data.shape, 0.0, 1.0, self._device, generator, np.float64)
    return _fill_random(self, xp.maximum(xp.ceil(xp.log1p(-u) / math.log1p(-p)), 1))


def log_normal_(self, mean=1.0, std=2.0, *, generator=None):
    _continuous(self, "LogNormal")
    if not std > 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std:g}")
    z = normal_array(self._data.shape, mean, std, self._device, generator, _draw_dtype(self))
    return _fill_random(self, xp_of(z).exp(z))


def cauchy_(self, median=0.0, sigma=1.0, *, generator=None):
    _continuous(self, "Cauchy")
    if not sigma > 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma:g}")
    u = uniform_array(self._data.shape, 0.0, 1.0, self._device, generator, _draw_dtype(self))
    return _fill_random(self, median + sigma * xp_of(u).tan(math.pi * (u - 0.5)))


def _random_top(np_dtype):
    """The largest value ``random_()`` draws: every integer the dtype holds exactly."""
    if np_dtype.kind in dtypes.FLOAT_KINDS:
        return 2 ** (ml_dtypes.finfo(np_dtype).nmant + 1)
    if np_dtype.kind == "b":
        return 1
    return int(np.iinfo(np_dtype).max)


def random_(self, from_=_UNSET, to=None, *, generator=None):
    """``random_()``: integers over the dtype's exact range; ``random_(to)``: [0, to); ``random_(from, to)``."""
    np_dtype = self._data.dtype
    if from_ is _UNSET:
        low, high, endpoint = 0, _random_top(np_dtype), True
    elif to is None:
        low, high, endpoint = 0, from_, False
    else:
        low, high, endpoint = from_, to, False
    if not endpoint and low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    data = integers_array(self._data.shape, low, high, self._device, generator, np.int64, endpoint=endpoint)
    return _fill_random(self, data)
