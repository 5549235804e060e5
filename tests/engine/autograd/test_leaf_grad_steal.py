"""A leaf's first ``.grad`` takes the backward pass's array instead of a copy when nothing else holds it
(``engine/autograd/engine.py`` ``_deliver_to_leaf``). Each scenario runs in both frameworks and changes a
``.grad`` in place afterwards: were an array shared that should not be, another value would change too."""

import numpy as np
import pytest
import torch

import engine


def _values(*tensors):
    return [t.detach().numpy().copy() for t in tensors]


def _leaves(m, *shapes):
    return [m.tensor(np.arange(1, np.prod(s) + 1, dtype=np.float32).reshape(s) / 7, requires_grad=True)
            for s in shapes]


def x_plus_x(m):
    (x,) = _leaves(m, (3, 4))
    ((x + x) * 3).sum().backward()
    x.grad.add_(1)
    return _values(x.grad)


def sum_of_two_leaves(m):
    x, y = _leaves(m, (3, 4), (3, 4))
    ((x + y) * 2).sum().backward()  # one array flows to both leaves
    x.grad.mul_(5)
    return _values(x.grad, y.grad)


def expand(m):
    x, y = _leaves(m, (3, 1), (3, 4))
    (x.expand(3, 4) * y).sum().backward()
    y.grad.add_(1)
    return _values(x.grad, y.grad)


def hook_returns_one_tensor_twice(m):
    x, y = _leaves(m, (4,), (4,))
    held = m.full((4,), 2.0)
    x.register_hook(lambda g: held)
    y.register_hook(lambda g: held)
    (x * y).sum().backward()
    x.grad.add_(1)
    return _values(x.grad, y.grad, held)


def hook_keeps_its_argument(m):
    (x,) = _leaves(m, (4,))
    seen = []
    x.register_hook(seen.append)
    (x * 3).sum().backward()
    x.grad.add_(1)
    return _values(x.grad, seen[0])


def retain_grad(m):
    (x,) = _leaves(m, (5,))
    y = x * 2
    y.retain_grad()
    (y * y).sum().backward()
    x.grad.add_(1)
    y.grad.mul_(3)
    return _values(x.grad, y.grad)


def accumulated_twice(m):
    (x,) = _leaves(m, (6,))
    z = (x * x).sum()
    z.backward(retain_graph=True)
    first = x.grad
    z.backward()
    assert x.grad is first  # the second pass adds into the first array
    (x * 4).sum().backward()
    return _values(x.grad)


def root_leaf_with_given_gradient(m):
    (x,) = _leaves(m, (3,))
    g = m.ones(3)
    x.backward(g)
    x.grad.add_(1)
    return _values(x.grad, g)


def grad_then_backward(m):
    (x,) = _leaves(m, (3,))
    (gx,) = m.autograd.grad((x * 5).sum(), x, retain_graph=True)
    (x * 5).sum().backward()
    x.grad.add_(1)
    return _values(gx, x.grad)


def backward_with_inputs(m):
    x, y = _leaves(m, (3,), (3,))
    (x * y * 2).sum().backward(inputs=[x])
    x.grad.add_(1)
    return [*_values(x.grad), y.grad is None]


def _function(m, backward):
    class Double(m.autograd.Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a)
            return a * 2 + b

        @staticmethod
        def backward(ctx, g):
            return backward(ctx, g)

    return Double


def function_returns_one_array_twice(m):
    x, y = _leaves(m, (4,), (4,))
    fn = _function(m, lambda ctx, g: (lambda out: (out, out))(g * 2))
    fn.apply(x, y).sum().backward()
    x.grad.add_(1)
    return _values(x.grad, y.grad)


def function_returns_a_view_of_its_gradient(m):
    x, y = _leaves(m, (2, 3), (2, 3))
    fn = _function(m, lambda ctx, g: (lambda out: (out, out.view(2, 3)))(g * 2))
    fn.apply(x, y).sum().backward()
    x.grad.add_(1)
    return _values(x.grad, y.grad)


def function_returns_its_saved_input(m):
    x, y = _leaves(m, (4,), (4,))
    w = m.full((4,), 3.0, requires_grad=True)
    fn = _function(m, lambda ctx, g: (ctx.saved_tensors[0], g))
    out = fn.apply(w, y)
    (out * x).sum().backward(retain_graph=True)
    w.grad.add_(1)
    return _values(w, w.grad, y.grad, x.grad)


SCENARIOS = [x_plus_x, sum_of_two_leaves, expand, hook_returns_one_tensor_twice, hook_keeps_its_argument,
             retain_grad, accumulated_twice, root_leaf_with_given_gradient, grad_then_backward,
             backward_with_inputs, function_returns_one_array_twice, function_returns_a_view_of_its_gradient,
             function_returns_its_saved_input]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda f: f.__name__)
def test_grads_are_not_shared(scenario):
    ours, theirs = scenario(engine), scenario(torch)
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_a_fresh_gradient_is_taken_not_copied():
    """The array a node's backward made becomes ``.grad`` itself (its identity is kept, not its value)."""
    made = []

    def backward(ctx, g):
        out = g * 2
        made.append(id(out._data))
        return out, None

    x = engine.ones(1000, requires_grad=True)
    _function(engine, backward).apply(x, engine.zeros(1000)).sum().backward()
    assert id(x.grad._data) == made[0]
    assert x.grad._data.flags.owndata and x.grad._data.flags.writeable


def test_a_gradient_of_another_dtype_is_converted_once():
    x = engine.ones(4, dtype=engine.float64, requires_grad=True)
    (x.float() * 3).sum().backward()
    assert x.grad.dtype == engine.float64
    np.testing.assert_array_equal(x.grad.numpy(), np.full(4, 3.0))
