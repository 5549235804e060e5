"""The compiled Cholesky factor and lower-triangular inverse (``engine/linalg/cholesky_kernels.py``) on stacks
split over the threads, against PyTorch and NumPy, and PyTorch's error for a matrix that is not
positive-definite."""

import numpy as np
import pytest
import torch

import engine
from engine.linalg import cholesky_kernels, lu_kernels


def _spd(batch, n, dtype=np.float32):
    a = np.random.default_rng(0).standard_normal((batch, n, n))
    return (a @ a.transpose(0, 2, 1) / n + np.eye(n)).astype(dtype)


@pytest.mark.parametrize("n", [1, 7, 32, lu_kernels.SMALL])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_factor_and_inverse_match(n, dtype):
    a = _spd(600, n, dtype)
    low, info = cholesky_kernels.potrf(a)
    assert low.dtype == dtype and not info.any()
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(low, torch.linalg.cholesky(torch.tensor(a)).numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(cholesky_kernels.lower_inverse(low), np.linalg.inv(low.astype(np.float64)),
                               rtol=10 * tol, atol=10 * tol)


def test_first_minor_that_is_not_positive_definite():
    bad = np.array([[4.0, 2.0, 0.0], [2.0, 1.0, 0.0], [0.0, 0.0, 1.0]])  # the 2x2 minor is singular
    nan = np.eye(3)
    nan[2, 2] = np.nan
    _, info = cholesky_kernels.potrf(np.stack([np.eye(3), bad, nan]))
    np.testing.assert_array_equal(info, [0, 2, 3])


def test_cholesky_of_a_threaded_stack_with_a_failure_raises_torchs_error():
    a = _spd(1000, 16)
    a[700] = -np.eye(16, dtype=np.float32)
    with pytest.raises(engine.linalg.LinAlgError, match=r"\(Batch element 700\): The factorization could not be "
                                                        r"completed .*\(the leading minor of order 1 is not"):
        engine.linalg.cholesky(engine.tensor(a))
