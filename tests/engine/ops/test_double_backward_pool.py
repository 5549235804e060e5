"""Double backward of pooling and padding beyond the op table: max pooling's generic implementation (the table
runs float64, where the compiled kernel takes the call), and the third derivatives of the gradient maps
(``LinearMap``: each one's backward is the other)."""

from __future__ import annotations

import numpy as np
import pytest
from optest import run_double_backward

import engine
from engine import backend
from engine.ops import pool

F = engine.nn.functional

_MAX_CASES = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": 3, "stride": 2, "dilation": 2, "ceil_mode": True},
]


@pytest.mark.parametrize("kwargs", _MAX_CASES)
def test_max_pool_generic_double_backward(kwargs):
    x = np.random.default_rng(0).standard_normal((2, 2, 7, 8))
    with backend.prefer("generic"):
        y = F.max_pool2d(engine.tensor(x, requires_grad=True), **kwargs)
        assert y.grad_fn._impl.name == "generic"
        run_double_backward(lambda m, t: m.nn.functional.max_pool2d(t, **kwargs), [x], [True])


_MAPS = {
    "max_pool2d": lambda x: F.max_pool2d(x, 3, 1, 1),
    "adaptive_max_pool2d": lambda x: pool.adaptive_max_pool2d(x, (3, 4)),
    "avg_pool2d": lambda x: F.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
    "adaptive_avg_pool2d": lambda x: F.adaptive_avg_pool2d(x, (4, 3)),
    "pad-reflect": lambda x: F.pad(x, (2, 1, 1, 3), mode="reflect"),
    "pad-circular": lambda x: F.pad(x, (2, 1, 1, 3), mode="circular"),
    "pad-constant": lambda x: F.pad(x, (2, -1, 1, 3)),
}


@pytest.mark.parametrize("name", list(_MAPS))
def test_gradient_map_third_derivatives(name):
    f = _MAPS[name]
    rng = np.random.default_rng(1)
    x = engine.tensor(rng.standard_normal((1, 2, 7, 6)), requires_grad=True)
    up = engine.tensor(rng.standard_normal(tuple(f(x).shape)), requires_grad=True)

    def first_derivatives(x, up):
        return engine.autograd.grad(f(x), x, up, create_graph=True)

    assert engine.autograd.gradgradcheck(first_derivatives, (x, up))
    # gradgradcheck checks the graph of the second derivatives, not their values: those against the array path
    (gx,) = first_derivatives(x, up)
    weight = engine.tensor(rng.standard_normal(tuple(gx.shape)), requires_grad=True)
    with_graph, plain = (engine.autograd.grad(gx, up, weight, retain_graph=True, create_graph=graph)[0]
                         for graph in (True, False))
    assert with_graph.requires_grad
    np.testing.assert_allclose(with_graph.detach().numpy(), plain.numpy(), atol=1e-12, rtol=1e-12)


@pytest.mark.parametrize("impl", ["compiled", "generic"])
@pytest.mark.parametrize("kwargs", [{"kernel_size": 2}, {"kernel_size": 3, "stride": 1, "padding": 1}])
def test_max_pool_ties_with_graph(impl, kwargs):
    """With ties, create_graph's first derivatives route each window's gradient to its first maximum too."""
    rng = np.random.default_rng(2)
    x = engine.tensor(rng.integers(0, 3, size=(2, 2, 6, 7)).astype(np.float64), requires_grad=True)
    with backend.prefer(impl):
        y = F.max_pool2d(x, **kwargs)
    up = engine.tensor(rng.standard_normal(tuple(y.shape)))
    with_graph, plain = (engine.autograd.grad(y, x, up, retain_graph=True, create_graph=graph)[0]
                         for graph in (True, False))
    np.testing.assert_allclose(with_graph.detach().numpy(), plain.numpy(), atol=1e-12, rtol=1e-12)
