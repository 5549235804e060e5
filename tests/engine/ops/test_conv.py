"""conv2d (engine/ops/conv.py) beyond the op table (``op_table/conv_pool.py``): chains of layers (the CIFAR-10
Net's, float32 throughout), large batches built in several column blocks, the empty batch, the graph node's
name, and a gradcheck that runs without torch."""

from __future__ import annotations

import numpy as np
import pytest
from op_table.conv_pool import F, np_conv
from optest import HAVE_TORCH, check, requires_torch, run_gradcheck

import engine
from engine.ops.conv import conv2d
from engine.ops.pad import pad
from engine.ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d

TOL = {"atol": 1e-4, "rtol": 1e-4}


def test_conv2d_chain_and_grad_fn():
    """A conv feeding a conv (the layout of one output is the next one's input) and the node's name."""
    check(
        lambda m, x, w1, w2: F(m).conv2d(F(m).conv2d(x, w1, padding=1).relu(), w2, stride=2),
        [(2, 3, 6, 6), (4, 3, 3, 3), (5, 4, 3, 3)],
        gradcheck=True,
        **TOL,
    )
    x = engine.randn(1, 3, 5, 5)
    w = engine.randn(2, 3, 3, 3, requires_grad=True)
    out = conv2d(x, w)
    assert out.grad_fn.name() == "ConvolutionBackward0"
    assert out.is_contiguous()
    assert out.dtype == engine.float32


def test_conv2d_large_batch_blocks():
    """Enough images that the column matrix is built in several blocks."""
    # weight and bias gradients sum ~30,000 float32 products: compare relative to their size
    loose = {"grad_atol": 1e-2, "grad_rtol": 1e-3, **TOL}
    check(
        lambda m, x, w, b: F(m).conv2d(x, w, b),
        [(40, 3, 32, 32), (6, 3, 5, 5), (6,)],
        gradcheck=False,
        np_fn=np_conv,
        **loose,
    )
    check(
        lambda m, x, w, b: F(m).conv2d(x, w, b, padding=1, groups=2),
        [(70, 4, 14, 14), (8, 2, 3, 3), (8,)],
        gradcheck=False,
        np_fn=lambda x, w, b: np_conv(x, w, b, padding=1, groups=2),
        **loose,
    )


def test_conv2d_empty_batch():
    out = conv2d(engine.zeros(0, 3, 5, 5), engine.randn(2, 3, 3, 3), engine.randn(2))
    assert tuple(out.shape) == (0, 2, 3, 3)


def test_lenet_layers_chain():
    def net(m, x, w1, b1, w2, b2):
        f = F(m)
        y = f.max_pool2d(f.conv2d(x, w1, b1).relu(), 2)
        y = f.max_pool2d(f.conv2d(y, w2, b2).relu(), 2)
        return y.view(-1, 16 * 5 * 5)

    out = check(
        net,
        [(4, 3, 32, 32), (6, 3, 5, 5), (6,), (16, 6, 5, 5), (16,)],
        grad=[False, True, True, True, True],
        gradcheck=False,
        **TOL,
    )
    assert out.dtype == engine.float32


def test_float32_stays_float32():
    x = engine.randn(2, 3, 8, 8, requires_grad=True)
    w = engine.randn(4, 3, 3, 3, requires_grad=True)
    b = engine.randn(4, requires_grad=True)
    y = avg_pool2d(max_pool2d(conv2d(x, w, b, padding=1), 2), 2, padding=1)
    y = adaptive_avg_pool2d(pad(y, (1, 1, 1, 1), mode="reflect"), (2, 3))
    y.sum().backward()
    for t in (y, x.grad, w.grad, b.grad):
        assert t.dtype == engine.float32


@pytest.mark.skipif(HAVE_TORCH, reason="covered against torch")
def test_gradcheck_without_torch_smoke():
    arrays = [np.random.default_rng(0).standard_normal(s) for s in ((1, 2, 5, 5), (3, 2, 3, 3))]
    run_gradcheck(lambda m, x, w: conv2d(x, w, padding=1, stride=2), arrays, [True, True])


@requires_torch
def test_torch_reference_is_used():
    """Guard: with torch present, the comparisons really run against it."""
    import torch

    assert hasattr(torch.nn.functional, "conv2d")
