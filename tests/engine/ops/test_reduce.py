"""Reductions (``engine/ops/reduce.py``) beyond the op table: ``max(dim=...)`` as a named tuple, and a
graph through several reductions."""

from __future__ import annotations

import numpy as np
from optest import check

import engine


def test_max_with_dim_is_named_tuple():
    x = engine.tensor(np.array([[1.0, 5.0, 2.0], [7.0, 0.0, 3.0]], dtype=np.float32), requires_grad=True)
    out = x.max(dim=1)
    values, indices = out
    assert isinstance(out, tuple)
    np.testing.assert_array_equal(out.values.detach().numpy(), out[0].detach().numpy())
    np.testing.assert_array_equal(out.indices.numpy(), out[1].numpy())
    np.testing.assert_array_equal(values.detach().numpy(), [5.0, 7.0])
    np.testing.assert_array_equal(indices.numpy(), [1, 0])
    assert indices.dtype == engine.int64
    assert values.requires_grad and not indices.requires_grad
    out.values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 1, 0], [1, 0, 0]])
    mn = x.min(1)
    np.testing.assert_array_equal(mn.indices.numpy(), [0, 1])


def test_named_tuple_fields_against_torch():
    check(lambda m, x: x.max(1).values, [(3, 4, 5)])
    check(lambda m, x: x.min(1).indices, [(3, 4, 5)])


def test_reductions_of_requires_grad_keep_graph():
    out = check(lambda m, x: (x.sum(0) * x.mean(1, keepdim=True)).std(), [(4, 4)])
    assert out.requires_grad


def test_whole_array_two_norm_is_exact_and_its_gradient_one_scale():
    """Squares summed in blocks whose sums add in float64: within a few ulps of the exact norm over a million
    float32 values (a single running sum drifts by ~1e-6 there), and the gradient is x / norm (0 at 0)."""
    x = np.random.default_rng(0).standard_normal((1000, 33, 31), dtype=np.float32)
    exact = np.sqrt((x.astype(np.float64) ** 2).sum())
    t = engine.tensor(x, requires_grad=True)
    norm = engine.linalg.vector_norm(t)
    assert abs(norm.item() / exact - 1) < 2e-7
    norm.backward()
    np.testing.assert_allclose(t.grad.numpy(), x / np.float32(exact), rtol=1e-6, atol=1e-12)
    zero = engine.zeros(4, 5, requires_grad=True)
    engine.linalg.vector_norm(zero, keepdim=True).backward()
    assert not zero.grad.numpy().any()
