"""The backend's threaded elementwise path gives exactly NumPy's results, in every case it accepts or
declines, and thread settings behave like PyTorch's."""

import os

import numpy as np
import pytest

import engine
from engine import backend


@pytest.mark.parametrize("b_shape", [(600, 500), (500,), (1, 500), (600, 1), ()])
@pytest.mark.parametrize("ufunc", [np.add, np.multiply, np.subtract, np.true_divide])
def test_threaded_binary_matches_numpy(ufunc, b_shape):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((600, 500)).astype(np.float32)
    assert a.size >= backend.PARALLEL_MIN_SIZE
    b = rng.standard_normal(b_shape).astype(np.float32) + 3 if b_shape else 2.5
    np.testing.assert_array_equal(backend.cpu_binary(ufunc, a, b), ufunc(a, b))
    np.testing.assert_array_equal(backend.cpu_binary(ufunc, a.T, b if not b_shape else np.float32(2)),
                                  ufunc(a.T, b if not b_shape else np.float32(2)))


def test_tensor_ops_on_large_arrays():
    x = engine.randn(700, 400)
    y = engine.randn(400)
    np.testing.assert_array_equal((x + y).numpy(), x.numpy() + y.numpy())
    np.testing.assert_array_equal((x * 2.0).numpy(), x.numpy() * np.float32(2.0))


def test_num_threads():
    before = backend.get_num_threads()
    backend.set_num_threads(1)
    x = engine.randn(700, 400)
    np.testing.assert_array_equal((x + x).numpy(), x.numpy() * 2)
    with pytest.raises(RuntimeError, match="must be positive"):
        backend.set_num_threads(0)
    backend.set_num_threads(before)
    assert backend.get_num_threads() == before


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("shapes", [((300, 400), (400, 500)), ((600, 300), (300, 20)), ((8, 20000), (20000, 75)),
                                    ((5, 7), (7, 3))], ids=["rows", "tall", "columns", "small"])
def test_threaded_matmul_matches_numpy(shapes, threads):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shapes[0]).astype(np.float32)
    b = rng.standard_normal(shapes[1]).astype(np.float32)
    before = backend.get_num_threads()
    backend.set_num_threads(threads)
    try:
        for x, y in ((a, b), (np.asfortranarray(a), b[:, ::-1])):
            out = backend.cpu_matmul(x, y)
            assert out.dtype == np.float32 and out.flags.c_contiguous
            np.testing.assert_allclose(out, x @ y, rtol=1e-5, atol=1e-4)
    finally:
        backend.set_num_threads(before)


def test_numpys_blas_runs_one_thread_per_call():
    """The engine splits its products over its own threads; BLAS threads of their own would spin and take a
    core from the engine's convolution kernels (see ``backend._one_blas_thread``)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    blas = threadpoolctl.ThreadpoolController().select(user_api="blas").info()
    numpys = [lib for lib in blas if f"{os.sep}numpy" in lib["filepath"]]  # not SciPy's own, loaded later
    assert numpys and all(lib["num_threads"] == 1 for lib in numpys)
