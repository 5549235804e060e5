"""Tensor hooks and ``retain_grad`` (``engine/autograd/hooks.py``)."""

import numpy as np

import engine


def test_tensor_hooks_replace_and_remove():
    x = engine.ones(3, requires_grad=True)
    seen = []
    h1 = x.register_hook(lambda g: seen.append(g.clone()))
    h2 = x.register_hook(lambda g: g * 10)
    (x * 2).sum().backward()
    np.testing.assert_allclose(seen[0].numpy(), [2, 2, 2])
    np.testing.assert_allclose(x.grad.numpy(), [20, 20, 20])
    h1.remove()
    h2.remove()
    x.grad = None
    (x * 2).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])
    assert len(seen) == 1


def test_hook_on_intermediate_and_retain_grad():
    x = engine.ones(3, requires_grad=True)
    y = x * 3
    y.retain_grad()
    y.register_hook(lambda g: g * 2)
    z = (y * y).sum()
    z.backward()
    assert y.retains_grad
    np.testing.assert_allclose(y.grad.numpy(), [12, 12, 12])  # retained after the hook, as PyTorch
    np.testing.assert_allclose(x.grad.numpy(), [36, 36, 36])
    assert (x * 2).grad is None
