"""Autograd semantics: the graph, backward, hooks, grad(), custom Functions, in-place checks."""

import sys
import warnings

import numpy as np
import pytest

import engine
from engine.autograd import Function, Variable, gradcheck

try:
    import torch
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


def both(fn, *arrays):
    """Run ``fn(module, *leaves)`` on the engine and on PyTorch; return (outputs, grads) of each."""
    results = []
    for m in (engine, torch):
        leaves = [m.tensor(a, requires_grad=True) for a in arrays]
        out = fn(m, *leaves)
        results.append((out, leaves))
    return results


def assert_close(ours, theirs, atol=1e-5, rtol=1e-5):
    a = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    b = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    np.testing.assert_allclose(a, b, atol=atol, rtol=rtol)


def test_tutorial_graph_and_grad_fn_names():
    x = engine.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    assert x.is_leaf and x.grad_fn is None and not y.is_leaf
    assert y.grad_fn.name() == "AddBackward0"
    assert z.grad_fn.name() == "MulBackward0"
    assert out.grad_fn.name() == "MeanBackward0"
    assert repr(y.grad_fn).startswith("<AddBackward0 object at 0x")
    (fn, index), = y.grad_fn.next_functions
    assert fn.name() == "AccumulateGrad" and fn.variable is x and index == 0
    assert y.grad_fn.next_functions[0][0] is fn  # one accumulator per leaf
    out.backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((2, 2), 4.5))


def test_requires_grad_propagation_and_flags():
    a = engine.ones(3)
    b = engine.ones(3, requires_grad=True)
    assert not (a * 2).requires_grad
    assert (a * b).requires_grad
    with pytest.raises(RuntimeError, match="only Tensors of floating point dtype can require gradients"):
        engine.ones(3, dtype=engine.long).requires_grad_()
    with pytest.raises(RuntimeError, match="leaf variables"):
        (b * 2).requires_grad = False
    assert a.requires_grad_() is a and a.requires_grad


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


def test_saved_values_are_freed_after_backward():
    x = engine.randn(100, requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    assert node.y is not None
    y.sum().backward()
    assert node.y is None and node.x is None


def test_detach_and_data_cut_the_graph():
    x = engine.ones(3, requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.grad_fn is None
    d[0] = 5  # shares storage
    assert x[0].item() == 5
    assert not x.data.requires_grad
    y = x * 2
    y.detach_()
    assert y.grad_fn is None and not y.requires_grad


def test_grad_modes():
    x = engine.ones(2, requires_grad=True)
    with engine.no_grad():
        assert not (x * 2).requires_grad
        with engine.enable_grad():
            assert (x * 2).requires_grad
    assert engine.is_grad_enabled()

    @engine.no_grad()
    def f(t):
        return t * 2

    assert not f(x).requires_grad
    with engine.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
    engine.set_grad_enabled(False)
    assert not engine.is_grad_enabled()
    engine.set_grad_enabled(True)
    with engine.inference_mode():
        assert not (x * 2).requires_grad
    with engine.inference_mode(False):
        assert (x * 2).requires_grad

    @engine.inference_mode()
    def g(t):
        return t * 2

    assert not g(x).requires_grad and engine.is_grad_enabled()


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


class Exp(Function):
    @staticmethod
    def forward(ctx, i):
        result = i.exp()
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad_output):
        (result,) = ctx.saved_tensors
        return grad_output * result


class MulConstant(Function):
    @staticmethod
    def forward(ctx, tensor, constant):
        ctx.constant = constant
        return tensor * constant

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output * ctx.constant, None


def test_custom_function():
    x = engine.tensor([0.0, 1.0], requires_grad=True)
    y = Exp.apply(x)
    assert y.grad_fn.name() == "ExpBackward"
    MulConstant.apply(y, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([0.0, 1.0]), rtol=1e-6)
    x64 = engine.randn(4, dtype=engine.float64, requires_grad=True)
    assert gradcheck(Exp.apply, (x64,))
    assert gradcheck(lambda t: MulConstant.apply(t, 2.5), (x64,))


def test_custom_function_saved_tensors_freed():
    x = engine.tensor([1.0], requires_grad=True)
    y = Exp.apply(x)
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_gradcheck_catches_wrong_gradient():
    class Wrong(Function):
        @staticmethod
        def forward(ctx, t):
            return t * t

        @staticmethod
        def backward(ctx, g):
            return g  # should be 2 * t * g

    x = engine.randn(3, dtype=engine.float64, requires_grad=True)
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        gradcheck(Wrong.apply, (x,))
    assert gradcheck(Wrong.apply, (x,), raise_exception=False) is False


def test_gradcheck_warns_on_float32():
    x = engine.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="not a double precision"):
        gradcheck(lambda t: t * 2, (x,), atol=1e-2, rtol=1e-2, eps=1e-3)


# ----- in-place operations and version counters -----
def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    w = engine.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 2
    with engine.no_grad():
        w.sub_(0.5)
        w[0] = 3
    np.testing.assert_allclose(w.detach().numpy(), [3, 0.5, 0.5])


def test_modified_saved_tensor_is_caught_at_backward():
    x = engine.ones(3, requires_grad=True)
    y = x * 2
    z = y * y  # saves y
    y.add_(1)
    assert y._version == 1
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        z.sum().backward()


def test_modified_saved_output_is_caught():
    x = engine.ones(3, requires_grad=True)
    y = x.exp()  # saves its output
    y.mul_(2)
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0"):
        y.sum().backward()


def test_inplace_returns_self_and_mutates():
    a = engine.ones(3)
    for name, args, expected in [("add_", (2,), 3), ("sub_", (1,), 2), ("mul_", (4,), 8), ("div_", (2,), 4),
                                 ("clamp_", (0, 3), 3), ("fill_", (7,), 7), ("zero_", (), 0)]:
        assert getattr(a, name)(*args) is a
        np.testing.assert_allclose(a.numpy(), [expected] * 3)
    b = engine.zeros(2, 3)
    b.copy_(engine.ones(3))
    np.testing.assert_allclose(b.numpy(), np.ones((2, 3)))
    c = engine.ones(2, 3)
    assert c.t_() is c and tuple(c.shape) == (3, 2)
    u = engine.empty(1000).uniform_(-1, 2)
    assert u.min().item() >= -1 and u.max().item() < 2
    n = engine.empty(10000).normal_(3, 0.5)
    assert abs(n.mean().item() - 3) < 0.05 and abs(n.std().item() - 0.5) < 0.05


def test_inplace_int_cannot_hold_float_result():
    a = engine.ones(3, dtype=engine.long)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        a.add_(0.5)


@needs_torch
@pytest.mark.parametrize("case", [
    lambda m, x, w: (lambda y: (y.mul_(w), y.add_(1), (y * y).sum())[-1])(x * 1),
    lambda m, x, w: (lambda y: (y.relu_(), y.sum())[-1])(x * w),
    lambda m, x, w: (lambda y: (y.__setitem__(0, w[1] * 5), (y * 2).sum())[-1])(x * 1),
    lambda m, x, w: (lambda y: (y.__setitem__(y > 0, 0.0), (y * w).sum())[-1])(x * 3),
    lambda m, x, w: (lambda y: (y[1:].mul_(w[1:]), (y * y).sum())[-1])(x * 2),
    lambda m, x, w: (lambda y: (y[::2].copy_(w[::2] * 3), (y * y).sum())[-1])(x * 2),
    lambda m, x, w: (lambda z: (z.__setitem__(slice(0, 2), w[:2] + x[:2]), z.sum())[-1])(m.zeros(4)),
    lambda m, x, w: (lambda y: (y.view(2, 2)[0].mul_(3), (y * w).sum())[-1])(x * 1),
])
def test_inplace_gradients_match_pytorch(case):
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal(4).astype(np.float32)
    w_np = rng.standard_normal(4).astype(np.float32)
    (ours, o_leaves), (theirs, t_leaves) = both(case, x_np, w_np)
    assert_close(ours, theirs)
    ours.backward()
    theirs.backward()
    for a, b in zip(o_leaves, t_leaves):
        assert_close(a.grad, b.grad)


@needs_torch
def test_accumulation_over_reused_module_like_rnn():
    rng = np.random.default_rng(1)
    w_np = rng.standard_normal((3, 3)).astype(np.float32)
    x_np = rng.standard_normal((2, 3)).astype(np.float32)
    results = []
    for m in (engine, torch):
        w = m.tensor(w_np, requires_grad=True)
        h = m.zeros(2, 3)
        loss = 0
        for _ in range(5):
            h = (m.tensor(x_np) + h @ w).tanh()
            loss += (h * h).mean()
        loss.backward()
        results.append((loss, w.grad))
    assert_close(results[0][0], results[1][0])
    assert_close(results[0][1], results[1][1])


def test_variable_is_the_tensor_api():
    t = engine.ones(2)
    v = Variable(t)
    assert isinstance(v, engine.Tensor) and isinstance(v, Variable)
    v[0] = 3
    assert t[0].item() == 3  # shares data
    with pytest.warns(UserWarning, match="volatile was removed"):
        Variable(t, volatile=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Variable(t, requires_grad=True).requires_grad


@needs_torch
def test_grad_fn_hooks_match_pytorch():
    results = []
    for m in (engine, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        seen = []
        h = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
        y.grad_fn.register_hook(lambda grad_inputs, grad_outputs, seen=seen: seen.append(
            (grad_inputs[0].detach().numpy().copy(), grad_outputs[0].detach().numpy().copy())))
        y.sum().backward(retain_graph=True)
        h.remove()
        y.sum().backward()
        results.append((x.grad.numpy().copy(), seen))
    (ours, ours_seen), (theirs, theirs_seen) = results
    np.testing.assert_array_equal(ours, theirs)
    for (a_in, a_out), (b_in, b_out) in zip(ours_seen, theirs_seen):
        np.testing.assert_array_equal(a_in, b_in)
        np.testing.assert_array_equal(a_out, b_out)
