"""The compiled float32 softmax (``softmax_kernels``) against PyTorch's: rows of every length around the kernels'
chains of eight, extreme and non-finite values, the gradient; and inside attention, whose rows of masked-out keys
give zeros."""

import numpy as np
import pytest
import torch

import engine
from engine.ops import jit, softmax_kernels
from engine.ops.softmax import _CompiledSoftmax

pytestmark = pytest.mark.skipif(jit.numba() is None, reason="numba is not installed")


def _both(m, x, g):
    """(softmax over the last axis, the input's gradient for output gradient ``g``) in framework ``m``."""
    X = m.tensor(x, requires_grad=True)
    y = m.softmax(X, dim=-1)
    y.backward(m.tensor(g))
    return y.detach().numpy(), X.grad.numpy()


@pytest.mark.parametrize("length", [1, 2, 7, 8, 9, 16, 65, 1000, 512])
def test_rows_of_every_length_as_pytorch(length, two_threads):
    """Rows around the maximum's chains of eight; 300 rows of 512 are shared over two threads."""
    rng = np.random.default_rng(length)
    x = (rng.standard_normal((300, length) if length == 512 else (6, 5, length)) * 4).astype(np.float32)
    g = rng.standard_normal(x.shape).astype(np.float32)
    assert softmax_kernels.takes(x)
    assert jit.RangeKernel.shares(x.shape[0], x.size) == (2 if length == 512 else 1)
    ours, theirs = _both(engine, x, g), _both(torch, x, g)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=2e-6, atol=1e-7)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6)  # g - sum(g y) cancels


ROWS = {"huge logits": [3e38, -3e38, 1e30, 0.0, 5.0], "tiny differences": [1e-7, 0.0, -1e-7, 2e-7, 0.0],
        "one -inf": [-np.inf, 1.0, 2.0, 3.0, 4.0], "all -inf": [-np.inf] * 5, "one +inf": [1.0, np.inf, 2.0, 0.0, 3.0],
        "a NaN": [1.0, 2.0, np.nan, 0.0, 1.0], "below exp's range": [0.0, -100.0, -200.0, -90.0, -87.5]}


@pytest.mark.parametrize("name", ROWS)
def test_extreme_rows_as_pytorch(name):
    """Shifted by the maximum: rows of -inf, and rows with +inf or NaN, give NaN, as PyTorch's, and so do their
    gradients; log_softmax (array code) too."""
    x = np.tile(np.array(ROWS[name], np.float32), (3, 2))  # 10 values a row: a chain of eight and a rest
    g = np.random.default_rng(4).standard_normal(x.shape).astype(np.float32)
    ours, theirs = _both(engine, x, g), _both(torch, x, g)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6, atol=1e-30, equal_nan=True)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-5, atol=1e-6, equal_nan=True)
    logs = [m.log_softmax(m.tensor(x), dim=-1).numpy() for m in (engine, torch)]
    np.testing.assert_allclose(logs[0], logs[1], rtol=1e-6, atol=1e-6, equal_nan=True)


def test_a_masked_out_row_of_attention_gives_zeros_on_the_kernel():
    """Attention's safe softmax on the compiled kernel: a query whose every key is masked out attends to nothing
    (zeros, and a zero gradient); one whose keys are masked out but one NaN gives NaN; the others as PyTorch's."""
    rng = np.random.default_rng(2)
    q, k, v = (rng.standard_normal((2, 3, 9, 16)).astype(np.float32) for _ in range(3))
    mask = np.zeros((9, 9), np.float32)
    mask[4] = -np.inf
    mask[6] = -np.inf
    mask[6, 2] = np.nan
    results = []
    for m in (engine, torch):
        tensors = [m.tensor(a, requires_grad=True) for a in (q, k, v)]
        out = m.nn.functional.scaled_dot_product_attention(*tensors, attn_mask=m.tensor(mask))
        out.sum().backward()
        results.append([out.detach().numpy(), *(t.grad.numpy() for t in tensors)])
    assert np.all(results[0][0][:, :, 4] == 0) and np.all(np.isnan(results[0][0][:, :, 6]))
    for a, t in zip(*results, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-4, atol=1e-5, equal_nan=True)


@pytest.mark.parametrize("case", ["float64", "a transposed input", "another axis"])
def test_what_the_kernel_does_not_take_goes_to_array_code(case):
    """float64, a non-contiguous input and an axis other than the last are computed as before, as PyTorch's."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 5)).astype(np.float64 if case == "float64" else np.float32)
    g = rng.standard_normal(x.size).astype(x.dtype)
    given = x.transpose(0, 2, 1) if case == "a transposed input" else x
    assert not _CompiledSoftmax.applies(given, 1 if case == "another axis" else 2)
    results = []
    for m in (engine, torch):
        X = m.tensor(x, requires_grad=True)
        y = m.softmax(X.transpose(1, 2) if case == "a transposed input" else X, dim=1 if case == "another axis"
                      else -1)
        y.backward(m.tensor(g.reshape(tuple(y.shape))))
        results.append([y.detach().numpy(), X.grad.numpy()])
    for a, t in zip(*results, strict=True):
        np.testing.assert_allclose(a, t, rtol=1e-5, atol=1e-6)


def test_without_numba_softmax_and_attention_take_array_code(monkeypatch):
    """Where numba cannot be imported the kernels are not taken (they would fail to build): the same results."""
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 9, 16)).astype(np.float32)
    with_kernels = [engine.softmax(engine.tensor(x), dim=-1).numpy(),
                    engine.nn.functional.scaled_dot_product_attention(*(engine.tensor(x),) * 3).numpy()]
    monkeypatch.setattr(jit, "numba", lambda: None)
    assert not softmax_kernels.takes(x)
    without = [engine.softmax(engine.tensor(x), dim=-1).numpy(),
               engine.nn.functional.scaled_dot_product_attention(*(engine.tensor(x),) * 3).numpy()]
    for a, b in zip(with_kernels, without, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
