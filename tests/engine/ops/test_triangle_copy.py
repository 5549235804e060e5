"""``tril``/``triu`` as one masked copy with a cached mask, and ``trace``'s backward writing the diagonal into
zeros: against PyTorch on inputs that the op table does not cover (NaNs in the dropped triangle, transposed
and batched inputs, offsets past the edges, the same shape again with another offset)."""

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("name", ["tril", "triu"])
@pytest.mark.parametrize("shape", [(4, 6), (6, 4), (2, 3, 5, 5)])
@pytest.mark.parametrize("k", [-7, -1, 0, 2, 7])
def test_triangle_matches_torch(name, shape, k):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape).astype(np.float32)
    a[..., 0, -1] = np.nan
    a[..., -1, 0] = np.inf
    for arr in (a, np.swapaxes(a, -1, -2)):
        ours = getattr(engine, name)(engine.tensor(arr), k).numpy()
        ref = getattr(torch, name)(torch.tensor(arr), k).numpy()
        assert ours.dtype == ref.dtype
        np.testing.assert_array_equal(ours, ref)


@pytest.mark.parametrize("shape", [(3, 5), (5, 3)])
def test_trace_gradient_is_the_diagonal(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    x, tx = engine.tensor(a, requires_grad=True), torch.tensor(a, requires_grad=True)
    (3 * engine.trace(x)).backward()
    (3 * torch.trace(tx)).backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
