"""GELU's compiled kernels (engine/ops/gelu_kernels.py): float32's vectorised approximations against PyTorch and
against the exact function, special values, float64 to full precision, and the generic path they replace."""

import math

import numpy as np
import pytest
from optest import torch

import engine
from engine import backend
from engine.ops import activation, gelu_kernels, jit
from engine.threads import PARALLEL_MIN_SIZE

pytestmark = pytest.mark.skipif(jit.numba() is None, reason="numba is not installed")

APPROXIMATIONS = ["none", "tanh"]


def _exact(x, approximate):
    """GELU in float64 from math's erfc and exp, value by value (the tanh form as x sigmoid(2u), which is
    0.5 x (1 + tanh(u)) without its cancellation)."""
    if approximate == "tanh":
        k = math.sqrt(2 / math.pi)
        return np.array([v / (1 + math.exp(min(-2 * k * (v + 0.044715 * v ** 3), 700))) for v in x])
    return np.array([0.5 * v * math.erfc(-v / math.sqrt(2)) for v in x])


def _inputs(size, seed=0):
    x = np.random.default_rng(seed).standard_normal(size).astype(np.float32) * 4
    x[:8] = [0.0, -0.0, 1e-30, -1e-30, 8.0, -8.0, 30.0, -30.0]
    return x


@pytest.mark.parametrize("approximate", APPROXIMATIONS)
@pytest.mark.parametrize("size", [1000, 2 * PARALLEL_MIN_SIZE + 5], ids=["one-share", "threaded"])
def test_float32_matches_pytorch(approximate, size):
    """Output and input gradient of ``engine.nn.functional.gelu`` on the compiled path against PyTorch's in float32
    and in float64. Against float32 the tolerance allows PyTorch's own rounding: its ``1 + tanh(u)`` (and ``1 +
    erf``) cancels in the left tail, where it flushes gradients of a few 1e-6 to 0 that ours keeps."""
    x = _inputs(size)
    g = np.random.default_rng(1).standard_normal(size).astype(np.float32)
    assert backend.choose(activation.Gelu.implementations, [x], {"args": (approximate,)}).name == "compiled"
    results = []
    for m, dtype in ((engine, np.float32), (torch, np.float32), (torch, np.float64)):
        xt = m.tensor(x.astype(dtype), requires_grad=True)
        y = m.nn.functional.gelu(xt, approximate=approximate)
        y.backward(m.tensor(g.astype(dtype)))
        results.append((y.detach().numpy(), xt.grad.numpy()))
    ours, theirs, exact = results
    for a, b, c in zip(ours, theirs, exact, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(a, c, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_float32_error_against_the_exact_function(approximate):
    """Absolute error within 2e-7 per unit of |x| (the approximations' 1.5e-7 in erf and float32's rounding),
    and no cancellation in the left tail: GELU(-5) keeps its sign and size."""
    x = np.concatenate([np.linspace(-12, 12, 20001, dtype=np.float32), _inputs(8)[:8]])
    y = gelu_kernels.forward(x, approximate).astype(np.float64)
    exact = _exact(x.astype(np.float64), approximate)
    assert (np.abs(y - exact) <= 2e-7 * np.maximum(1, np.abs(x)) + 1e-37).all()
    tail = gelu_kernels.forward(np.array([-5.0], np.float32), approximate)[0]
    assert tail < 0 and abs(tail / _exact([-5.0], approximate)[0] - 1) < 0.05


@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_special_values(approximate):
    """inf passes, -inf and NaN give NaN, as 0.5 x (1 + erf(x / sqrt 2)) does; the gradient is NaN at all
    three; GELU(0) = 0, with slope 0.5."""
    x = np.array([np.inf, -np.inf, np.nan, 0.0], np.float32)
    y = gelu_kernels.forward(x, approximate)
    assert y[0] == np.inf and np.isnan(y[1]) and np.isnan(y[2]) and y[3] == 0
    gx = gelu_kernels.backward(np.ones_like(x), x, approximate)
    assert np.isnan(gx[:3]).all() and gx[3] == 0.5


@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_float64_to_full_precision(approximate):
    """float64 runs libm's erfc, exp: to the precision of the argument's rounding (erfc's tail magnifies it);
    gradcheck and gradgradcheck."""
    x = np.linspace(-9, 9, 1001)
    np.testing.assert_allclose(gelu_kernels.forward(x, approximate), _exact(x, approximate), rtol=1e-13,
                               atol=1e-300)
    xt = engine.tensor(np.random.default_rng(2).standard_normal(20) * 3, requires_grad=True)
    fn = lambda t: engine.nn.functional.gelu(t, approximate=approximate)  # noqa: E731
    assert engine.autograd.gradcheck(fn, (xt,))
    assert engine.autograd.gradgradcheck(fn, (xt,))


@pytest.mark.parametrize("approximate", APPROXIMATIONS)
def test_compiled_and_generic_paths_agree(approximate):
    """The kernels against the array code they replace (which runs on CuPy and for half types), both ways (that
    code's ``1 + tanh`` cancels as PyTorch's does)."""
    x = _inputs(5000, seed=3)
    g = np.random.default_rng(4).standard_normal(x.size).astype(np.float32)
    generic = activation._GenericGelu
    np.testing.assert_allclose(gelu_kernels.forward(x, approximate), generic.f(x, approximate), rtol=1e-5,
                               atol=1e-5)
    np.testing.assert_allclose(gelu_kernels.backward(g, x, approximate), generic.df(g, x, approximate),
                               rtol=1e-5, atol=1e-5)
