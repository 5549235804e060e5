"""Pooling (engine/ops/pool.py) beyond the op table (``op_table/conv_pool.py``): max-pool's backward routed to
the first maximum of each window (a loop reference), NaN and -inf windows on both implementations, the empty
batch and the graph nodes' names."""

from __future__ import annotations

import numpy as np
import pytest
from optest import requires_torch

import engine
from engine.ops.pool import adaptive_max_pool2d, avg_pool2d, max_pool2d


def _first_max_reference(x, k, s, g):
    """Gradient of max-pool (no padding) routed to the first maximum in scan order, by loops."""
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    gx = np.zeros_like(x)
    for b in range(n):
        for ch in range(c):
            for i in range(oh):
                for j in range(ow):
                    win = x[b, ch, i * s : i * s + k, j * s : j * s + k]
                    r, q = np.unravel_index(np.argmax(win), win.shape)
                    gx[b, ch, i * s + r, j * s + q] += g[b, ch, i, j]
    return gx


@pytest.mark.parametrize("k, s", [(2, 2), (3, 1), (3, 2), (2, 1)])
@pytest.mark.parametrize("kind", ["all-equal", "few-values"])
def test_max_pool2d_ties_first_max(k, s, kind):
    """Ties go to the first maximum of each window in scan order; overlapping windows accumulate (the table
    compares the same inputs with PyTorch)."""
    rng = np.random.default_rng(1)
    if kind == "all-equal":
        x = np.ones((2, 3, 7, 8), dtype=np.float32)
    else:
        x = rng.integers(0, 3, size=(2, 3, 7, 8)).astype(np.float32)
    xe = engine.tensor(x, requires_grad=True)
    out = max_pool2d(xe, k, s)
    g = rng.standard_normal(tuple(out.shape)).astype(np.float32)
    out.backward(engine.tensor(g))
    np.testing.assert_allclose(xe.grad.numpy(), _first_max_reference(x, k, s, g), atol=1e-6)


@requires_torch
@pytest.mark.parametrize("kernel_path", [True, False], ids=["compiled", "numpy"])
def test_max_pool2d_nan_and_minus_inf_windows(kernel_path):
    """A window holding NaN gives NaN, as in PyTorch; a window of -inf gives -inf. The compiled kernel also
    routes the gradient as PyTorch does (to the window's last NaN, and to the first -inf)."""
    import torch

    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 2, 6, 6)
    x[0, 0, 0, 1] = x[0, 0, 1, 0] = np.nan
    x[0, 1, 2:4, 2:4] = -np.inf
    results = []
    for m in (engine, torch):
        t = m.tensor(x, requires_grad=True)
        with engine.backend.prefer("compiled" if kernel_path else "generic"):
            out, index = m.nn.functional.max_pool2d(t, 2, return_indices=True)
            out.backward(m.ones_like(out))
        results.append((out.detach().numpy(), index.numpy(), t.grad.numpy()))
    (out, index, grad), (t_out, t_index, t_grad) = results
    np.testing.assert_array_equal(out, t_out)  # NaN where torch has NaN, -inf where it has -inf
    if kernel_path:
        np.testing.assert_array_equal(index, t_index)
        np.testing.assert_array_equal(grad, t_grad)


def test_max_pool2d_empty_batch():
    out = max_pool2d(engine.zeros(0, 3, 4, 4), 2)
    assert tuple(out.shape) == (0, 3, 2, 2)


def test_grad_fn_names_and_index_dtype():
    x = engine.randn(2, 3, 7, 9, requires_grad=True)
    out, index = max_pool2d(x, 3, 2, return_indices=True)
    assert out.grad_fn.name() == "MaxPool2DWithIndicesBackward0"
    assert index.dtype == engine.int64
    assert avg_pool2d(x, 2).grad_fn.name() == "AvgPool2DBackward0"
    out, index = adaptive_max_pool2d(x, (3, 4), return_indices=True)
    assert out.grad_fn.name() == "AdaptiveMaxPool2DBackward0"
    assert index.dtype == engine.int64
