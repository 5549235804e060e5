"""Transposed convolutions on oneDNN (conv_transpose.py's ``onednn`` implementation: the input gradient, forward
and weight gradient of the convolution the weight belongs to) against PyTorch and the engine's own phases:
outputs and every gradient over strides, padding, output padding, dilation and no bias; partial gradients;
which calls take it; second derivatives."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops import onednn
from engine.ops.conv_transpose import ConvTranspose2d

pytestmark = pytest.mark.skipif(not onednn.available(), reason="oneDNN (onednn-cpu-gomp) is not installed here")

CASES = [  # input shape, weight shape (C, K, kh, kw), options
    ((4, 32, 8, 8), (32, 16, 4, 4), {"stride": 2, "padding": 1}),
    ((2, 16, 5, 7), (16, 8, 2, 2), {"stride": 2}),
    ((3, 8, 6, 6), (8, 12, 3, 3), {"padding": 1}),
    ((2, 6, 4, 5), (6, 5, 3, 3), {"stride": 2, "padding": 1, "output_padding": 1}),
    ((2, 4, 5, 4), (4, 3, 3, 2), {"stride": (3, 2), "padding": (1, 0), "output_padding": (2, 1)}),
    ((2, 5, 6, 6), (5, 4, 3, 3), {"stride": 2, "padding": 2, "dilation": 2, "output_padding": 1}),
    ((1, 3, 4, 4), (3, 2, 1, 1), {"stride": 2, "padding": 1}),  # a kernel smaller than the stride
]


def _run(m, x, w, b, options, need=(True, True, True)):
    """Output and gradients (None where not asked for) of a fixed weighted sum of it."""
    tensors = [m.tensor(a, requires_grad=r) for a, r in zip((x, w, b), need, strict=False) if a is not None]
    y = m.nn.functional.conv_transpose2d(*tensors[:2], tensors[2] if b is not None else None, **options)
    weights = np.cos(np.arange(y.numel()) * 0.37).reshape(tuple(y.shape)).astype(np.float32)
    (y * m.tensor(weights)).sum().backward()
    return y, [None if t.grad is None else t.grad.numpy() for t in tensors]


def _data(x_shape, w_shape, bias, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(x_shape, dtype=np.float32)
    w = (rng.standard_normal(w_shape, dtype=np.float32) / np.sqrt(w_shape[0] * w_shape[2] * w_shape[3]))
    return x, w.astype(np.float32), rng.standard_normal(w_shape[1], dtype=np.float32) if bias else None


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape, w_shape, options", CASES, ids=[str(c[2]) + str(c[1]) for c in CASES])
def test_matches_pytorch_and_the_phases(x_shape, w_shape, options, bias):
    x, w, b = _data(x_shape, w_shape, bias)
    ours, our_grads = _run(engine, x, w, b, options)
    assert ours.grad_fn._impl.name == "onednn"
    with backend.disable("onednn"):
        phases, phase_grads = _run(engine, x, w, b, options)
    assert phases.grad_fn._impl.name != "onednn"
    theirs, their_grads = _run(torch, x, w, b, options)
    for reference, reference_grads in ((theirs.detach().numpy(), their_grads), (phases.detach().numpy(), phase_grads)):
        np.testing.assert_allclose(ours.detach().numpy(), reference, rtol=1e-4, atol=1e-5)
        for mine, expected in zip(our_grads, reference_grads, strict=True):
            np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("need", [(True, False, False), (False, True, True), (False, False, True)],
                         ids=["input", "weight and bias", "bias"])
def test_partial_gradients(need):
    x, w, b = _data((3, 16, 6, 6), (16, 8, 4, 4), True, seed=1)
    options = {"stride": 2, "padding": 1}
    ours, our_grads = _run(engine, x, w, b, options, need)
    assert ours.grad_fn._impl.name == "onednn"
    _, their_grads = _run(torch, x, w, b, options, need)
    for mine, expected in zip(our_grads, their_grads, strict=True):
        assert (mine is None) == (expected is None)
        if mine is not None:
            np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-4)


def _choice(x_shape, w_shape, stride=2, pads=1, out_pad=0, dilation=1, groups=1, dtype=np.float32):
    x, w = np.zeros(x_shape, dtype), np.zeros(w_shape, dtype)
    size = [(i - 1) * stride - 2 * pads + dilation * (k - 1) + out_pad + 1 for i, k in zip(x_shape[2:], w_shape[2:])]
    geom = ((x_shape[0], w_shape[1] * groups, *size), x_shape[2:], (stride, stride), (pads,) * 4,
            (dilation, dilation), groups)
    return backend.choose(ConvTranspose2d.implementations, (x, w), {"geom": geom}).name


def test_which_calls_take_it():
    assert _choice((2, 8, 5, 5), (8, 4, 4, 4)) == "onednn"
    assert _choice((2, 8, 5, 5), (8, 4, 3, 3), out_pad=1) == "onednn"
    assert _choice((2, 8, 5, 5), (8, 4, 4, 4), dtype=np.float64) != "onednn"  # float32 only
    assert _choice((2, 8, 5, 5), (8, 2, 4, 4), groups=2) != "onednn"
    # an output padding at least the stride (allowed below the dilation) reaches past the convolution's output
    assert _choice((2, 8, 5, 5), (8, 4, 3, 3), stride=1, out_pad=1, dilation=2) != "onednn"
    with engine.backends.mkldnn.flags(enabled=False):
        assert _choice((2, 8, 5, 5), (8, 4, 4, 4)) != "onednn"


@pytest.mark.parametrize("convolution_first", [False, True], ids=["transposed first", "convolution first"])
def test_output_padding_past_the_stride_by_the_phases(convolution_first, monkeypatch):
    """oneDNN has no convolution whose input gradient this is. The convolution of the same weight and geometry
    (which gives back a larger output) runs on oneDNN before or after it: neither call takes the other's."""
    monkeypatch.setattr(onednn, "_convolutions", type(onednn._convolutions)())
    x, w, b = _data((2, 4, 5, 5), (4, 3, 3, 3), True, seed=2)
    options = {"stride": 2, "padding": 1, "output_padding": 2, "dilation": 3}

    def convolution():
        y = engine.nn.functional.conv2d(engine.tensor(np.zeros((2, 3, 15, 15), np.float32)),
                                        engine.tensor(w, requires_grad=True), stride=2, padding=1, dilation=3)
        assert y.shape == (2, 4, 6, 6) and y.grad_fn._impl.name == "onednn"

    if convolution_first:
        convolution()
    ours, our_grads = _run(engine, x, w, b, options)
    assert ours.grad_fn._impl.name != "onednn"
    convolution()
    theirs, their_grads = _run(torch, x, w, b, options)
    np.testing.assert_allclose(ours.detach().numpy(), theirs.detach().numpy(), rtol=1e-4, atol=1e-5)
    for mine, expected in zip(our_grads, their_grads, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-4)


def test_backward_keeps_the_convolution_of_its_forward():
    """Switching oneDNN off between forward and backward leaves the call's backward on oneDNN."""
    x, w, b = _data((2, 8, 5, 5), (8, 4, 4, 4), True, seed=4)
    options = {"stride": 2, "padding": 1}
    xt, wt, bt = (engine.tensor(a, requires_grad=True) for a in (x, w, b))
    y = engine.nn.functional.conv_transpose2d(xt, wt, bt, **options)
    assert y.grad_fn._impl.name == "onednn"
    with engine.backends.mkldnn.flags(enabled=False):
        (y * y).sum().backward()
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, w, b)]
    ty = torch.nn.functional.conv_transpose2d(*theirs, **options)
    (ty * ty).sum().backward()
    for mine, expected in zip((xt, wt, bt), theirs, strict=True):
        np.testing.assert_allclose(mine.grad.numpy(), expected.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_second_derivatives():
    x, w, b = _data((2, 8, 4, 4), (8, 4, 4, 4), True, seed=3)
    results = []
    for m in (engine, torch):
        xt, wt, bt = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        y = m.nn.functional.conv_transpose2d(xt, wt, bt, stride=2, padding=1)
        if m is engine:
            assert y.grad_fn._impl.name == "onednn"
        gx, gw = m.autograd.grad((y * y).sum(), (xt, wt), create_graph=True)
        ((gx * gx).sum() + (gw * gw).sum()).backward()
        results.append([gx.detach().numpy(), gw.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(),
                        bt.grad.numpy()])
    for mine, expected in zip(*results, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=1e-4, atol=1e-4)
