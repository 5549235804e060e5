"""Device plumbing of ``engine.backend``: ``engine.device``, moving tensors (``Tensor.to/cuda/cpu``), op results and
gradients on the inputs' device, the errors PyTorch raises for mixed devices, and the CuPy stand-in itself.

The tests run without a GPU through ``fake_cuda`` (see ``fake_cupy.py``: a NumPy-backed stand-in that proves the
plumbing, not CuPy itself). ``test_cuda.py`` repeats the key checks against real CuPy where a GPU is present.
"""

import re

import numpy as np
import pytest
from device_support import (
    MIXED,
    MIXED_OPS,
    OPS,
    SECOND_GPU_GRAD_OPS,
    SECOND_GPU_OPS,
    ZERO_DIM_OPS,
    assert_on,
    check_op_matches_cpu,
    run_op,
)

import engine
from engine import backend

# ----- engine.device -----

@pytest.mark.parametrize("spec, type_, index", [
    ("cpu", "cpu", None), ("cuda", "cuda", 0), ("cuda:0", "cuda", 0), ("cuda:1", "cuda", 1), ("cuda:12", "cuda", 12),
])
def test_device_from_string(spec, type_, index):
    d = engine.device(spec)
    assert (d.type, d.index) == (type_, index)


def test_device_from_type_and_index():
    assert engine.device("cuda", 1) is engine.device("cuda:1")
    assert engine.device(1) is engine.device("cuda:1")  # an int means a CUDA ordinal, as in PyTorch
    assert engine.device(engine.device("cuda:1")) is engine.device("cuda:1")


def test_device_repr_and_str():
    assert repr(engine.device("cpu")) == "device(type='cpu')"
    assert repr(engine.device("cuda:0")) == "device(type='cuda', index=0)"
    assert repr(engine.device("cuda", 1)) == "device(type='cuda', index=1)"
    assert str(engine.device("cpu")) == "cpu"
    assert str(engine.device("cuda:1")) == "cuda:1"


def test_device_equality_and_hash():
    assert engine.device("cuda:0") == "cuda:0"
    assert engine.device("cuda") == "cuda:0"
    assert engine.device("cpu") == "cpu"
    assert engine.device("cuda:1") != "cuda:0"
    assert engine.device("cuda:0") != engine.device("cpu")
    assert len({engine.device("cuda"), engine.device("cuda:0"), engine.device("cuda", 0)}) == 1


def test_device_is_immutable():
    with pytest.raises(AttributeError):
        engine.device("cuda:0").index = 1


@pytest.mark.parametrize("bad", ["gpu", "CUDA", "cuda:", "cuda:-1", "cuda:x", "cuda:0:1", " cuda", "", "meta"])
def test_bad_device_strings_raise(bad):
    with pytest.raises(RuntimeError):
        engine.device(bad)


def test_device_string_with_leading_zero_is_rejected():
    # PyTorch: RuntimeError("Invalid device string: 'cuda:01'").
    with pytest.raises(RuntimeError):
        engine.device("cuda:01")


def test_device_index_given_twice_raises():
    with pytest.raises(RuntimeError):
        engine.device("cuda:0", 1)
# ----- moving tensors -----
def test_to_cuda_and_back(fake_cuda):
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]])
    y = x.to("cuda")
    assert_on(y, "cuda:0")
    assert y.is_cuda and not x.is_cuda
    assert y.dtype == engine.float32
    assert fake_cuda.transfers["h2d"] == 1
    z = y.cpu()
    assert_on(z, "cpu")
    np.testing.assert_array_equal(z.numpy(), x.numpy())
    assert fake_cuda.transfers["d2h"] == 1


def test_cuda_method(fake_cuda):
    x = engine.arange(6).reshape(2, 3)
    assert_on(x.cuda(), "cuda:0")
    assert_on(x.cuda(1), "cuda:1")
    assert_on(x.cuda("cuda:1"), "cuda:1")
    assert_on(x.cuda(engine.device("cuda", 1)), "cuda:1")
    assert x.cuda(1).tolist() == x.tolist()


def test_between_gpus(fake_cuda):
    x = engine.randn(3, device="cuda:0")
    y = x.to("cuda:1")
    assert_on(y, "cuda:1")
    assert y.tolist() == x.tolist()
    assert_on(y.to("cuda:0"), "cuda:0")


def test_to_same_device_is_a_no_op(fake_cuda):
    x = engine.randn(3, device="cuda")
    before = dict(fake_cuda.transfers)
    assert x.to("cuda") is x
    assert x.to("cuda:0") is x
    assert x.cuda() is x
    assert fake_cuda.transfers == before
    y = x.to("cuda", copy=True)
    assert y is not x
    assert_on(y, "cuda:0")
    c = engine.randn(3)
    assert c.cpu() is c


def test_to_device_and_dtype(fake_cuda):
    x = engine.tensor([1.5, 2.5])
    y = x.to("cuda", engine.float64)
    assert_on(y, "cuda:0")
    assert y.dtype == engine.float64 and y._data.dtype == np.float64
    z = x.to(device="cuda:1", dtype=engine.int64)
    assert_on(z, "cuda:1")
    assert z.tolist() == [1, 2]
    w = y.to(engine.float32)  # a dtype change keeps the device
    assert_on(w, "cuda:0")
    assert w.dtype == engine.float32


def test_to_other_tensor(fake_cuda):
    other = engine.zeros(2, dtype=engine.float64, device="cuda:1")
    y = engine.tensor([1, 2]).to(other)
    assert_on(y, "cuda:1")
    assert y.dtype == engine.float64
    back = y.to(engine.zeros(1, dtype=engine.int32))
    assert_on(back, "cpu")
    assert back.dtype == engine.int32


def test_to_missing_gpu_raises(fake_cuda):
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        engine.randn(2).to("cuda:2")
    with pytest.raises(RuntimeError, match="invalid device ordinal"):
        engine.zeros(2, device="cuda:5")


@pytest.mark.parametrize("maker", [
    lambda: engine.randn(2).cuda(),
    lambda: engine.randn(2).to("cuda"),
    lambda: engine.zeros(2, device="cuda"),
    lambda: engine.tensor([1.0], device="cuda:0"),
], ids=["cuda()", "to_cuda", "zeros", "tensor"])
def test_cuda_without_cuda_raises(no_cuda, maker):
    with pytest.raises((RuntimeError, AssertionError), match=r"(not compiled with CUDA enabled|CUDA is not available)"):
        maker()

# ----- op results and gradients on the inputs' device -----
@pytest.mark.parametrize("name, fn", OPS, ids=[n for n, _ in OPS])
def test_op_on_cuda_matches_cpu(fake_cuda, name, fn):
    """The result (and every gradient) stays on cuda:0 as device arrays, with the CPU's values."""
    check_op_matches_cpu(fn, "cuda:0")


@pytest.mark.parametrize("name, fn", SECOND_GPU_OPS, ids=[n for n, _ in SECOND_GPU_OPS])
def test_op_on_second_gpu_forward(fake_cuda, name, fn):
    """Forward only: the op must run with cuda:1 current and leave its result on cuda:1."""
    value, _ = run_op(fn, "cuda:1", requires_grad=False)
    cpu_value, _ = run_op(fn, "cpu", requires_grad=False)
    np.testing.assert_allclose(value, cpu_value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, fn", SECOND_GPU_GRAD_OPS, ids=[n for n, _ in SECOND_GPU_GRAD_OPS])
def test_backward_on_second_gpu(fake_cuda, name, fn):
    """Backward of a graph on cuda:1: the gradients must be computed and land on cuda:1."""
    check_op_matches_cpu(fn, "cuda:1")

# ----- mixing devices -----

@pytest.mark.parametrize("pair", [("cpu", "cuda:0"), ("cuda:0", "cpu"), ("cuda:0", "cuda:1")],
                         ids=["cpu-cuda0", "cuda0-cpu", "cuda0-cuda1"])
@pytest.mark.parametrize("name", list(MIXED_OPS))
def test_mixing_devices_raises(fake_cuda, name, pair):
    """PyTorch's RuntimeError naming both devices; never a silent copy, never the array library's error."""
    x = engine.randn(3, 4, device=pair[0])
    y = engine.randn(3, 4, device=pair[1])
    with pytest.raises(RuntimeError) as info:
        MIXED_OPS[name](x, y)
    message = str(info.value)
    assert message in (MIXED.format(*pair), MIXED.format(*reversed(pair))), message


def test_mixing_message_names_devices_in_argument_order(fake_cuda):
    with pytest.raises(RuntimeError) as info:
        engine.randn(2) + engine.randn(2, device="cuda")
    assert str(info.value) == MIXED.format("cpu", "cuda:0")


def test_cuda_index_into_cpu_tensor_raises(fake_cuda):
    # PyTorch: "indices should be either on cpu or on the same device as the indexed tensor (cpu)".
    x = engine.randn(3, 4)
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same device"):
        x[engine.tensor([0, 2], device="cuda")]


def test_cuda_index_of_other_gpu_raises(fake_cuda):
    x = engine.randn(3, 4, device="cuda:0")
    with pytest.raises(RuntimeError, match="indices should be either on cpu or on the same device"):
        x[engine.tensor([0, 2], device="cuda:1")]

@pytest.mark.parametrize("name", list(ZERO_DIM_OPS))
def test_zero_dim_cpu_tensor_joins_cuda_tensor(fake_cuda, name):
    x = engine.tensor([-1.0, 0.5, 2.0], device="cuda")
    s = engine.tensor(2.0)
    out = ZERO_DIM_OPS[name](x, s)
    assert_on(out, "cuda:0")
    expected = ZERO_DIM_OPS[name](engine.tensor([-1.0, 0.5, 2.0]), engine.tensor(2.0))
    np.testing.assert_allclose(out.cpu().numpy(), expected.numpy())


def test_zero_dim_cpu_leaf_gets_cpu_grad(fake_cuda):
    """In PyTorch the CPU scalar's gradient is a CPU tensor, even though the op ran on the GPU."""
    x = engine.tensor([1.0, 2.0, 3.0], device="cuda", requires_grad=True)
    s = engine.tensor(2.0, requires_grad=True)
    (x * s).sum().backward()
    assert_on(x.grad, "cuda:0")
    assert_on(s.grad, "cpu")
    assert s.grad.item() == 6.0


def test_zero_dim_cuda_tensor_does_not_join_cpu_tensor(fake_cuda):
    with pytest.raises(RuntimeError, match=re.escape(MIXED.format("cuda:0", "cpu"))):
        engine.tensor(1.0, device="cuda") + engine.randn(3)


def test_copy_between_devices_is_allowed(fake_cuda):
    """``copy_`` is PyTorch's way to write across devices."""
    x = engine.zeros(3, device="cuda")
    x.copy_(engine.tensor([1.0, 2.0, 3.0]))
    assert_on(x, "cuda:0")
    assert x.tolist() == [1.0, 2.0, 3.0]
    h = engine.zeros(3)
    h.copy_(x)
    assert_on(h, "cpu")
    assert h.tolist() == [1.0, 2.0, 3.0]


def test_stand_in_refuses_host_arrays_and_other_gpus(fake_cuda):
    """Sanity of the stand-in itself: it would catch an engine that mixed arrays silently."""
    from fake_cupy import FakePeerAccessError

    with fake_cuda.cuda.Device(0):
        a = fake_cuda.ones(3)
    with fake_cuda.cuda.Device(1):
        b = fake_cuda.ones(3)
    assert a.device.id == 0 and b.device.id == 1
    assert (a + 1).device.id == 0 and a.sum().device.id == 0 and a[0].device.id == 0
    assert type(fake_cuda.asnumpy(a)) is np.ndarray
    with pytest.raises(TypeError):
        a + np.ones(3)
    with pytest.raises(TypeError):
        fake_cuda.exp(np.ones(3))
    with pytest.raises(FakePeerAccessError):
        a + b
    with pytest.raises(FakePeerAccessError):  # a kernel on cuda:1 arrays while cuda:0 is current
        b * 2
    with fake_cuda.cuda.Device(1):
        assert (b * 2).device.id == 1


def test_stand_in_arrays_are_not_host_arrays(fake_cuda):
    """Like CuPy's, the stand-in's arrays are no NumPy arrays: NumPy will not convert them, and the engine's
    host-only implementations (compiled kernels, threaded paths) never take them."""
    a = fake_cuda.ones((2, 3, 8, 8), dtype=np.float32)
    assert not isinstance(a, np.ndarray) and not backend.is_host(a)
    with pytest.raises(TypeError):
        np.asarray(a)
    x = engine.ones(2, 3, 8, 8, device="cuda", requires_grad=True)
    w = engine.ones(4, 3, 3, 3, device="cuda", requires_grad=True)
    y = engine.nn.functional.max_pool2d(engine.nn.functional.conv2d(x, w, padding=1).relu(), 2)
    assert y.grad_fn._impl.name == "generic"
    assert y.grad_fn.next_functions[0][0]._impl.name == "generic"
    y.sum().backward()
    assert_on(x.grad, "cuda:0")
