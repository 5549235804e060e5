"""The backward pass (``engine/autograd/engine.py``): implicit and explicit upstream gradients, freed graphs
and ``retain_graph``, deep chains (iterative), ``engine.autograd.grad``, gradients accumulated over reuse."""

import sys

import numpy as np
import pytest
from optest import check

import engine
from engine.autograd import Variable


def test_implicit_gradient_only_for_scalars():
    x = engine.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        engine.ones(3).sum().backward()


def test_backward_with_gradient_vector_as_in_the_tutorial():
    x = Variable(engine.tensor([0.5, -0.2, 0.9]), requires_grad=True)
    y = x * 2
    while y.data.norm() < 1000:
        y = y * 2
    y.backward(engine.FloatTensor([0.1, 1.0, 0.0001]))
    scale = y.detach().numpy() / x.detach().numpy()
    np.testing.assert_allclose(x.grad.numpy(), scale * np.array([0.1, 1.0, 0.0001], np.float32), rtol=1e-6)
    assert x.grad.numpy()[1] == pytest.approx(1024.0)


def test_second_backward_through_freed_graph_raises_and_retain_graph_accumulates():
    x = engine.ones(2, 2, requires_grad=True)
    out = ((x + 2) * (x + 2) * 3).mean()
    out.backward(retain_graph=True)
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 9.0))
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        out.backward()


def test_graph_without_saved_tensors_can_be_walked_twice():
    x = engine.ones(3, requires_grad=True)
    y = (x + 1).sum()
    y.backward()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), [2, 2, 2])


def test_deep_chain_is_iterative():
    x = engine.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    limit = sys.getrecursionlimit()
    y.backward()
    assert sys.getrecursionlimit() == limit
    assert x.grad.item() == 1.0


def test_autograd_grad():
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    w = engine.tensor([0.5, 0.5, 0.5], requires_grad=True)
    h = x * w
    y = (h * h).sum()
    gx, gh = engine.autograd.grad(y, [x, h], retain_graph=True)
    np.testing.assert_allclose(gx.numpy(), 2 * (x * w * w).detach().numpy())
    np.testing.assert_allclose(gh.numpy(), 2 * h.detach().numpy())
    assert x.grad is None  # grad() does not accumulate
    u = engine.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used"):
        engine.autograd.grad(y, [u], retain_graph=True)
    (none,) = engine.autograd.grad(y, [u], allow_unused=True, retain_graph=True)
    assert none is None
    (g,) = engine.autograd.grad(h, x, grad_outputs=engine.tensor([1.0, 0.0, 2.0]))
    np.testing.assert_allclose(g.numpy(), [0.5, 0.0, 1.0])


def test_accumulation_over_reused_module_like_rnn():
    """One weight used at every step of a loop: its gradient sums over the steps, as in PyTorch."""

    def fn(m, w, x):
        h = m.zeros(2, 3)
        loss = 0
        for _ in range(5):
            h = (x + h @ w).tanh()
            loss += (h * h).mean()
        return loss

    check(fn, [(3, 3), (2, 3)], grad=(True, False), low=-1, high=1)
