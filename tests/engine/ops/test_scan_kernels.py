"""The compiled cumsum/cumprod, cummax/cummin, nansum and histc kernels where the op table's small samples
do not reach: work split over the threads (by rows, or by parts of one long line for nansum and histc),
against the generic path (bit for bit for the scans, whose order of operations is NumPy's, and histc)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.threads import PARALLEL_MIN_SIZE

_ROWS = (2 * PARALLEL_MIN_SIZE // 250 + 3, 250)  # rows not a multiple of 4: the kernels' remainder loop too


def _run(fn, impl):
    with backend.prefer(impl):
        return [t.detach().numpy().copy() for t in fn()]


def _input(shape, nans=False, ties=False):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, shape).astype(np.float32)
    if ties:
        x = np.round(4 * x) / 4
    if nans:
        x[rng.random(shape) < 0.05] = np.nan
    return engine.tensor(x, requires_grad=True), engine.tensor(rng.standard_normal(shape, dtype=np.float32))


@pytest.mark.parametrize("dim", [1, 0])
def test_threaded_cumsum_cumprod(dim):
    x, upstream = _input(_ROWS)

    def ops():
        s, p = engine.cumsum(x, dim), engine.cumprod(x, dim)
        return [s, p, *engine.autograd.grad(((s + p) * upstream).sum(), x)]

    ours, generic = _run(ops, "numba"), _run(ops, "generic")
    for a, b in zip(ours[:2], generic[:2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours[2], generic[2], rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("nans, ties", [(False, False), (True, False), (False, True)])
def test_threaded_cummax_cummin(nans, ties):
    x, upstream = _input(_ROWS, nans, ties)

    def ops():
        (hi, hi_at), (lo, lo_at) = engine.cummax(x, 1), engine.cummin(x, 1)
        return [hi, hi_at, lo, lo_at, *engine.autograd.grad(((hi + lo) * upstream).sum(), x)]

    ours, generic = _run(ops, "numba"), _run(ops, "accumulate")
    for a, b in zip(ours[:4], generic[:4]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours[4], generic[4], rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("dim", [1, 0])
def test_threaded_logcumsumexp(dim):
    """Against PyTorch, with wide values (the running maximum moves often), infinities and NaNs."""
    x, upstream = _input(_ROWS)
    data = x.detach().numpy()
    data *= 40
    data[::7, ::11] = -np.inf
    data[3, 5] = np.inf
    data[5, 7] = np.nan

    def ops():
        out = engine.logcumsumexp(x, dim)
        return [out, *engine.autograd.grad((out * upstream).sum(), x)]

    (ours, ours_grad), (generic, generic_grad) = _run(ops, "numba"), _run(ops, "accumulate")
    tx = torch.tensor(data, dtype=torch.float64, requires_grad=True)  # exact, to judge both paths' rounding
    want = torch.logcumsumexp(tx, dim)
    (want_grad,) = torch.autograd.grad((want * torch.tensor(upstream.numpy())).sum(), tx)
    want, want_grad = want.detach().numpy(), want_grad.numpy()
    np.testing.assert_allclose(ours, want, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(generic, want, rtol=1e-5, atol=1e-4)
    # The gradient is the difference of the upstream's positive and negative parts, each rounded to float32.
    np.testing.assert_allclose(ours_grad, want_grad, rtol=1e-4, atol=3e-4)
    np.testing.assert_allclose(generic_grad, want_grad, rtol=1e-3, atol=2e-3)


@pytest.mark.parametrize("kwargs", [{}, {"dim": 1}, {"dim": 0, "keepdim": True}])
def test_threaded_nansum(kwargs):
    x, _ = _input(_ROWS, nans=True)

    def ops():
        return [engine.nansum(x, **kwargs)]

    exact = x.detach().numpy().astype(np.float64)
    want = np.nansum(exact, axis=kwargs.get("dim"), keepdims=kwargs.get("keepdim", False))
    (ours,), (generic,) = _run(ops, "numba"), _run(ops, "masked")
    np.testing.assert_allclose(ours, want, rtol=1e-6)
    np.testing.assert_allclose(generic, want, rtol=1e-4)


@pytest.mark.parametrize("nans, bins, lo, hi", [(False, 100, 0, 0), (True, 7, 0.6, 1.4), (True, 1000, -1.0, 1.25)])
def test_threaded_histc(nans, bins, lo, hi):
    x, _ = _input(_ROWS, nans=nans)

    def ops():
        return [engine.histc(x.detach(), bins, lo, hi)]

    (ours,), (generic,) = _run(ops, "numba"), _run(ops, "generic")
    np.testing.assert_array_equal(ours, generic)
