"""The backward graph (``engine/autograd/graph.py``): ``grad_fn`` names and flags, ``detach``/``.data``,
saved values freed after backward, saved tensors checked against their version counters, node hooks."""

import numpy as np
import pytest
from optest import requires_torch, torch

import engine


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
    ((fn, index),) = y.grad_fn.next_functions
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


@requires_torch
def test_grad_fn_hooks_match_pytorch():
    results = []
    for m in (engine, torch):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        y = x * 2
        seen = []
        h = y.grad_fn.register_prehook(lambda grad_outputs: (grad_outputs[0] * 10,))
        y.grad_fn.register_hook(
            lambda grad_inputs, grad_outputs, seen=seen: seen.append(
                (grad_inputs[0].detach().numpy().copy(), grad_outputs[0].detach().numpy().copy())
            )
        )
        y.sum().backward(retain_graph=True)
        h.remove()
        y.sum().backward()
        results.append((x.grad.numpy().copy(), seen))
    (ours, ours_seen), (theirs, theirs_seen) = results
    np.testing.assert_array_equal(ours, theirs)
    for (a_in, a_out), (b_in, b_out) in zip(ours_seen, theirs_seen):
        np.testing.assert_array_equal(a_in, b_in)
        np.testing.assert_array_equal(a_out, b_out)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_lists_its_inputs_as_torchs_addmm_and_mm_do(bias):
    """Tutorials walk ``next_functions`` by position: bias, input, then the weight behind a TBackward0."""
    torch = pytest.importorskip("torch")
    names = []
    for m in (engine, torch):
        layer = m.nn.Linear(3, 2, bias=bias)
        y = layer(m.randn(4, 3, requires_grad=True).relu())
        nxt = y.grad_fn.next_functions
        leaf = nxt[-1][0].next_functions[0][0]
        short = [fn.name().rsplit(":", 1)[-1] for fn, _ in nxt]  # torch's leaf: torch::autograd::AccumulateGrad
        names.append((y.grad_fn.name(), short, leaf.name().rsplit(":", 1)[-1]))
        assert leaf.variable is layer.weight
        if bias:
            assert nxt[0][0].variable is layer.bias
    assert names[0] == names[1]
