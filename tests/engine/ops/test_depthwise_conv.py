"""The compiled depthwise convolution (``engine.ops.conv_depthwise``, conv2d's "depthwise" implementation):
which calls take it, partial gradients, inf and NaN kept where PyTorch keeps them, and the same results
whichever way the planes are split over threads. Values over many shapes: the op table's conv2d_depthwise."""

import numpy as np
import pytest

import engine
from engine.ops import jit

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(jit.numba() is None, reason="numba is not installed")


def _pair(x, w, b=None, dtype=np.float32, grads=(True, True, True)):
    arrays = [a.astype(dtype) for a in (x, w) + (() if b is None else (b,))]
    ours = [engine.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    theirs = [torch.tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    return ours, theirs


def _run(tensors, m, **kw):
    return m.nn.functional.conv2d(*tensors, **kw)


def _compare(ours, theirs, kw, rtol=1e-5, atol=1e-5):
    eout, tout = _run(ours, engine, **kw), _run(theirs, torch, **kw)
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=rtol, atol=atol)
    g = np.random.default_rng(2).standard_normal(tuple(tout.shape)).astype(eout.detach().numpy().dtype)
    eout.backward(engine.tensor(g))
    tout.backward(torch.tensor(g))
    for e, t in zip(ours, theirs, strict=True):
        if t.requires_grad:
            np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol, equal_nan=True)
        else:
            assert e.grad is None
    return eout


@pytest.mark.parametrize("shape, weight, kw", [
    ((2, 4, 9, 9), (4, 1, 3, 3), {"groups": 4, "padding": 1}),
    ((2, 3, 9, 9), (6, 1, 5, 5), {"groups": 3, "padding": 2, "stride": 2}),
    ((1, 2, 8, 8), (2, 1, 7, 7), {"groups": 2, "padding": 3}),
])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_depthwise_calls_take_the_kernels(shape, weight, kw, dtype):
    rng = np.random.default_rng(0)
    ours, theirs = _pair(rng.standard_normal(shape), rng.standard_normal(weight), dtype=dtype)
    out = _compare(ours, theirs, kw)
    assert out.grad_fn._impl.name == "depthwise"
    assert out.dtype == engine.float32 if dtype == np.float32 else engine.float64


@pytest.mark.parametrize("shape, weight, kw", [
    ((2, 4, 9, 9), (4, 2, 3, 3), {"groups": 2, "padding": 1}),  # groups below the channel count
    ((2, 1, 9, 9), (4, 1, 3, 3), {"padding": 1}),  # one group
])
def test_other_grouped_calls_do_not(shape, weight, kw):
    rng = np.random.default_rng(0)
    ours, theirs = _pair(rng.standard_normal(shape), rng.standard_normal(weight))
    assert _compare(ours, theirs, kw).grad_fn._impl.name != "depthwise"


@pytest.mark.parametrize("grads", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, True, True)])
def test_partial_gradients(grads):
    rng = np.random.default_rng(1)
    ours, theirs = _pair(rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((6, 1, 3, 3)),
                         rng.standard_normal(6), grads=grads)
    _compare(ours, theirs, {"groups": 3, "padding": 1, "stride": 2})


@pytest.mark.parametrize("where", ["input inf", "input nan", "weight inf", "weight nan"])
def test_non_finite_values_match_pytorch(where):
    """The kernels compute dropped columns that multiply input values by zero gradients and zero padding by
    the weight; a non-finite weight or weight gradient sends backward to the column matrix, as for conv2d's
    other full-width implementations, so inf and NaN land where PyTorch puts them."""
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((2, 3, 7, 7)), rng.standard_normal((3, 1, 3, 3))
    target, value = (x, None) if where.startswith("input") else (w, None)
    value = np.inf if where.endswith("inf") else np.nan
    target.reshape(-1)[target.size // 2] = value
    ours, theirs = _pair(x, w, rng.standard_normal(3))
    _compare(ours, theirs, {"groups": 3, "padding": 1})


def test_thread_split_gives_the_same_result():
    rng = np.random.default_rng(4)
    x = engine.tensor(rng.standard_normal((8, 16, 32, 32)).astype(np.float32), requires_grad=True)
    w = engine.tensor(rng.standard_normal((16, 1, 5, 5)).astype(np.float32), requires_grad=True)
    results = []
    threads = engine.get_num_threads()
    try:
        for n in (1, 2):
            engine.set_num_threads(n)
            out = engine.nn.functional.conv2d(x, w, padding=2, groups=16)
            out.square().sum().backward()
            results.append((out.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
            x.grad = w.grad = None
    finally:
        engine.set_num_threads(threads)
    for one, two in zip(*results, strict=True):
        np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-5)
