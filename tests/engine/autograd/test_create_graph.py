"""``create_graph=True`` itself, against PyTorch: Hessian-vector products, ``.grad`` with a graph that
accumulates by sum, custom Functions twice differentiable (or refused with ``once_differentiable``), hooks,
``retain_graph`` defaulting to ``create_graph``, and the error naming an op without a second derivative."""

import numpy as np
import pytest

import engine
from engine.autograd.graph import Node, link

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(5)


def close(ours, theirs, atol=1e-10):
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), atol=atol, rtol=1e-8)


def test_hessian_vector_products():
    x, w, v = RNG.standard_normal((3, 4)), RNG.standard_normal((4, 2)), RNG.standard_normal((3, 4))
    res = []
    for mod in (engine, torch):
        xt, wt = mod.tensor(x, requires_grad=True), mod.tensor(w, requires_grad=True)
        loss = ((xt @ wt).tanh() * (xt.sin() @ wt)).mean()
        gx, gw = mod.autograd.grad(loss, (xt, wt), create_graph=True)
        assert gx.requires_grad and gw.requires_grad
        hvx, hvw = mod.autograd.grad((gx * mod.tensor(v)).sum(), (xt, wt))
        res.append((gx, gw, hvx, hvw))
    for a, b in zip(*res):
        close(a, b)


def test_backward_create_graph_leaves_grad_with_graph_accumulating_by_sum():
    x = RNG.standard_normal(3)
    res = []
    for mod in (engine, torch):
        xt = mod.tensor(x, requires_grad=True)
        (xt.exp() * xt).sum().backward(create_graph=True)
        first = xt.grad
        assert first.requires_grad and first.grad_fn is not None
        (xt.sin() * xt).sum().backward(create_graph=True)  # .grad becomes the sum, still in the graph
        assert xt.grad.requires_grad
        total = xt.grad
        second, = mod.autograd.grad(total.sum(), xt)
        res.append((first.detach().clone(), total, second))
    for a, b in zip(*res):
        close(a, b)


def cube(mod, once):
    """``x**3`` as a custom Function whose backward is made of differentiable ops (marked
    ``once_differentiable`` if ``once``)."""
    mark = mod.autograd.function.once_differentiable if once else (lambda f: f)

    class CubeFn(mod.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        @mark
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    return CubeFn


def test_custom_function_twice_differentiable():
    x = RNG.standard_normal(4)
    res = []
    for mod in (engine, torch):
        xt = mod.tensor(x, requires_grad=True)
        y = cube(mod, once=False).apply(xt.sin())
        g, = mod.autograd.grad(y.sum(), xt, create_graph=True)
        h, = mod.autograd.grad(g.sum(), xt)
        res.append((g, h))
    for a, b in zip(*res):
        close(a, b)


def test_once_differentiable_refuses_a_second_derivative():
    for mod in (engine, torch):
        xt = mod.tensor(RNG.standard_normal(3), requires_grad=True)
        y = cube(mod, once=True).apply(xt)
        g, = mod.autograd.grad(y.sum(), xt, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), 3 * xt.detach().numpy() ** 2)
        with pytest.raises(RuntimeError):
            mod.autograd.grad(g.sum(), xt)


def test_hooks_see_and_return_gradients_with_a_graph():
    """A tensor hook gets the gradient as a tensor in the graph (and again, without one, when the second
    backward passes through the same tensor); what it returns is differentiated."""
    x = RNG.standard_normal(3)
    res = []
    for mod in (engine, torch):
        xt = mod.tensor(x, requires_grad=True)
        mid = xt.exp()
        seen = []
        mid.register_hook(lambda g, seen=seen, mid=mid: seen.append(g.requires_grad) or g * mid)
        g, = mod.autograd.grad((mid * mid).sum(), xt, create_graph=True)
        h, = mod.autograd.grad(g.sum(), xt)
        assert seen == [True, False]
        res.append((g, h))
    for a, b in zip(*res):
        close(a, b)


def test_retain_graph_defaults_to_create_graph():
    for mod in (engine, torch):
        xt = mod.tensor([0.5, 1.5], dtype=mod.float64, requires_grad=True)
        y = (xt.exp() * xt.sin()).sum()
        y.backward(create_graph=True)
        y.backward(create_graph=True)  # the graph was kept
        close(xt.grad, 2 * (xt.exp() * (xt.sin() + xt.cos())))
        z = (xt.exp() * xt.sin()).sum()
        z.backward(create_graph=True, retain_graph=False)
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            z.backward()


class Floor(Node):
    """A node with an array backward only (no ``backward_graph``)."""

    saves = 0
    _name = "FloorishBackward"

    def backward(self, g):
        return (g * 2,)


def test_missing_second_derivative_names_the_op():
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = link(Floor(), (x,), x._data * 2, x._device)
    g, = engine.autograd.grad((y * y).sum(), x, create_graph=True)
    np.testing.assert_allclose(g.detach().numpy(), [8.0, 16.0])
    with pytest.raises(RuntimeError, match="derivative of FloorishBackward's backward is not implemented"):
        engine.autograd.grad(g.sum(), x)


def test_grad_runs_only_the_nodes_that_lead_to_its_inputs():
    fired = {}
    for m in (engine, torch):
        x, y = m.randn(3, requires_grad=True), m.randn(3, requires_grad=True)
        seen = []
        y.register_hook(lambda g, seen=seen: seen.append("y"))
        z = (x * 2).exp() + y.sin()
        z.grad_fn.register_prehook(lambda g, seen=seen: seen.append("add"))
        gx, = m.autograd.grad(z.sum(), x)
        assert gx.shape == (3,)
        fired[m.__name__] = seen
    assert fired["engine"] == fired["torch"] == ["add"]


def test_backward_with_create_graph_warns_of_the_reference_cycle_as_torch_does():
    """torch's text; torch itself warns once per process, so it cannot be asked again here."""
    x = engine.randn(3, requires_grad=True)
    with pytest.warns(UserWarning, match="create_graph=True will create a reference cycle"):
        (x * x).sum().backward(create_graph=True)
