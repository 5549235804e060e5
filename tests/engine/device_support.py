"""Helpers shared by the device tests (test_backend, test_cuda, test_creation, test_tensor, ...): where a tensor's
array lives, ops run on a device against the CPU, and the tables of creators and ops those tests parametrize over."""

import numpy as np
from fake_cupy import FakeCudaArray, FakeCupy

import engine
from engine import backend

MIXED = "Expected all tensors to be on the same device, but found at least two devices, {} and {}!"
NUMPY_ON_CUDA = ("can't convert {} device type tensor to numpy. Use Tensor.cpu() to copy the tensor to host "
                 "memory first.")


def real_cupy_available():
    """Whether real CuPy with a GPU is present (never the stand-in, which only the fixture installs)."""
    mod = backend.cuda_module()
    return mod is not None and not isinstance(mod, FakeCupy) and backend.cuda_device_count() > 0


REAL_CUDA = real_cupy_available()
REAL_CUDA_COUNT = backend.cuda_device_count() if REAL_CUDA else 0


def rng_data():
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
    arrays = rng_data()
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

SECOND_GPU_OPS = [
    ("add_no_grad", lambda a, b, m: a + b),
    ("mul_scalar_no_grad", lambda a, b, m: a * 2.0),
    ("compare", lambda a, b, m: a > b),
    ("isnan", lambda a, b, m: a.isnan()),
    ("argmax", lambda a, b, m: a.argmax()),
    ("matmul", lambda a, b, m: a @ m),
    ("softmax", lambda a, b, m: a.softmax(1)),
]

SECOND_GPU_GRAD_OPS = [
    ("sum", lambda a, b, m: a.sum()),
    ("add", lambda a, b, m: a + b),
    ("mul", lambda a, b, m: a * b),
    ("matmul", lambda a, b, m: a @ m),
    ("index_int", lambda a, b, m: a[1]),
]

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
