"""``F.linear``'s shapes against PyTorch's: its errors for input, weight and bias shapes that do not fit, and, for
the biases PyTorch takes, its output and gradients (the bias is added to the product's (rows, outputs) matrix or
broadcast to the product, as PyTorch decides from the input's and the bias's shapes and layouts)."""

import zlib

import numpy as np
import pytest
import torch

import engine

INPUTS = {"2-D": (3, 4), "3-D": (2, 3, 4), "4-D": (2, 2, 3, 4), "1-D": (4,), "3-D transposed": (2, 4, 3)}
WEIGHTS = [(2, 4), (4,), (), (2, 3, 4), (5,), (2, 5)]
BIASES = [None, (), (1,), (2,), (3,), (1, 2), (3, 2), (3, 1), (6, 1), (2, 2), (5, 3, 2), (1, 1)]


def _outcome(m, x_name, w_shape, b_shape):
    """(what ``linear`` gave or raised, its gradients) in framework ``m``."""
    rng = np.random.default_rng(zlib.crc32(repr((x_name, w_shape, b_shape)).encode()))
    x = m.tensor(rng.standard_normal(INPUTS[x_name]), requires_grad=True)
    w = m.tensor(rng.standard_normal(w_shape), requires_grad=True)
    b = None if b_shape is None else m.tensor(rng.standard_normal(b_shape), requires_grad=True)
    xin = x.transpose(-1, -2) if x_name.endswith("transposed") else x
    try:
        y = m.nn.functional.linear(xin, w, b)
    except RuntimeError as e:
        return f"RuntimeError: {e}", None
    y.backward(m.tensor(rng.standard_normal(tuple(y.shape))))
    return y.detach().numpy(), [t.grad.numpy() for t in (x, w, b) if t is not None]


@pytest.mark.parametrize("b_shape", BIASES, ids=str)
@pytest.mark.parametrize("w_shape", WEIGHTS, ids=str)
@pytest.mark.parametrize("x_name", INPUTS)
def test_linear_shapes_as_pytorch(x_name, w_shape, b_shape):
    ours, theirs = (_outcome(m, x_name, w_shape, b_shape) for m in (engine, torch))
    if isinstance(theirs[0], str):
        assert ours[0] == theirs[0]
        return
    assert not isinstance(ours[0], str), ours[0]
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-10, atol=1e-10)
    for a, t in zip(ours[1], theirs[1], strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize(("x_shape", "b_shape"), [((3, 4), (3, 1)), ((2, 3, 4), (6, 1)), ((2, 3, 4), (3, 2))])
def test_a_bias_of_two_dimensions_gradchecks(x_shape, b_shape):
    """Added to the rows ((3, 1), (6, 1)) or broadcast to the product ((3, 2)), to the second derivative."""
    rng = np.random.default_rng(0)
    inputs = [engine.tensor(rng.standard_normal(s), requires_grad=True) for s in (x_shape, (2, 4), b_shape)]
    assert engine.autograd.gradcheck(engine.nn.functional.linear, inputs)
    assert engine.autograd.gradgradcheck(engine.nn.functional.linear, inputs)


def _assert_same_outcome(ours, theirs):
    """PyTorch's error word for word, or its bfloat16-rounded result."""
    if isinstance(theirs, str) or isinstance(ours, str):
        assert isinstance(ours, str) and isinstance(theirs, str), f"ours: {ours!r}; PyTorch's: {theirs!r}"
        assert ours == theirs
    else:
        np.testing.assert_allclose(ours, theirs, rtol=2e-2, atol=2e-2)


# name -> (input, weight, bias) in framework m: layouts and dtypes that change where PyTorch adds the bias
LAYOUTS = {
    "a strided bias (broadcast, not on the rows)": lambda m: (m.randn(2, 3, 4), m.randn(2, 4), m.randn(6)[::2]),
    "a contiguous bias that does not fit the rows": lambda m: (m.randn(2, 3, 4), m.randn(2, 4), m.randn(3)),
    "a strided bfloat16 input, a (3, 1) bias": lambda m: (m.randn(2, 3, 8).to(m.bfloat16)[..., ::2],
                                                        m.randn(2, 4).to(m.bfloat16), m.randn(3, 1).to(m.bfloat16)),
    "no output features": lambda m: (m.randn(3, 4), m.randn(0, 4), m.randn(3, 0)),
}


@pytest.mark.parametrize("name", LAYOUTS)
def test_bias_layouts_as_pytorch(name):
    """The same values in both frameworks (one seed, drawn by NumPy): PyTorch's result or its error."""
    outcomes = []
    for m in (engine, torch):
        rng = np.random.default_rng(1)
        made = LAYOUTS[name](m)
        args = []
        for t in made:
            values = rng.standard_normal(tuple(t.shape)).astype(np.float32)
            with m.no_grad():
                t.copy_(m.tensor(values).to(t.dtype))
            args.append(t)
        try:
            outcomes.append(m.nn.functional.linear(*args).float().numpy())
        except RuntimeError as e:
            outcomes.append(str(e))
    _assert_same_outcome(*outcomes)


@pytest.mark.parametrize("sizes", [((3, 4), (0, 4), (0,)), ((3, 4), (0, 4), (3, 0)), ((2, 0), (3, 0), (3,)),
                                   ((2, 5, 0), (3, 0), None)], ids=str)
def test_no_features_backward_as_pytorch(sizes):
    """No outputs or no inputs: empty gradients, or the bias's and the weight's zeros, as PyTorch's (reshaping
    an empty gradient by -1 failed)."""
    grads = []
    for m in (engine, torch):
        tensors = [None if s is None else m.ones(s, requires_grad=True) for s in sizes]
        m.nn.functional.linear(*tensors).sum().backward()
        grads.append([t.grad.numpy() for t in tensors if t is not None])
    for ours, theirs in zip(*grads, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("bias_shape", [(6, 1), (3, 1)], ids=str)
def test_under_autocast_the_cast_tensors_decide_where_the_bias_goes(bias_shape):
    """Autocast casts a strided float32 input to a contiguous bfloat16 one before linear looks at its layout, as
    PyTorch's does: a (6, 1) bias then goes on the product's six rows, and a (3, 1) one does not fit them."""
    outcomes = []
    for m in (engine, torch):
        rng = np.random.default_rng(2)
        x, w, b = (m.tensor(rng.standard_normal(s).astype(np.float32)) for s in ((2, 3, 8), (2, 4), bias_shape))
        try:
            with m.autocast("cpu", dtype=m.bfloat16):
                outcomes.append(m.nn.functional.linear(x[..., ::2], w, b).float().numpy())
        except RuntimeError as e:
            outcomes.append(str(e))
    _assert_same_outcome(*outcomes)
