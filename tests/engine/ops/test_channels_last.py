"""Channels-last inputs (a channel LayerNorm's permuted output, as ConvNeXt's blocks make them) through the ops
that keep that layout (engine/ops/dense.py): 1x1 convolutions as one product, depthwise convolutions on narrow
planes, GELU and large arithmetic; values and gradients against PyTorch, and the layout of what they return."""

import numpy as np
import pytest
from optest import torch

import engine
from engine import backend
from engine.ops import binary_kernels, conv, dense, jit
from engine.threads import PARALLEL_MIN_SIZE

pytestmark = pytest.mark.skipif(jit.numba() is None, reason="numba is not installed")

CHANNELS_LAST = (0, 2, 3, 1)


def _channels_last(m, a, requires_grad=False):
    """A (N, C, H, W) tensor of framework ``m`` stored channels-last, from the (N, H, W, C) array ``a``: the leaf
    (which holds the gradient) and its permuted view."""
    leaf = m.tensor(a, requires_grad=requires_grad)
    return leaf, leaf.permute(0, 3, 1, 2)


def test_memory_order():
    a = np.zeros((2, 3, 4, 5), np.float32)
    assert dense.memory_order(a) == (0, 1, 2, 3)
    assert dense.memory_order(a.transpose(0, 3, 1, 2)) == (0, 2, 3, 1)
    assert dense.memory_order(a[:, :, ::2]) is None
    made = dense.like(a.transpose(0, 3, 1, 2), (0, 2, 3, 1))
    assert made.shape == (2, 5, 3, 4) and dense.memory_order(made) == (0, 2, 3, 1)


@pytest.mark.parametrize("bias", [True, False])
def test_pointwise_convolution_of_a_channels_last_input(bias):
    """A 1x1 convolution of a channels-last input takes the one-product path, returns channels-last, and its
    output and gradients (input, weight, bias) equal PyTorch's."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 8, 8, 48)).astype(np.float32)
    w = rng.standard_normal((96, 48, 1, 1)).astype(np.float32) * 0.1
    b = rng.standard_normal(96).astype(np.float32)
    g = rng.standard_normal((4, 96, 8, 8)).astype(np.float32)
    x_cl = np.ascontiguousarray(a).transpose(0, 3, 1, 2)
    assert backend.choose(conv.Conv2d.implementations, [x_cl, w, *([b] if bias else [])], {}).name == "pointwise"
    results = []
    for m in (engine, torch):
        leaf, x = _channels_last(m, a, requires_grad=True)
        wt = m.tensor(w, requires_grad=True)
        bt = m.tensor(b, requires_grad=True) if bias else None
        y = m.nn.functional.conv2d(x, wt, bt)
        y.backward(m.tensor(g))
        if m is engine:
            assert dense.memory_order(y.detach().numpy()) == CHANNELS_LAST
        results.append([y.detach().numpy(), leaf.grad.numpy(), wt.grad.numpy(), *([bt.grad.numpy()] if bias else [])])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_depthwise_convolution_keeps_channels_last():
    """The lanes kernel reads a channels-last input as it lies and writes its output channels-last."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((3, 8, 8, 40)).astype(np.float32)
    w = rng.standard_normal((40, 1, 7, 7)).astype(np.float32) * 0.1
    g = rng.standard_normal((3, 40, 8, 8)).astype(np.float32)
    results = []
    for m in (engine, torch):
        leaf, x = _channels_last(m, a, requires_grad=True)
        y = m.nn.functional.conv2d(x, m.tensor(w), padding=3, groups=40)
        y.backward(m.tensor(g))
        if m is engine:
            assert dense.memory_order(y.detach().numpy()) == CHANNELS_LAST
        results.append([y.detach().numpy(), leaf.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def test_gelu_and_arithmetic_keep_channels_last():
    """GELU, and a residual sum of two channels-last arrays large enough for threads, return channels-last and
    equal NumPy's and PyTorch's values."""
    rng = np.random.default_rng(2)
    a, c = (rng.standard_normal((4, 16, 16, 2 * PARALLEL_MIN_SIZE // 1024)).astype(np.float32) for _ in range(2))
    x, y = np.ascontiguousarray(a).transpose(0, 3, 1, 2), np.ascontiguousarray(c).transpose(0, 3, 1, 2)
    assert binary_kernels.applies(np.add, x, y) == (jit.kernel_threads(x.size) > 1)
    total = engine.tensor(a).permute(0, 3, 1, 2) + engine.tensor(c).permute(0, 3, 1, 2)
    np.testing.assert_array_equal(total.numpy(), x + y)
    assert dense.memory_order(total.numpy()) == CHANNELS_LAST
    out = engine.nn.functional.gelu(engine.tensor(a).permute(0, 3, 1, 2))
    assert dense.memory_order(out.numpy()) == CHANNELS_LAST
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.gelu(torch.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("rows", [3, PARALLEL_MIN_SIZE // 64 + 1], ids=["small", "threaded"])
def test_add_row_in_place(rows):
    out = np.random.default_rng(3).standard_normal((rows, 64)).astype(np.float32)
    row = np.arange(64, dtype=np.float32)
    expected = out + row
    binary_kernels.add_row_(out, row)
    np.testing.assert_array_equal(out, expected)

