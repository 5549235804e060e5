"""The backward pass (``engine/autograd/engine.py``): implicit and explicit upstream gradients, freed graphs
and ``retain_graph``, deep chains (iterative), ``engine.autograd.grad``, gradients accumulated over reuse."""

import sys

import numpy as np
import pytest
from device_support import assert_on, rng_data
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


# ----- gradients on the inputs' device (the CuPy stand-in) -----
def test_autograd_chain_on_cuda_matches_cpu(fake_cuda):
    def loss(dev):
        a, _, m = rng_data()
        w = engine.tensor(m, device=dev, requires_grad=True)
        x = engine.tensor(a, device=dev)
        y = ((x @ w).tanh() * 2).softmax(1)
        out = (y * y).mean()
        out.backward()
        return out, w

    out_gpu, w_gpu = loss("cuda")
    out_cpu, w_cpu = loss("cpu")
    assert_on(out_gpu, "cuda:0")
    assert_on(w_gpu.grad, "cuda:0")
    assert out_gpu.item() == pytest.approx(out_cpu.item(), rel=1e-5)
    np.testing.assert_allclose(w_gpu.grad.cpu().numpy(), w_cpu.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_backward_through_to_cuda_gives_cpu_leaf_a_cpu_grad(fake_cuda):
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.grad_fn is not None and y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert_on(x.grad, "cpu")
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_through_to_cuda_with_dtype_change(fake_cuda):
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda:1", engine.float64)
    y.sum().backward()
    assert_on(x.grad, "cpu")
    assert x.grad.dtype == engine.float32
    assert x.grad.tolist() == [1.0, 1.0]


def test_backward_through_cuda_and_back_to_cpu(fake_cuda):
    x = engine.tensor([1.0, -2.0], requires_grad=True)
    out = (x.cuda().exp().cpu() * 3).sum()
    assert_on(out, "cpu")
    out.backward()
    assert_on(x.grad, "cpu")
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([1.0, -2.0]), rtol=1e-6)


def test_grad_on_other_device_is_refused(fake_cuda):
    y = engine.randn(3, device="cuda", requires_grad=True) * 2
    with pytest.raises(RuntimeError):
        y.backward(engine.ones(3))
    leaf = engine.randn(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="different device"):
        leaf.grad = engine.ones(3)
