"""The compiled LU of ``engine/linalg/lu_kernels.py`` on stacks big enough to be split over the threads and at
the orders where the op table's samples do not reach, against PyTorch and against the NumPy ``getrf``."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.linalg import lu_kernels
from engine.linalg.lu import getrf


def _stack(batch, n, dtype=np.float32, seed=0):
    """Well-conditioned matrices (eigenvalues in a disc of radius about 1 around 2)."""
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((batch, n, n)) / n ** 0.5 + 2 * np.eye(n)).astype(dtype)


@pytest.mark.parametrize("n", [1, 5, 32, lu_kernels.SMALL])
def test_factors_are_lapacks(n):
    a = np.random.default_rng(0).standard_normal((300, n, n))  # rows interchanged at most steps
    lu, pivots, info = lu_kernels.getrf(a)
    want_lu, want_pivots, want_info = getrf(np, a)
    np.testing.assert_array_equal(pivots, want_pivots)
    np.testing.assert_array_equal(info, want_info)
    np.testing.assert_allclose(lu, want_lu, rtol=1e-9, atol=1e-11)
    _, torch_pivots = torch.linalg.lu_factor(torch.tensor(a))
    np.testing.assert_array_equal(pivots, torch_pivots.numpy())


def test_zero_pivot_and_empty_stack():
    singular = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [1.0, 1.0, 1.0]])
    _, _, info = lu_kernels.getrf(np.stack([np.eye(3), singular]))
    np.testing.assert_array_equal(info, [0, 3])
    lu, pivots, info = lu_kernels.getrf(np.zeros((0, 4, 4), np.float32))
    assert lu.shape == (0, 4, 4) and pivots.shape == (0, 4) and info.shape == (0,)


@pytest.mark.parametrize("transpose", [False, True])
def test_threaded_solve(transpose):
    a = _stack(1000, 32)
    b = np.random.default_rng(1).standard_normal((1000, 32, 3)).astype(np.float32)
    lu, pivots, _ = lu_kernels.getrf(a)
    x = lu_kernels.getrs(lu, pivots, b, transpose=transpose)
    ta = torch.tensor(a)
    want = torch.linalg.solve(ta.mT if transpose else ta, torch.tensor(b)).numpy()
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("op", ["inv", "det", "solve", "cholesky"])
def test_ops_on_a_threaded_stack_match_torch(op):
    """Forward and gradient of each op that takes the compiled LU, on 1000 matrices of order 32."""
    a = _stack(1000, 32)
    spd = a @ a.transpose(0, 2, 1) / 32 + np.eye(32, dtype=np.float32)
    b = np.random.default_rng(2).standard_normal((1000, 32, 4)).astype(np.float32)
    calls = {"inv": lambda m, x: m.linalg.inv(x), "det": lambda m, x: m.linalg.det(x / 2),
             "solve": lambda m, x: m.linalg.solve(x, m.tensor(b)), "cholesky": lambda m, x: m.linalg.cholesky(x)}
    x = spd if op == "cholesky" else a
    results = []
    for m, impl in ((engine, "numba"), (engine, "lapack"), (torch, None)):
        t = m.tensor(x, requires_grad=True)
        with backend.prefer(impl or "numba"):
            out = calls[op](m, t)
            (grad,) = m.autograd.grad((out * out).sum(), t)
        results.append((out.detach().numpy(), grad.numpy()))
    (ours, ours_grad), (lapack, lapack_grad), (want, want_grad) = results
    scale = np.abs(want_grad).max()
    np.testing.assert_allclose(ours, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(lapack, want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours_grad, want_grad, rtol=1e-3, atol=1e-4 * scale)
    np.testing.assert_allclose(lapack_grad, want_grad, rtol=1e-3, atol=1e-4 * scale)


def test_larger_orders_take_lapack():
    assert lu_kernels.takes(np.zeros((2, 64, 64), np.float32))
    assert not lu_kernels.takes(np.zeros((2, 65, 65), np.float32))
    assert not lu_kernels.takes(np.zeros((2, 3, 3), np.float16))
    assert not lu_kernels.takes(np.zeros((3, 4), np.float32))
