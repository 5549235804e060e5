"""``repeat_interleave`` by one count (one strided copy per repeat, the gradient adding them back) against
PyTorch: values, dtypes, gradients and double backward over axes, counts and sizes that take the threads."""

import numpy as np
import pytest
import torch

import engine

CASES = [((3, 4), 2, 1), ((3, 4), 3, 0), ((2, 3, 4), 2, 1), ((2, 3, 4), 1, -1), ((5,), 9, 0), ((2, 3), 0, 1),
         ((4, 5), 12, None), ((600, 300), 2, 1), ((3, 300, 300), 3, 0), ((1, 500, 300), 2, 2)]


@pytest.mark.parametrize("shape, r, dim", CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool"])
def test_values_and_dtype_match_torch(shape, r, dim, dtype):
    a = (np.random.default_rng(0).standard_normal(shape) * 5).astype(dtype)
    ours = engine.repeat_interleave(engine.tensor(a), r, dim)
    ref = torch.repeat_interleave(torch.tensor(a), r, dim)
    assert ours.dtype == getattr(engine, str(ref.dtype).split(".")[1])
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())


@pytest.mark.parametrize("shape, r, dim", CASES)
def test_gradients_and_double_backward_match_torch(shape, r, dim):
    """The gradient, and the gradient of the gradient with respect to the upstream (backward's own graph)."""
    rng = np.random.default_rng(1)
    a, v = rng.standard_normal(shape), rng.standard_normal(shape)
    x, e = torch.tensor(a, requires_grad=True), engine.tensor(a, requires_grad=True)
    y, z = torch.repeat_interleave(x, r, dim), engine.repeat_interleave(e, r, dim)
    w = rng.standard_normal(tuple(y.shape))
    tw, ew = torch.tensor(w, requires_grad=True), engine.tensor(w, requires_grad=True)
    gx, = torch.autograd.grad((y * tw).sum(), x, create_graph=True)
    ge, = engine.autograd.grad((z * ew).sum(), e, create_graph=True)
    np.testing.assert_allclose(ge.detach().numpy(), gx.detach().numpy(), rtol=1e-12, atol=1e-12)
    ggx, = torch.autograd.grad((gx * torch.tensor(v)).sum(), tw)
    gge, = engine.autograd.grad((ge * engine.tensor(v)).sum(), ew)
    np.testing.assert_allclose(gge.numpy(), ggx.numpy(), rtol=1e-12, atol=1e-12)


def test_float32_gradient_of_a_broadcast_upstream_and_a_strided_input():
    a = np.random.default_rng(2).standard_normal((700, 400)).astype(np.float32)
    e = engine.tensor(a, requires_grad=True)
    engine.repeat_interleave(e[::2, 1::3].t(), 3, 1).sum().backward()
    x = torch.tensor(a, requires_grad=True)
    torch.repeat_interleave(x[::2, 1::3].t(), 3, 1).sum().backward()
    assert e.grad.dtype == engine.float32
    np.testing.assert_array_equal(e.grad.numpy(), x.grad.numpy())


def test_a_one_element_tensor_count_takes_the_same_path():
    a = np.arange(6.0).reshape(2, 3)
    ours = engine.repeat_interleave(engine.tensor(a, requires_grad=True), engine.tensor([2]), 1)
    np.testing.assert_array_equal(ours.detach().numpy(), np.repeat(a, 2, 1))
    assert ours.grad_fn.name() == "IndexSelectBackward0"
