"""Tensor hooks and ``retain_grad`` (``engine/autograd/hooks.py``)."""

import numpy as np
import pytest

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


def _post_accumulate_trace(lib, shared_twice):
    """The gradients post-accumulate hooks saw, in order, for a weight used once or twice, over two backward
    passes (the second accumulating), and whether autograd.grad ran them."""
    w = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.detach().clone().tolist()))
    for _ in range(2):
        loss = (w * 2).sum() + ((w * w).sum() if shared_twice else 0)
        loss.backward()
    lib.autograd.grad((w * 3).sum(), w)
    handle.remove()
    (w * 2).sum().backward()
    return seen


@pytest.mark.parametrize("shared_twice", [False, True], ids=["used-once", "used-twice"])
def test_post_accumulate_grad_hooks_run_once_a_pass_as_pytorchs(shared_twice):
    torch = pytest.importorskip("torch")
    assert _post_accumulate_trace(engine, shared_twice) == _post_accumulate_trace(torch, shared_twice)


def test_post_accumulate_grad_hooks_refuse_what_pytorch_refuses():
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        engine.ones(2).register_post_accumulate_grad_hook(print)
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (engine.ones(2, requires_grad=True) * 2).register_post_accumulate_grad_hook(print)


def test_queued_callbacks_run_after_every_gradient_is_in():
    w = engine.ones(2, requires_grad=True)
    order = []

    def hook(grad):
        order.append("hook")
        engine.autograd.Variable._execution_engine.queue_callback(lambda: order.append(("callback", w.grad.tolist())))
        engine.autograd.Variable._execution_engine.queue_callback(lambda: order.append("second"))

    y = w * 3
    y.register_hook(hook)
    y.sum().backward()
    assert order == ["hook", ("callback", [3.0, 3.0]), "second"]
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass."):
        engine.autograd.Variable._execution_engine.queue_callback(print)
