"""``linalg.vector_norm``'s default call (the 2-norm of everything) without a node, against PyTorch: values and
dtypes over sizes (empty, 0-d, past the squares' block), layouts and dtypes, and the node when a gradient is wanted."""

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("shape", [(), (0,), (1, 32, 32), (7, 3), (3000,), (1000, 1000)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_whole_norm_matches_torch(shape, dtype):
    a = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    ours, ref = engine.linalg.vector_norm(engine.tensor(a)), torch.linalg.vector_norm(torch.tensor(a))
    assert ours.shape == () and str(ours.dtype) == str(ref.dtype)
    # Against the exact norm: PyTorch's float32 sum of a million squares is off by about 1e-5.
    np.testing.assert_allclose(ours.numpy(), np.sqrt(np.sum(a.astype(np.float64) ** 2)), rtol=1e-7)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=2e-5)
    node = engine.linalg.vector_norm(engine.tensor(a, requires_grad=True))
    assert node.item() == ours.item()  # the same sum as the node's


def test_whole_norm_of_a_strided_view():
    a = np.random.default_rng(1).standard_normal((300, 200)).astype(np.float32)
    ours = engine.linalg.vector_norm(engine.tensor(a)[::3, 1::2].t())
    ref = torch.linalg.vector_norm(torch.tensor(a)[::3, 1::2].t())
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_whole_norm_records_its_node_when_a_gradient_is_wanted():
    a = np.array([[3.0, 0.0], [0.0, 4.0]], dtype=np.float32)
    x = engine.tensor(a, requires_grad=True)
    out = engine.linalg.vector_norm(x)
    assert out.item() == 5.0 and out.grad_fn.name() == "NormBackward1"
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), a / 5)
    with engine.no_grad():
        assert engine.linalg.vector_norm(x).grad_fn is None


def test_whole_norm_result_is_its_own_writable_tensor():
    out = engine.linalg.vector_norm(engine.tensor(np.ones(4, dtype=np.float32)))
    out.mul_(2)
    assert out.item() == 4.0 and out.dtype == engine.float32
