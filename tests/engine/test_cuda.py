"""``engine.cuda`` (availability, device count, synchronize) on the CuPy stand-in and without CUDA, and the key
device checks of ``test_backend.py`` repeated on real CuPy, skipped where this machine has no CUDA GPU."""

import re

import numpy as np
import pytest
from device_support import (
    CREATORS,
    MIXED,
    MIXED_OPS,
    NUMPY_ON_CUDA,
    OPS,
    REAL_CUDA,
    REAL_CUDA_COUNT,
    SECOND_GPU_GRAD_OPS,
    SECOND_GPU_OPS,
    ZERO_DIM_OPS,
    assert_on,
    check_op_matches_cpu,
    real_cupy_available,
)
from fake_cupy import FakeCupy

import engine
from engine import backend


def test_cuda_unavailable_without_stand_in(no_cuda):
    assert engine.cuda.is_available() is False
    assert engine.cuda.device_count() == 0
    engine.cuda.synchronize()  # a no-op without CUDA, as in PyTorch


def test_cuda_available_with_stand_in(fake_cuda):
    assert engine.cuda.is_available() is True
    assert engine.cuda.device_count() == 2
    assert engine.cuda.current_device() == 0


def test_device_count_follows_the_installed_module(fake_cuda):
    backend.install_cuda_module(FakeCupy(device_count=3))
    assert engine.cuda.device_count() == 3
    backend.install_cuda_module(FakeCupy(device_count=0))
    assert engine.cuda.is_available() is False


def test_synchronize_reaches_the_module(fake_cuda):
    engine.cuda.synchronize()
    assert fake_cuda.synchronize_calls == 1

# ----- the same key checks on real CuPy -----
@pytest.mark.skipif(not REAL_CUDA, reason="no CUDA GPU (CuPy with a device) on this machine")
class TestRealCuPy:
    @pytest.fixture(autouse=True)
    def _real(self):
        backend.install_cuda_module(None)  # make sure no stand-in is left: probe real CuPy
        assert real_cupy_available()
        import cupy

        self.cupy = cupy
        yield

    def test_available(self):
        assert engine.cuda.is_available()
        assert engine.cuda.device_count() >= 1
        engine.cuda.synchronize()

    def test_to_cuda_and_back(self):
        x = engine.tensor([[1.0, 2.0], [3.0, 4.0]])
        y = x.cuda()
        assert_on(y, "cuda:0", self.cupy.ndarray)
        assert x.to("cuda", engine.float64).dtype == engine.float64
        assert y.to("cuda") is y
        z = y.cpu()
        assert_on(z, "cpu")
        np.testing.assert_array_equal(z.numpy(), x.numpy())

    @pytest.mark.parametrize("name", list(CREATORS))
    def test_creation_with_device(self, name):
        assert_on(CREATORS[name]("cuda"), "cuda:0", self.cupy.ndarray)

    @pytest.mark.parametrize("name, fn", OPS, ids=[n for n, _ in OPS])
    def test_op_on_cuda_matches_cpu(self, name, fn):
        check_op_matches_cpu(fn, "cuda:0", self.cupy.ndarray)

    def test_numpy_raises_and_host_conversions_work(self):
        x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
        with pytest.raises(TypeError) as info:
            x.numpy()
        assert str(info.value) == NUMPY_ON_CUDA.format("cuda:0")
        assert type(x.cpu().numpy()) is np.ndarray
        assert x.sum().item() == 10.0
        assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
        assert "device='cuda:0'" in repr(x)

    @pytest.mark.parametrize("name", list(MIXED_OPS))
    def test_mixing_cpu_and_cuda_raises(self, name):
        x, y = engine.randn(3, 4), engine.randn(3, 4, device="cuda")
        with pytest.raises(RuntimeError) as info:
            MIXED_OPS[name](x, y)
        assert str(info.value) in (MIXED.format("cpu", "cuda:0"), MIXED.format("cuda:0", "cpu"))

    @pytest.mark.parametrize("name", list(ZERO_DIM_OPS))
    def test_zero_dim_cpu_tensor_joins_cuda_tensor(self, name):
        out = ZERO_DIM_OPS[name](engine.tensor([-1.0, 0.5, 2.0], device="cuda"), engine.tensor(2.0))
        assert_on(out, "cuda:0", self.cupy.ndarray)

    def test_zero_dim_cpu_leaf_gets_cpu_grad(self):
        x = engine.tensor([1.0, 2.0, 3.0], device="cuda", requires_grad=True)
        s = engine.tensor(2.0, requires_grad=True)
        (x * s).sum().backward()
        assert_on(x.grad, "cuda:0", self.cupy.ndarray)
        assert_on(s.grad, "cpu")

    def test_backward_through_to_cuda_gives_cpu_grad(self):
        x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
        (x.to("cuda") ** 2).sum().backward()
        assert_on(x.grad, "cpu")
        np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])

    @pytest.mark.skipif(REAL_CUDA_COUNT < 2, reason="needs two CUDA GPUs")
    @pytest.mark.parametrize("name, fn", SECOND_GPU_GRAD_OPS + SECOND_GPU_OPS,
                             ids=[f"grad-{n}" for n, _ in SECOND_GPU_GRAD_OPS]
                             + [f"fwd-{n}" for n, _ in SECOND_GPU_OPS])
    def test_second_gpu(self, name, fn):
        check_op_matches_cpu(fn, "cuda:1", self.cupy.ndarray)

    @pytest.mark.skipif(REAL_CUDA_COUNT < 2, reason="needs two CUDA GPUs")
    def test_mixing_gpus_raises(self):
        with pytest.raises(RuntimeError, match=re.escape(MIXED.format("cuda:0", "cuda:1"))):
            engine.randn(3, device="cuda:0") + engine.randn(3, device="cuda:1")
