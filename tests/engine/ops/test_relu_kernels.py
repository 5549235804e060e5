"""ReLU's compiled backward (engine/ops/relu_kernels.py) against PyTorch for the gradients it meets: its own
array, one value broadcast (a sum's, taken as that value), a broadcast row; NaN inputs pass the gradient."""

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(3, 5), (32, 16, 32, 32)])  # one thread, and numba's shares
@pytest.mark.parametrize("gradient", ["own", "one value", "a row"])
def test_backward_matches_pytorch(dtype, shape, gradient):
    rng = np.random.default_rng(3)
    x = rng.standard_normal(shape).astype(dtype)
    x.flat[::7] = np.nan
    row = rng.standard_normal(shape[-1]).astype(dtype)
    own = rng.standard_normal(shape).astype(dtype)
    grads = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        y = m.nn.functional.relu(X)
        if gradient == "own":
            y.backward(m.tensor(own))
        elif gradient == "one value":
            y.sum().backward()
        else:
            y.backward(m.tensor(row).expand(*shape))
        grads.append(X.grad.numpy())
    np.testing.assert_array_equal(*grads)
