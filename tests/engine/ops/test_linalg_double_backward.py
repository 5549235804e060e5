"""Double backward of cdist, which the op table's comparison cannot take: PyTorch has no double backward for it
(``_cdist_backward``), so cdist is compared with the same distances written as a norm of differences."""

import math

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")


def _cdist_as_norm(m, a, b, p):
    return (a.unsqueeze(-2) - b.unsqueeze(-3)).norm(p=p, dim=-1)


# name: (engine call, torch call or None for the same, input shapes)
CASES = {
    "cdist p=2": (lambda m, a, b: m.cdist(a, b), lambda m, a, b: _cdist_as_norm(m, a, b, 2), [(4, 3), (5, 3)]),
    "cdist p=2 by matmul": (lambda m, a, b: m.cdist(a, b), lambda m, a, b: _cdist_as_norm(m, a, b, 2),
                            [(2, 30, 3), (2, 5, 3)]),
    "cdist p=1": (lambda m, a, b: m.cdist(a, b, p=1.0), lambda m, a, b: _cdist_as_norm(m, a, b, 1), [(4, 3), (5, 3)]),
    "cdist p=3": (lambda m, a, b: m.cdist(a, b, p=3.0), lambda m, a, b: _cdist_as_norm(m, a, b, 3),
                  [(2, 1, 4, 3), (3, 5, 3)]),
    "cdist p=inf": (lambda m, a, b: m.cdist(a, b, p=math.inf), lambda m, a, b: _cdist_as_norm(m, a, b, math.inf),
                    [(4, 3), (5, 3)]),
}


def _numpy(g):
    return np.zeros(tuple(g.shape)) if g._is_zerotensor() else g.detach().numpy()


def _second_derivative(m, fn, arrays):
    """The gradient of ``sum(first derivatives * fixed weights)``: one direction of the double backward."""
    rng = np.random.default_rng(1)
    inputs = [m.tensor(a, requires_grad=True) for a in arrays]
    out = fn(m, *inputs)
    firsts = m.autograd.grad(out, inputs, m.tensor(rng.standard_normal(tuple(out.shape))), create_graph=True)
    total = sum((g * m.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in firsts)
    if not total.requires_grad:  # piecewise-linear: first derivatives constant where they exist
        return [m.zeros(tuple(x.shape), dtype=x.dtype) for x in inputs]
    return m.autograd.grad(total, inputs, allow_unused=True, materialize_grads=True)


@pytest.mark.parametrize("name", CASES)
def test_double_backward(name):
    fn, torch_fn, shapes = CASES[name]
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s) for s in shapes]
    inputs = tuple(engine.tensor(a, requires_grad=True) for a in arrays)
    assert engine.autograd.gradgradcheck(lambda *xs: fn(engine, *xs), inputs, eps=1e-6, atol=1e-5, rtol=1e-3)
    ours = _second_derivative(engine, fn, arrays)
    theirs = _second_derivative(torch, torch_fn or fn, arrays)
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a.numpy(), _numpy(b), atol=1e-8, rtol=1e-6, err_msg=f"input {k}")
