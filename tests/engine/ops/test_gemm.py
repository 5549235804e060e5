"""Products of host matrices (engine/ops/gemm.py): oneDNN's sgemm for float32 with enough work, NumPy's BLAS
otherwise; every operand layout, against NumPy in float64 and against PyTorch through a linear layer."""

import numpy as np
import pytest
from optest import torch

import engine
from engine.ops import gemm, onednn

needs_onednn = pytest.mark.skipif(not engine.backends.mkldnn.is_available(),
                                  reason="oneDNN (onednn-cpu-gomp) does not load here")


def _operand(rng, shape, layout):
    """A float32 matrix of ``shape`` stored C-ordered, Fortran-ordered (a transposed view) or strided."""
    if layout == "c":
        return rng.standard_normal(shape).astype(np.float32)
    if layout == "f":
        return np.ascontiguousarray(rng.standard_normal(shape[::-1]).astype(np.float32)).T
    return rng.standard_normal((shape[0], 2 * shape[1])).astype(np.float32)[:, ::2]


@needs_onednn
@pytest.mark.parametrize("a_layout", ["c", "f", "strided"])
@pytest.mark.parametrize("b_layout", ["c", "f", "strided"])
def test_sgemm_takes_every_layout(a_layout, b_layout, monkeypatch):
    """Above ``GEMM_MIN_MACS`` the product goes to sgemm, whatever the operands' order, and equals the float64
    product within float32's rounding."""
    calls = []
    sgemm = onednn.sgemm
    monkeypatch.setattr(onednn, "sgemm", lambda a, b: calls.append(1) or sgemm(a, b))
    rng = np.random.default_rng(0)
    a, b = _operand(rng, (150, 70), a_layout), _operand(rng, (70, 60), b_layout)
    assert a.shape[0] * a.shape[1] * b.shape[1] >= gemm.GEMM_MIN_MACS
    out = gemm.matmul(a, b)
    assert calls and out.dtype == np.float32 and out.shape == (150, 60)
    np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64), rtol=1e-5, atol=1e-4)


def test_small_and_float64_products_stay_on_numpy(monkeypatch):
    """Below the threshold, and in float64, the product is NumPy's."""
    calls = []
    monkeypatch.setattr(onednn, "sgemm", lambda a, b: calls.append(1))
    rng = np.random.default_rng(1)
    small = rng.standard_normal((4, 400)).astype(np.float32), rng.standard_normal((400, 120)).astype(np.float32)
    wide = rng.standard_normal((150, 70)), rng.standard_normal((70, 60))
    for a, b in (small, wide):
        np.testing.assert_array_equal(gemm.matmul(a, b), a @ b)
    assert not calls


def test_switched_off_onednn_leaves_products_to_numpy(monkeypatch):
    """``torch.backends.mkldnn.enabled = False`` (``onednn.enabled``) keeps sgemm out too."""
    monkeypatch.setattr(onednn, "enabled", False)
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((150, 70)).astype(np.float32), rng.standard_normal((70, 60)).astype(np.float32)
    assert onednn.sgemm(a, b) is None
    np.testing.assert_array_equal(gemm.matmul(a, b), a @ b)


@needs_onednn
def test_linear_layer_on_sgemm_matches_pytorch():
    """A linear layer's output, input gradient and weight gradient (the products x w^T, g w and g^T x, two of
    them with a transposed operand) against PyTorch's."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal((512, 96)).astype(np.float32)
    w = rng.standard_normal((192, 96)).astype(np.float32) * 0.1
    b = rng.standard_normal(192).astype(np.float32)
    g = rng.standard_normal((512, 192)).astype(np.float32)
    results = []
    for m in (engine, torch):
        layer = m.nn.Linear(96, 192)
        layer.weight.data, layer.bias.data = m.tensor(w), m.tensor(b)
        xt = m.tensor(x, requires_grad=True)
        y = layer(xt)
        y.backward(m.tensor(g))
        results.append((y.detach().numpy(), xt.grad.numpy(), layer.weight.grad.numpy(), layer.bias.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("shape", [(4, 65, 96), (2, 3, 40, 96), (3, 0, 96)], ids=["sequence", "4-d", "empty"])
def test_a_stack_of_matrices_times_a_matrix_is_one_product(shape):
    """(..., n, k) @ (k, m) as one product of the stack's rows (NumPy's batched loop runs one matrix at a time),
    equal to NumPy's result: through sgemm where it is large enough, C-ordered or not."""
    rng = np.random.default_rng(4)
    b = rng.standard_normal((96, 288)).astype(np.float32)
    for a in (rng.standard_normal(shape).astype(np.float32), rng.standard_normal(shape[::-1]).astype(np.float32).T):
        out = gemm.matmul(a, b)
        assert out.shape == (*shape[:-1], 288)
        np.testing.assert_allclose(out, a.astype(np.float64) @ b, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("bias_shape", [(1,), ()], ids=["one-value", "0-d"])
def test_linear_bias_that_broadcasts(bias_shape):
    """A one-value bias broadcast over a large output, as PyTorch's ``addmm`` takes it (the threaded bias add takes
    only a full row), and its gradient summed back to its own shape."""
    rng = np.random.default_rng(5)
    x, w = rng.standard_normal((140_000, 3)).astype(np.float32), rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal(bias_shape).astype(np.float32)
    results = []
    for m in (engine, torch):
        bt = m.tensor(b, requires_grad=True)
        y = m.nn.functional.linear(m.tensor(x), m.tensor(w), bt)
        y.sum().backward()
        results.append((y.detach().numpy(), bt.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-4)


def test_sgemm_refuses_matrices_that_do_not_chain():
    a, b = np.ones((600, 40), np.float32), np.ones((41, 30), np.float32)
    assert onednn.sgemm(a, b) is None
    with pytest.raises(ValueError):
        gemm.matmul(a, b)
