"""Device plumbing: ``engine.device``, ``engine.cuda``, ``Tensor.to/cuda/cpu``, creation with ``device=``,
op results and gradients on the inputs' device, and the errors PyTorch raises for mixed devices.

Most tests run without a GPU through ``fake_cuda`` (see ``fake_cupy.py``: a NumPy-backed stand-in that
proves the plumbing, not CuPy itself). ``TestRealCuPy`` repeats the key checks against real CuPy and
skips where this machine has no CUDA GPU.
"""

import re

import numpy as np
import pytest
from fake_cupy import FakeCudaArray, FakeCupy

import engine
from engine import backend

MIXED = "Expected all tensors to be on the same device, but found at least two devices, {} and {}!"
NUMPY_ON_CUDA = ("can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
                 "memory first.")


def _real_cupy_available():
    """Whether real CuPy with a GPU is present (never the stand-in, which only the fixture installs)."""
    mod = backend.cuda_module()
    return mod is not None and not isinstance(mod, FakeCupy) and backend.cuda_device_count() > 0


REAL_CUDA = _real_cupy_available()
REAL_CUDA_COUNT = backend.cuda_device_count() if REAL_CUDA else 0


@pytest.fixture
def no_cuda(monkeypatch):
    """Behave as a machine without CUDA, even where CuPy and a GPU are present."""
    monkeypatch.setattr(backend, "_cuda_module", None)
    monkeypatch.setattr(backend, "_cuda_probe_done", True)


def _rng_data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((3, 4)).astype(np.float32), rng.standard_normal((3, 4)).astype(np.float32),
            rng.standard_normal((4, 5)).astype(np.float32))


def assert_on(t, dev, array_type=FakeCudaArray):
    """``t`` says it is on ``dev`` and its array really lives there."""
    dev = engine.device(dev)
    assert t.device == dev, f"tensor on {t.device}, expected {dev}"
    if dev.type == "cpu":
        assert type(t._data) is np.ndarray, f"a tensor on cpu holds a {type(t._data).__name__}"
    else:
        assert isinstance(t._data, array_type), f"a tensor on {dev} holds a {type(t._data).__name__}"
        assert int(t._data.device.id) == dev.index, f"a tensor on {dev} holds an array of device {t._data.device.id}"


# Ops as (name, fn(a, b, m)), with a, b of shape (3, 4) and m of shape (4, 5), all float32 on one device.
OPS = [
    ("add", lambda a, b, m: a + b),
    ("sub_scalar", lambda a, b, m: (a * 3 - 1) / 2 + 0.5),
    ("rsub_rdiv", lambda a, b, m: 1 - 1 / (a.abs() + 1)),
    ("mul_div", lambda a, b, m: a * b / (b.abs() + 1)),
    ("pow", lambda a, b, m: (a.abs() + 1) ** b),
    ("exp_log", lambda a, b, m: a.exp() + (a.abs() + 1).log()),
    ("sigmoid", lambda a, b, m: a.sigmoid()),
    ("tanh_relu", lambda a, b, m: a.tanh() + b.relu()),
    ("clamp", lambda a, b, m: a.clamp(-0.5, 0.5)),
    ("maximum", lambda a, b, m: engine.maximum(a, b)),
    ("where", lambda a, b, m: engine.where(a > 0, a, b)),
    ("sum", lambda a, b, m: a.sum()),
    ("sum_dim", lambda a, b, m: a.sum(1)),
    ("mean_keepdim", lambda a, b, m: a.mean(0, keepdim=True)),
    ("var_std", lambda a, b, m: a.var(1) + a.std()),
    ("max", lambda a, b, m: a.max()),
    ("max_dim", lambda a, b, m: a.max(1)[0]),
    ("prod", lambda a, b, m: a.prod(1)),
    ("norm", lambda a, b, m: a.norm()),
    ("logsumexp", lambda a, b, m: a.logsumexp(1)),
    ("matmul", lambda a, b, m: a @ m),
    ("mv", lambda a, b, m: a.mv(m[:, 0])),
    ("bmm", lambda a, b, m: a[None].bmm(m[None])),
    ("dot", lambda a, b, m: a[0].dot(b[0])),
    ("index_int", lambda a, b, m: a[1]),
    ("index_slice", lambda a, b, m: a[1:, ::2]),
    ("index_scalar", lambda a, b, m: a[1, 2]),
    ("index_list", lambda a, b, m: a[[0, 2, 0]]),
    ("index_tensor", lambda a, b, m: a[engine.tensor([0, 2, 0], device=a.device)]),
    ("index_cpu_tensor", lambda a, b, m: a[engine.tensor([0, 2, 0])]),
    ("index_mask", lambda a, b, m: a[a > 0]),
    ("cat", lambda a, b, m: engine.cat([a, b], 0)),
    ("stack", lambda a, b, m: engine.stack([a, b], 1)),
    ("softmax", lambda a, b, m: a.softmax(1)),
    ("log_softmax", lambda a, b, m: a.log_softmax(0)),
    ("reshape_t", lambda a, b, m: a.reshape(4, 3).t()),
    ("expand", lambda a, b, m: a[:, :1].expand(3, 4)),
    ("split", lambda a, b, m: a.split(2, 1)[1]),
    ("unbind", lambda a, b, m: a.unbind(1)[2]),
    ("flip", lambda a, b, m: a.flip(0)),
    ("to_double", lambda a, b, m: a.double()),
    ("argmax", lambda a, b, m: a.argmax()),
    ("argmax_dim", lambda a, b, m: a.argmax(1)),
    ("compare", lambda a, b, m: a > b),
    ("isnan", lambda a, b, m: a.isnan()),
    ("all_any", lambda a, b, m: (a > -10).all() & (a > 0).any()),
    ("count_nonzero", lambda a, b, m: engine.count_nonzero(a > 0)),
    ("remainder", lambda a, b, m: a % 0.3),
]


def run_op(fn, dev, requires_grad=True, array_type=FakeCudaArray):
    """Run ``fn`` on fresh inputs on ``dev``; check where the output and the gradients landed.

    Returns the output as a host array and the inputs' gradients as host arrays (None where none)."""
    arrays = _rng_data()
    inputs = [engine.tensor(x, device=dev, requires_grad=requires_grad) for x in arrays]
    out = fn(*inputs)
    assert_on(out, dev, array_type)
    value = out.detach().cpu().numpy().copy()
    grads = []
    if out.requires_grad:
        out.backward(engine.ones_like(out) if out.numel() > 1 else None)
        for t in inputs:
            if t.grad is not None:
                assert_on(t.grad, dev, array_type)
                grads.append(t.grad.cpu().numpy().copy())
            else:
                grads.append(None)
    return value, grads


def check_op_matches_cpu(fn, dev, array_type=FakeCudaArray):
    cpu_value, cpu_grads = run_op(fn, "cpu")
    value, grads = run_op(fn, dev, array_type=array_type)
    assert value.dtype == cpu_value.dtype
    np.testing.assert_allclose(value, cpu_value, rtol=1e-5, atol=1e-6)
    assert len(grads) == len(cpu_grads)
    for g, cg in zip(grads, cpu_grads):
        assert (g is None) == (cg is None)
        if g is not None:
            np.testing.assert_allclose(g, cg, rtol=1e-5, atol=1e-6)


# ----- engine.cuda and engine.device -----
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


# ----- creation with device= -----
CREATORS = {
    "zeros": lambda d: engine.zeros(2, 3, device=d),
    "ones": lambda d: engine.ones((2, 3), device=d),
    "empty": lambda d: engine.empty(2, 3, device=d),
    "rand": lambda d: engine.rand(2, 3, device=d),
    "randn": lambda d: engine.randn(2, 3, device=d),
    "randint": lambda d: engine.randint(0, 5, (2, 3), device=d),
    "randperm": lambda d: engine.randperm(5, device=d),
    "arange": lambda d: engine.arange(6, device=d),
    "arange_float": lambda d: engine.arange(0.0, 1.0, 0.25, device=d),
    "linspace": lambda d: engine.linspace(0, 1, 5, device=d),
    "tensor": lambda d: engine.tensor([[1, 2], [3, 4]], device=d),
    "tensor_float": lambda d: engine.tensor([1.0, 2.0], device=d, requires_grad=True),
    "full": lambda d: engine.full((2, 2), 7.0, device=d),
    "eye": lambda d: engine.eye(3, device=d),
    "normal": lambda d: engine.normal(0.0, 1.0, (3,), device=d),
    "zeros_like": lambda d: engine.zeros_like(engine.ones(2), device=d),
    "ones_like": lambda d: engine.ones_like(engine.ones(2), device=d),
    "full_like": lambda d: engine.full_like(engine.ones(2), 3.0, device=d),
    "rand_like": lambda d: engine.rand_like(engine.ones(2), device=d),
    "int_device": lambda d: engine.zeros(2, device=engine.device(d).index),
    "device_object": lambda d: engine.ones(2, device=engine.device(d)),
}


@pytest.mark.parametrize("dev", ["cuda", "cuda:1"])
@pytest.mark.parametrize("name", list(CREATORS))
def test_creation_with_device(fake_cuda, name, dev):
    t = CREATORS[name](dev)
    assert_on(t, dev)
    cpu = CREATORS[name]("cpu") if name != "int_device" else None
    if cpu is not None:
        assert t.dtype == cpu.dtype and t.shape == cpu.shape


def test_creation_values_match_cpu(fake_cuda):
    for name in ("zeros", "ones", "arange", "arange_float", "linspace", "tensor", "full", "eye"):
        np.testing.assert_array_equal(CREATORS[name]("cuda").cpu().numpy(), CREATORS[name]("cpu").numpy())


def test_like_functions_keep_the_input_device(fake_cuda):
    x = engine.randn(2, 3, device="cuda:1")
    for fn in (engine.zeros_like, engine.ones_like, engine.empty_like, engine.rand_like, engine.randn_like):
        assert_on(fn(x), "cuda:1")
    assert_on(engine.full_like(x, 2.0), "cuda:1")
    assert_on(engine.ones_like(x, device="cpu"), "cpu")
    assert_on(x.new_zeros(4), "cuda:1")
    assert_on(x.new_tensor([1.0, 2.0]), "cuda:1")


def test_manual_seed_makes_cuda_draws_reproducible(fake_cuda):
    engine.manual_seed(123)
    a = engine.randn(4, device="cuda")
    engine.manual_seed(123)
    b = engine.randn(4, device="cuda")
    assert a.tolist() == b.tolist()


# ----- op results and gradients on the inputs' device -----
@pytest.mark.parametrize("name, fn", OPS, ids=[n for n, _ in OPS])
def test_op_on_cuda_matches_cpu(fake_cuda, name, fn):
    """The result (and every gradient) stays on cuda:0 as device arrays, with the CPU's values."""
    check_op_matches_cpu(fn, "cuda:0")


SECOND_GPU_OPS = [
    ("add_no_grad", lambda a, b, m: a + b),
    ("mul_scalar_no_grad", lambda a, b, m: a * 2.0),
    ("compare", lambda a, b, m: a > b),
    ("isnan", lambda a, b, m: a.isnan()),
    ("argmax", lambda a, b, m: a.argmax()),
    ("matmul", lambda a, b, m: a @ m),
    ("softmax", lambda a, b, m: a.softmax(1)),
]


@pytest.mark.parametrize("name, fn", SECOND_GPU_OPS, ids=[n for n, _ in SECOND_GPU_OPS])
def test_op_on_second_gpu_forward(fake_cuda, name, fn):
    """Forward only: the op must run with cuda:1 current and leave its result on cuda:1."""
    value, _ = run_op(fn, "cuda:1", requires_grad=False)
    cpu_value, _ = run_op(fn, "cpu", requires_grad=False)
    np.testing.assert_allclose(value, cpu_value, rtol=1e-5, atol=1e-6)


SECOND_GPU_GRAD_OPS = [
    ("sum", lambda a, b, m: a.sum()),
    ("add", lambda a, b, m: a + b),
    ("mul", lambda a, b, m: a * b),
    ("matmul", lambda a, b, m: a @ m),
    ("index_int", lambda a, b, m: a[1]),
]


@pytest.mark.parametrize("name, fn", SECOND_GPU_GRAD_OPS, ids=[n for n, _ in SECOND_GPU_GRAD_OPS])
def test_backward_on_second_gpu(fake_cuda, name, fn):
    """Backward of a graph on cuda:1: the gradients must be computed and land on cuda:1."""
    check_op_matches_cpu(fn, "cuda:1")


def test_autograd_chain_on_cuda_matches_cpu(fake_cuda):
    def loss(dev):
        a, _, m = _rng_data()
        w = engine.tensor(m, device=dev, requires_grad=True)
        x = engine.tensor(a, device=dev)
        y = ((x @ w).tanh() * 2).softmax(1)
        out = (y * y).mean()
        out.backward()
        return out, w

    out_gpu, w_gpu = loss("cuda")
    out_cpu, w_cpu = loss("cpu")
    assert_on(out_gpu, "cuda:0")
    assert_on(w_gpu.grad, "cuda:0")
    assert out_gpu.item() == pytest.approx(out_cpu.item(), rel=1e-5)
    np.testing.assert_allclose(w_gpu.grad.cpu().numpy(), w_cpu.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_backward_through_to_cuda_gives_cpu_leaf_a_cpu_grad(fake_cuda):
    x = engine.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x.to("cuda")
    assert y.grad_fn is not None and y.grad_fn.name() == "ToCopyBackward0"
    (y * y).sum().backward()
    assert_on(x.grad, "cpu")
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0, 6.0])


def test_backward_through_to_cuda_with_dtype_change(fake_cuda):
    x = engine.tensor([1.0, 2.0], requires_grad=True)
    y = x.to("cuda:1", engine.float64)
    y.sum().backward()
    assert_on(x.grad, "cpu")
    assert x.grad.dtype == engine.float32
    assert x.grad.tolist() == [1.0, 1.0]


def test_backward_through_cuda_and_back_to_cpu(fake_cuda):
    x = engine.tensor([1.0, -2.0], requires_grad=True)
    out = (x.cuda().exp().cpu() * 3).sum()
    assert_on(out, "cpu")
    out.backward()
    assert_on(x.grad, "cpu")
    np.testing.assert_allclose(x.grad.numpy(), 3 * np.exp([1.0, -2.0]), rtol=1e-6)


def test_grad_on_other_device_is_refused(fake_cuda):
    y = engine.randn(3, device="cuda", requires_grad=True) * 2
    with pytest.raises(RuntimeError):
        y.backward(engine.ones(3))
    leaf = engine.randn(3, device="cuda", requires_grad=True)
    with pytest.raises(RuntimeError, match="different device"):
        leaf.grad = engine.ones(3)


# ----- to host: numpy(), item(), tolist(), print -----
def test_numpy_on_cuda_tensor_raises(fake_cuda):
    x = engine.randn(2, 2, device="cuda")
    with pytest.raises(TypeError) as info:
        x.numpy()
    assert str(info.value) == NUMPY_ON_CUDA.format("cuda:0")
    with pytest.raises(TypeError, match=re.escape(NUMPY_ON_CUDA.format("cuda:1"))):
        x.to("cuda:1").numpy()


def test_host_conversions_of_cuda_tensor(fake_cuda):
    x = engine.tensor([[1.0, 2.0], [3.0, 4.0]], device="cuda")
    host = x.cpu().numpy()
    assert type(host) is np.ndarray
    np.testing.assert_array_equal(host, [[1.0, 2.0], [3.0, 4.0]])
    assert x[1, 0].item() == 3.0
    assert x.sum().item() == 10.0
    assert x.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert float(x[0, 1]) == 2.0
    assert int(x[1, 1]) == 4
    assert bool(x[0, 0])
    assert type(np.asarray(x)) is np.ndarray  # __array__ copies to the host
    np.testing.assert_array_equal(x.numpy(force=True), host)


def test_print_cuda_tensor(fake_cuda, capsys):
    x = engine.tensor([1.0, 2.0], device="cuda:1")
    print(x)
    assert capsys.readouterr().out == "tensor([1., 2.], device='cuda:1')\n"
    y = engine.tensor([1.0], device="cuda", requires_grad=True) * 2
    assert repr(y) == "tensor([2.], device='cuda:0', grad_fn=<MulBackward0>)"
    assert x.type() == "torch.cuda.FloatTensor"


def test_data_ptr_of_cuda_tensor(fake_cuda):
    x = engine.zeros(4, device="cuda")
    assert isinstance(x.data_ptr(), int)
    assert x[2:].data_ptr() == x.data_ptr() + 2 * x.element_size()


# ----- mixing devices -----
MIXED_OPS = {
    "add": lambda x, y: x + y,
    "add_fn": lambda x, y: engine.add(x, y),
    "sub": lambda x, y: x - y,
    "mul": lambda x, y: x * y,
    "div": lambda x, y: x / y,
    "pow": lambda x, y: x ** y,
    "add_": lambda x, y: x.clone().add_(y),
    "maximum": lambda x, y: engine.maximum(x, y),
    "clamp": lambda x, y: engine.clamp(x, min=y),
    "eq": lambda x, y: x == y,
    "lt": lambda x, y: x < y,
    "where_values": lambda x, y: engine.where(x > 0, x, y),
    "where_condition": lambda x, y: engine.where(engine.ones_like(y, dtype=engine.bool), x, x),
    "cat": lambda x, y: engine.cat([x, y]),
    "stack": lambda x, y: engine.stack([x, y]),
    "matmul": lambda x, y: x @ y.t(),
    "isclose": lambda x, y: engine.isclose(x, y),
    "allclose": lambda x, y: engine.allclose(x, y),
    "equal": lambda x, y: engine.equal(x, y),
}


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


ZERO_DIM_OPS = {
    "add": lambda x, s: x + s,
    "radd": lambda x, s: s + x,
    "mul": lambda x, s: x * s,
    "pow": lambda x, s: x ** s,
    "maximum": lambda x, s: engine.maximum(x, s),
    "where": lambda x, s: engine.where(x > 0, s, x),
    "eq": lambda x, s: x == s,
    "add_": lambda x, s: x.clone().add_(s),
}


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


# ----- the same key checks on real CuPy -----
@pytest.mark.skipif(not REAL_CUDA, reason="no CUDA GPU (CuPy with a device) on this machine")
class TestRealCuPy:
    @pytest.fixture(autouse=True)
    def _real(self):
        backend.install_cuda_module(None)  # make sure no stand-in is left: probe real CuPy
        assert _real_cupy_available()
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
