"""Double backward of conv2d on each implementation in float32 (the op table's gradgradcheck runs in float64,
where the compiled kernels do not apply): one direction compared with torch's double backward."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import backend

torch = pytest.importorskip("torch")


def _second_derivatives(m, arrays, kwargs):
    """The gradients of ``sum(first derivatives * fixed weights)`` w.r.t. x, w and the upstream gradient."""
    x, w, b, up, rx, rw = (m.tensor(a, requires_grad=k < 4) for k, a in enumerate(arrays))
    y = m.nn.functional.conv2d(x, w, b, **kwargs)
    gx, gw, _ = m.autograd.grad(y, (x, w, b), up, create_graph=True)
    total = (gx * rx).sum() + (gw * rw).sum()
    return [t.detach().numpy() for t in m.autograd.grad(total, (x, w, up))]


@pytest.mark.parametrize("impl", ["compiled", "wide", "generic"])
@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": (1, 2), "dilation": (2, 1)}, {"groups": 2}])
def test_conv2d_double_backward_float32(impl, kwargs):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s) for s in [(2, 4, 7, 8), (6, 4 // kwargs.get("groups", 1), 3, 3), (6,)])
    with engine.no_grad():
        y_shape = tuple(engine.nn.functional.conv2d(engine.tensor(x), engine.tensor(w), **kwargs).shape)
    arrays = [a.astype(np.float32) for a in (x, w, b, rng.standard_normal(y_shape), rng.standard_normal(x.shape),
                                             rng.standard_normal(w.shape))]
    with backend.prefer(impl):
        ours = _second_derivatives(engine, arrays, kwargs)
    theirs = _second_derivatives(torch, arrays, kwargs)
    for name, a, t in zip(("x", "w", "upstream"), ours, theirs):
        assert a.dtype == np.float32, name
        np.testing.assert_allclose(a, t, atol=2e-4, rtol=2e-4, err_msg=name)


@pytest.mark.parametrize("kwargs", [{"padding": 1}, {"stride": 2, "groups": 2}])
def test_conv2d_third_derivatives(kwargs):
    """The double-backward ops differentiate again (float64)."""
    rng = np.random.default_rng(1)
    x = engine.tensor(rng.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = engine.tensor(rng.standard_normal((2, 2 // kwargs.get("groups", 1), 3, 3)), requires_grad=True)
    up = engine.tensor(rng.standard_normal(tuple(engine.nn.functional.conv2d(x, w, **kwargs).shape)),
                       requires_grad=True)

    def first_derivatives(x, w, up):
        y = engine.nn.functional.conv2d(x, w, **kwargs)
        return engine.autograd.grad(y, (x, w), up, create_graph=True)

    assert engine.autograd.gradgradcheck(first_derivatives, (x, w, up))
    # gradgradcheck checks the graph of the second derivatives, not their values: those against the array path
    firsts = first_derivatives(x, w, up)
    weights = [engine.tensor(rng.standard_normal(tuple(g.shape))) for g in firsts]
    seconds = [engine.autograd.grad(firsts, (x, w, up), weights, retain_graph=True, create_graph=graph)
               for graph in (True, False)]
    for a, b in zip(*seconds):
        np.testing.assert_allclose(a.detach().numpy(), b.numpy(), atol=1e-12, rtol=1e-12)


def test_gradient_penalty_matches_torch():
    """A gradient penalty through conv, pad, pooling and linear: the weights' gradients of ``|d out / d x|^2``."""
    rng = np.random.default_rng(2)
    arrays = [rng.standard_normal(s) for s in [(2, 3, 8, 8), (4, 3, 3, 3), (4,), (5, 16), (5,)]]

    def weight_grads(m):
        x, w, b, lw, lb = (m.tensor(a, requires_grad=True) for a in arrays)
        F = m.nn.functional
        h = F.avg_pool2d(F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), w, b, stride=2).tanh(), 2)
        out = F.linear(F.max_pool2d(h, 1).reshape(2, -1), lw, lb)
        (gx,) = m.autograd.grad(out.sum(), x, create_graph=True)
        return [g.detach().numpy() for g in m.autograd.grad((gx * gx).sum(), (w, b, lw))]

    for ours, theirs in zip(weight_grads(engine), weight_grads(torch)):
        np.testing.assert_allclose(ours, theirs, atol=1e-10, rtol=1e-8)
