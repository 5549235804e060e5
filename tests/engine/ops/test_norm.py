"""Normalisation (engine/ops/norm.py) beyond the op table: batch_norm's running statistics (against PyTorch,
over steps and in place), large channels with large means on both implementations, an int normalized_shape."""

from __future__ import annotations

import types

import numpy as np
import pytest
from optest import check, requires_torch, torch

import engine
from engine.ops import activation, dropout, loss, norm

# The engine's functions under PyTorch's names, so one lambda runs on both frameworks.
EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (loss, norm, activation, dropout) for name in mod.__all__}
)


def F(m):
    return EF if m is engine else torch.nn.functional


BN_SHAPES = [(8, 3), (4, 3, 5), (4, 3, 3, 2)]


@requires_torch
@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm(shape, training, affine):
    rng = np.random.default_rng(7)
    rm = rng.standard_normal(3).astype(np.float32)
    rv = rng.uniform(0.5, 2, 3).astype(np.float32)
    stats = {}

    def fn(m, x, *wb):
        stats[m] = (m.tensor(rm.copy()), m.tensor(rv.copy()))
        return F(m).batch_norm(x * 2 + 1, *stats[m], *wb, training=training, momentum=0.3, eps=1e-4)

    check(fn, [shape] + ([(3,), (3,)] if affine else []), grad_atol=2e-5)
    for e, t in zip(stats[engine], stats[torch]):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_of_large_channels_with_large_means(training, compiled):
    """Channels big enough to be split over the threads, with means far from zero (so that normalising as
    x * scale - mean * scale would lose digits): both paths give PyTorch's values and gradients."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((16, 5, 40, 40)) + np.array([0, 300, -50, 1, 1e3])[:, None, None]).astype(np.float32)
    w, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    results = []
    for m in (engine, torch):
        X, W, B = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = m.tensor(x.mean(axis=(0, 2, 3))), m.tensor(x.var(axis=(0, 2, 3)))
        with engine.backend.prefer("compiled" if compiled else "generic"):
            y = F(m).batch_norm(X, rm, rv, W, B, training=training)
            y.backward(m.tensor(np.cos(np.arange(y.numel())).reshape(x.shape).astype(np.float32)))
        results.append([y.detach().numpy(), X.grad.numpy(), W.grad.numpy(), B.grad.numpy(), rm.numpy(), rv.numpy()])
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-4 * max(1.0, float(np.abs(e).max())))


@requires_torch
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_running_stats_over_steps(shape):
    rng = np.random.default_rng(8)
    e_stats = [engine.zeros(3), engine.ones(3)]
    t_stats = [torch.zeros(3), torch.ones(3)]
    w = rng.random(3).astype(np.float32)
    for step in range(5):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        e = EF.batch_norm(engine.tensor(x), *e_stats, engine.tensor(w), None, training=True, momentum=0.2)
        t = torch.nn.functional.batch_norm(
            torch.tensor(x), *t_stats, torch.tensor(w), None, training=True, momentum=0.2
        )
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
        for es, ts in zip(e_stats, t_stats):
            np.testing.assert_allclose(es.numpy(), ts.numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal(shape).astype(np.float32)
    e = EF.batch_norm(engine.tensor(x), *e_stats, training=False)
    t = torch.nn.functional.batch_norm(torch.tensor(x), *t_stats, training=False)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)


def test_layer_norm_int_normalized_shape():
    assert EF.layer_norm(engine.ones(2, 3), 3).shape == (2, 3)  # an int, as nn.LayerNorm accepts


def test_batch_norm_updates_running_stats_in_place():
    rm, rv = engine.zeros(2), engine.ones(2)
    arrays = (rm._data, rv._data)
    x = engine.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    EF.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm._data is arrays[0] and rv._data is arrays[1]
    np.testing.assert_allclose(rm.numpy(), [1.5, 3.0])
    np.testing.assert_allclose(rv.numpy(), [0.5 + 0.5 * 4.0, 0.5 + 0.5 * 16.0])  # unbiased variance
    y = EF.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.numpy().mean(0), [0, 0], atol=1e-6)
