"""Dropout (engine/ops/dropout.py) beyond the op table: the random masks' statistics, seeds, in-place use,
channel masks and the unusual-rank warnings."""

from __future__ import annotations

import types

import numpy as np
import pytest
from optest import check_error, torch

import engine
from engine.ops import activation, dropout, loss, norm

# The engine's functions under PyTorch's names, so one lambda runs on both frameworks.
EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (loss, norm, activation, dropout) for name in mod.__all__}
)


def F(m):
    return EF if m is engine else torch.nn.functional


@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_mask_in_gradient(p):
    engine.manual_seed(0)
    x = engine.ones(200_000, requires_grad=True)
    y = EF.dropout(x, p)
    assert y.grad_fn.name() == "MulBackward0" and y.dtype == engine.float32
    v = y.detach().numpy()
    zero = v == 0
    assert abs(zero.mean() - p) < 0.01
    np.testing.assert_allclose(v[~zero], 1 / (1 - p), rtol=1e-6)
    assert abs(v.mean() - 1) < 0.02
    y.backward(engine.full((200_000,), 3.0))
    g = x.grad.numpy()
    np.testing.assert_array_equal(g == 0, zero)
    np.testing.assert_allclose(g[~zero], 3 / (1 - p), rtol=1e-6)


def test_dropout_identity_cases_and_seed():
    x = engine.randn(5, 4, requires_grad=True)
    assert EF.dropout(x, 0.5, training=False) is x
    assert EF.dropout(x, 0.0) is x
    assert EF.dropout2d(engine.randn(2, 3, 4, 4), 0.3, training=False).shape == (2, 3, 4, 4)
    z = EF.dropout(x, 1.0)
    assert (z.detach().numpy() == 0).all() and z.requires_grad
    engine.manual_seed(3)
    a = EF.dropout(x, 0.5).detach().numpy()
    engine.manual_seed(3)
    b = EF.dropout(x, 0.5).detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_float64_and_inplace():
    x = engine.randn(1000, dtype=engine.float64)
    y = EF.dropout(x, 0.3)
    assert y.dtype == engine.float64
    h = x.clone()
    out = EF.dropout(h, 0.5, inplace=True)
    assert out is h and ((h.numpy() == 0) | np.isclose(h.numpy(), 2 * x.numpy())).all()
    w = engine.randn(100, requires_grad=True)
    v = w * 1
    EF.dropout(v, 0.5, inplace=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy() == 0, v.detach().numpy() == 0)


def test_dropout_channels():
    engine.manual_seed(1)
    x = engine.ones(64, 32, 3, 3, requires_grad=True)
    y = EF.dropout2d(x, 0.4)
    v = y.detach().numpy()
    per_channel = v.reshape(64, 32, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 0.05
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() == 0, v == 0)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y3 = EF.dropout2d(engine.ones(8, 16, 10), 0.5)
    assert (y3.numpy().min(-1) == y3.numpy().max(-1)).all()
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        EF.dropout2d(engine.ones(8, 16), 0.5)
    u = EF.dropout1d(engine.ones(16, 10), 0.5).numpy()
    assert (u.min(-1) == u.max(-1)).all()
    d3 = EF.dropout3d(engine.ones(4, 8, 2, 2, 2), 0.5).numpy().reshape(4, 8, -1)
    assert (d3.min(-1) == d3.max(-1)).all()


def test_dropout_integer_input_error():
    check_error(
        lambda m, x: F(m).dropout(x),
        RuntimeError,
        "result type Float can't be cast to the desired output type Long",
        [np.arange(5)],
    )
