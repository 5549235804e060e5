"""``sum()`` and ``mean()`` of all values of a large float array by the compiled kernel (``total_kernels``):
against PyTorch and an exact float64 sum at sizes around the kernel's threshold and its chunks, on one thread
and on two; keepdim; NaN and infinities; which calls take it; gradients."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops import total_kernels

# around the threshold, a partial last chunk, and sizes that two threads share unevenly
SIZES = [total_kernels.MIN_SIZE, total_kernels.MIN_SIZE + 1, 3 * total_kernels.CHUNK * 37 + 5, 1 << 20,
         (1 << 20) + 1000, 3 * total_kernels.CHUNK * 77 + 1023]


def _node(t):
    return t.grad_fn._impl.name


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", SIZES)
def test_matches_pytorch_and_an_exact_sum(size, dtype, threads):
    before = engine.get_num_threads()
    engine.set_num_threads(threads)
    try:
        a = (np.random.default_rng(size).standard_normal(size) + 0.25).astype(dtype).reshape(-1, 5 if size % 5 == 0
                                                                                          else 1)
        x = engine.tensor(a, requires_grad=True)
        s, m = x.sum(), x.mean()
    finally:
        engine.set_num_threads(before)
    assert _node(s) == _node(m) == "compiled"
    assert s.dtype == m.dtype == x.dtype and s.shape == m.shape == ()
    exact = np.sum(a.astype(np.float64))
    rtol = 1e-6 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(float(s.detach()), exact, rtol=rtol)
    np.testing.assert_allclose(float(m.detach()), exact / size, rtol=rtol)
    np.testing.assert_allclose(float(s.detach()), float(torch.tensor(a).sum()), rtol=rtol)
    np.testing.assert_allclose(float(m.detach()), float(torch.tensor(a).mean()), rtol=rtol)


def test_keepdim_all_dims_and_gradients():
    a = np.random.default_rng(1).standard_normal((64, 32, 33), dtype=np.float32)
    x = engine.tensor(a, requires_grad=True)
    named = x.sum(dim=(0, 1, 2), keepdim=True)  # all dims named: the same full reduction
    kept, m, m_kept = x.sum(keepdim=True), x.mean(), x.mean(dim=None, keepdim=True)
    assert named.shape == kept.shape == m_kept.shape == (1, 1, 1)
    assert {_node(t) for t in (named, kept, m, m_kept)} == {"compiled"}
    assert float(named) == float(kept) == float(x.sum(dim=(2, 0, 1))) == float(x.sum())
    (named.sum() * 2 + m * 3).backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(a.shape, 2 + 3 / a.size, np.float32), rtol=1e-6)
    np.testing.assert_allclose(float(named), np.sum(a.astype(np.float64)), rtol=1e-6)
    np.testing.assert_allclose(float(m_kept), np.mean(a.astype(np.float64)), rtol=1e-6)


def test_one_thread_and_two_agree_closely(two_threads):
    a = np.random.default_rng(2).standard_normal((1 << 20) + 777).astype(np.float32)
    two = float(engine.tensor(a).sum())
    engine.set_num_threads(1)
    one = float(engine.tensor(a).sum())
    np.testing.assert_allclose(two, one, rtol=1e-6)
    np.testing.assert_allclose(two, np.sum(a.astype(np.float64)), rtol=1e-6)


@pytest.mark.parametrize("threads", [1, 2])
def test_nan_and_infinities_propagate(threads, two_threads):
    engine.set_num_threads(threads)
    a = np.ones(1 << 18, np.float32)
    for values, where, expected in (([np.nan], [5000], np.nan), ([np.inf], [250000], np.inf),
                                    ([np.inf, -np.inf], [5000, 250000], np.nan),  # in different shares
                                    ([np.inf, -np.inf], [5000, 5001], np.nan),  # in one chunk
                                    ([-np.inf], [7], -np.inf)):
        b = a.copy()
        b[where] = values
        s = engine.tensor(b, requires_grad=True).sum()
        assert _node(s) == "compiled"
        got = float(s)
        assert got == expected or (np.isnan(expected) and np.isnan(got))


def test_which_calls_take_it():
    def impl(a, view=lambda t: t, **kw):
        return _node(view(engine.tensor(a, requires_grad=True)).sum(**kw))

    big = np.ones((256, 256), np.float32)
    assert impl(big) == "compiled"
    assert impl(big, view=lambda t: t[:, ::2]) != "compiled"  # not contiguous
    assert impl(big, dim=1) != "compiled"  # along a dim
    assert impl(np.ones(total_kernels.MIN_SIZE - 1, np.float32)) != "compiled"  # small
    assert impl(big.astype(np.float16)) != "compiled"
    with backend.disable("compiled"):
        assert impl(big) != "compiled"


def test_a_losss_reduction_equals_the_same_reduction_of_its_elements():
    """As in PyTorch, ``mse_loss`` equals ``((a - b) ** 2).mean()`` to the last bit, and ``l1_loss(reduction=
    "sum")`` equals ``(a - b).abs().sum()``: both reduce with the same kernel."""
    for seed in range(10):
        rng = np.random.default_rng(seed)
        a, b = (engine.tensor(rng.standard_normal((256, 256), dtype=np.float32)) for _ in range(2))
        assert float(engine.nn.functional.mse_loss(a, b)) == float(((a - b) ** 2).mean())
        assert float(engine.nn.functional.l1_loss(a, b, reduction="sum")) == float((a - b).abs().sum())
