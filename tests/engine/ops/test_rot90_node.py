"""rot90 as one node: PyTorch's values, layout (strides), node name and gradients for every turn."""

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("k", [-1, 0, 1, 2, 3, 4, 5])
@pytest.mark.parametrize("dims", [(0, 1), (2, 0), (-1, -2)])
def test_rot90_matches_torch(k, dims):
    a = np.random.default_rng(k + 1).standard_normal((3, 4, 5)).astype(np.float32)
    w = np.random.default_rng(7).standard_normal(np.rot90(a, k, dims).shape).astype(np.float32)
    x, e = torch.tensor(a, requires_grad=True), engine.tensor(a, requires_grad=True)
    y, z = torch.rot90(x, k, dims), engine.rot90(e, k, dims)
    np.testing.assert_array_equal(z.detach().numpy(), y.detach().numpy())
    assert z.stride() == y.stride()
    assert z.grad_fn.name() == y.grad_fn.name()
    (y * torch.tensor(w)).sum().backward()
    (z * engine.tensor(w)).sum().backward()
    np.testing.assert_array_equal(e.grad.numpy(), x.grad.numpy())
