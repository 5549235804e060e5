"""``engine.accelerator`` against ``torch.accelerator``: without CUDA it answers as PyTorch's CPU build does; on
the CuPy stand-in (two fake GPUs) it reports CUDA, switches the current device and synchronizes."""

import pytest
import torch
from device_support import assert_on
from fake_cupy import FakeCupy

import engine
from engine import backend

NONE_AVAILABLE = "Cannot access accelerator device when none is available."


@pytest.fixture
def two_gpus(fake_cuda):
    """The stand-in with two GPUs; device 0 is current again afterwards (the stand-in's current device is shared)."""
    yield fake_cuda
    backend.set_current_cuda_index(0)


def test_tutorial_first_line_picks_the_cpu_without_cuda(no_cuda):
    device = engine.accelerator.current_accelerator().type if engine.accelerator.is_available() else "cpu"
    assert device == "cpu"
    assert engine.accelerator.current_accelerator() is None
    assert engine.accelerator.current_accelerator(check_available=True) is None
    assert engine.accelerator.device_count() == 0
    assert (engine.accelerator.is_available(), engine.accelerator.device_count()) == (
        torch.accelerator.is_available(), torch.accelerator.device_count())


@pytest.mark.parametrize("call", [
    lambda acc: acc.current_device_index(),
    lambda acc: acc.set_device_index(0),
    lambda acc: acc.synchronize(),
])
def test_without_cuda_the_device_calls_raise_like_torch(no_cuda, call):
    for acc in (engine.accelerator, torch.accelerator):
        with pytest.raises(RuntimeError) as info:
            call(acc)
        assert str(info.value) == NONE_AVAILABLE


def test_tutorial_first_line_picks_cuda_on_the_stand_in(two_gpus):
    device = engine.accelerator.current_accelerator().type if engine.accelerator.is_available() else "cpu"
    assert device == "cuda"
    assert engine.accelerator.current_accelerator(check_available=True) == engine.device("cuda")
    assert engine.accelerator.device_count() == 2
    assert_on(engine.randn(3, device=engine.accelerator.current_accelerator()), "cuda:0")
    model = engine.nn.Linear(2, 2).to(device)
    assert_on(model.weight, "cuda:0")


def test_a_module_without_gpus_is_an_unavailable_accelerator(fake_cuda):
    backend.install_cuda_module(FakeCupy(device_count=0))
    assert engine.accelerator.current_accelerator() == engine.device("cuda")
    assert engine.accelerator.current_accelerator(check_available=True) is None
    assert engine.accelerator.is_available() is False
    assert engine.accelerator.device_count() == 0


def test_set_device_index_moves_the_current_device(two_gpus):
    acc = engine.accelerator
    assert acc.current_device_index() == 0
    acc.set_device_index(1)
    assert acc.current_device_index() == 1
    assert engine.device("cuda") is engine.device("cuda:1")
    assert_on(engine.zeros(2, device="cuda"), "cuda:1")
    acc.set_device_index("cuda:0")
    assert acc.current_device_index() == 0
    acc.set_device_index(engine.device("cuda", 1))
    assert acc.current_device_index() == 1
    acc.set_device_index(-1)  # a negative index is a no-op, as documented
    assert acc.current_device_index() == 1
    assert engine.cuda.current_device() == 1 and engine.ones(1).cuda().device is engine.device("cuda:1")
    engine.cuda.set_device("cuda:0")
    assert acc.current_device_index() == 0 and engine.cuda.current_device() == 0
    assert engine.ones(1).cuda().device is engine.device("cuda:0")


def test_device_index_context_restores(two_gpus):
    acc = engine.accelerator
    with acc.device_index(1):
        assert acc.current_device_index() == 1
        assert_on(engine.ones(1, device="cuda"), "cuda:1")
    assert acc.current_device_index() == 0
    with acc.device_index(None):
        assert acc.current_device_index() == 0


def test_bad_indices_raise(two_gpus):
    acc = engine.accelerator
    with pytest.raises(ValueError, match="cpu doesn't match the current accelerator cuda."):
        acc.set_device_index("cpu")
    with pytest.raises(ValueError, match="Expected a torch.device with a specified index or an integer"):
        acc.set_device_index(None)
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        acc.set_device_index(5)
    assert acc.current_device_index() == 0


def test_synchronize_reaches_the_module(two_gpus):
    engine.accelerator.synchronize()
    engine.accelerator.synchronize("cuda:1")
    engine.accelerator.synchronize(0)
    assert two_gpus.synchronize_calls == 3


def test_torch_without_accelerator_expects_one_for_a_device_argument(no_cuda):
    for acc in (engine.accelerator, torch.accelerator):
        with pytest.raises(RuntimeError, match="Accelerator expected"):
            acc.synchronize("cuda:0")


def test_deprecated_idx_names_warn_and_work(two_gpus):
    with pytest.warns(FutureWarning, match="Use `set_device_index` instead."):
        engine.accelerator.set_device_idx(1)
    with pytest.warns(FutureWarning, match="Use `current_device_index` instead."):
        assert engine.accelerator.current_device_idx() == 1
