"""``set_default_device`` / ``get_default_device``, ``with device(...):`` and ``set_default_dtype``, against PyTorch.

PyTorch's CPU build has no CUDA, so its 'meta' device stands in for the non-CPU default there: which factory
functions follow the default device is compared between PyTorch on 'meta' and the engine on 'cuda' (the CuPy
stand-in). Every test restores the default device and dtype.
"""

import warnings

import numpy as np
import pytest
import torch
from device_support import assert_on

import engine


@pytest.fixture(autouse=True)
def _restore_defaults():
    yield
    engine.set_default_device(None)
    engine.set_default_dtype(engine.float32)
    torch.set_default_device(None)
    torch.set_default_dtype(torch.float32)


# Each maker takes the library (engine or torch) and returns a tensor made without a device argument.
MAKERS = {
    "zeros": lambda m: m.zeros(2, 3),
    "ones": lambda m: m.ones(2),
    "empty": lambda m: m.empty(2),
    "full": lambda m: m.full((2,), 1.5),
    "eye": lambda m: m.eye(2),
    "arange": lambda m: m.arange(3),
    "linspace": lambda m: m.linspace(0, 1, 4),
    "logspace": lambda m: m.logspace(0, 1, 4),
    "rand": lambda m: m.rand(2),
    "randn": lambda m: m.randn(2),
    "randint": lambda m: m.randint(3, (2,)),
    "randperm": lambda m: m.randperm(3),
    "tensor": lambda m: m.tensor([1.0, 2.0]),
    "tensor_of_cpu_tensor": lambda m: m.tensor(m.ones(2, device="cpu")),
    "as_tensor": lambda m: m.as_tensor([1.0, 2.0]),
    "as_tensor_numpy": lambda m: m.as_tensor(np.ones(2, dtype=np.float32)),
    "linear_weight": lambda m: m.nn.Linear(3, 2).weight,
    "conv_bias": lambda m: m.nn.Conv2d(1, 2, 3).bias,
    "normal": lambda m: m.normal(0.0, 1.0, (2,)),
    "from_numpy": lambda m: m.from_numpy(np.ones(2)),
    "zeros_like": lambda m: m.zeros_like(m.ones(2, device="cpu")),
    "new_zeros": lambda m: m.ones(2, device="cpu").new_zeros(3),
    "legacy_Tensor": lambda m: m.Tensor(2),
    "legacy_FloatTensor": lambda m: m.FloatTensor([1.0]),
}


def _make(lib, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.tensor(tensor)'s copy-construct warning
        return MAKERS[name](lib)


@pytest.mark.parametrize("name", list(MAKERS))
def test_factories_follow_the_default_device_as_torch_does(fake_cuda, name):
    torch.set_default_device("meta")
    engine.set_default_device("cuda")
    follows = _make(torch, name).device.type == "meta"
    assert_on(_make(engine, name), "cuda" if follows else "cpu")


def test_default_device_round_trip(fake_cuda):
    assert engine.get_default_device() == engine.device("cpu")
    engine.set_default_device("cuda:1")
    assert engine.get_default_device() == engine.device("cuda", 1)
    assert_on(engine.zeros(2), "cuda:1")
    assert_on(engine.zeros(2, device="cpu"), "cpu")  # an explicit device still wins
    engine.set_default_device(engine.device("cuda"))
    assert engine.get_default_device() == engine.device("cuda", 0)
    engine.set_default_device(0)  # an index means a CUDA device, as in torch.device(0)
    assert engine.get_default_device() == engine.device("cuda", 0)
    engine.set_default_device(None)
    assert engine.get_default_device() == engine.device("cpu")
    assert_on(engine.zeros(2), "cpu")


def test_cpu_resets_like_none(fake_cuda):
    engine.set_default_device("cuda")
    engine.set_default_device("cpu")
    assert_on(engine.ones(2), "cpu")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the copy-construct warning
        assert_on(engine.tensor(engine.ones(2, device="cuda:1")), "cuda:1")  # a tensor's data stays where it is


def test_tensor_of_a_tensor_goes_to_the_default_device(fake_cuda):
    engine.set_default_device("cuda")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert_on(engine.tensor(engine.ones(2, device="cuda:1")), "cuda:0")
    assert_on(engine.as_tensor(engine.ones(2, device="cpu")), "cuda:0")


def test_bad_default_device_raises_like_torch():
    with pytest.raises(RuntimeError, match="Expected one of cpu, cuda device type at start of device string: foo"):
        engine.set_default_device("foo")
    with pytest.raises(RuntimeError, match="Expected one of cpu"):
        torch.set_default_device("foo")
    assert engine.get_default_device() == engine.device("cpu")


def test_module_parameters_and_training_step_on_the_default_device(fake_cuda):
    engine.set_default_device("cuda")
    model = engine.nn.Sequential(engine.nn.Linear(4, 3), engine.nn.ReLU(), engine.nn.Linear(3, 1))
    opt = engine.optim.SGD(model.parameters(), lr=0.1)
    loss = model(engine.randn(5, 4)).pow(2).mean()
    loss.backward()
    opt.step()
    for p in model.parameters():
        assert_on(p, "cuda")
        assert_on(p.grad, "cuda")


def test_device_as_context_manager_nests_and_restores(fake_cuda):
    with engine.device("cuda") as d:
        assert d is engine.device("cuda:0")
        assert engine.get_default_device() == d
        assert_on(engine.zeros(1), "cuda:0")
        with engine.device("cuda:1"):
            assert_on(engine.randn(1), "cuda:1")
            with engine.device("cpu"):
                assert_on(engine.arange(2), "cpu")
            assert_on(engine.ones(1), "cuda:1")
        assert_on(engine.empty(1), "cuda:0")
    assert engine.get_default_device() == engine.device("cpu")
    assert_on(engine.zeros(1), "cpu")


def test_device_context_restores_on_error_and_inside_a_set_default(fake_cuda):
    engine.set_default_device("cuda:1")
    with pytest.raises(ValueError), engine.device("cpu"):
        assert_on(engine.zeros(1), "cpu")
        raise ValueError
    assert_on(engine.zeros(1), "cuda:1")
    with engine.device("cuda:1"), engine.device("cuda:1"):  # the same (interned) device entered twice
        pass
    assert engine.get_default_device() == engine.device("cuda:1")


def test_torch_device_context_matches():
    with torch.device("meta") as d:
        assert torch.zeros(1).device == d
        with torch.device("cpu"):
            assert torch.zeros(1).device.type == "cpu"
        assert torch.zeros(1).device.type == "meta"
    assert torch.get_default_device().type == "cpu"


# ----- default dtype -----
DTYPE_EXPRS = {
    "tensor_float": lambda m: m.tensor(1.5),
    "tensor_mixed_list": lambda m: m.tensor([1, 2.5]),
    "tensor_int": lambda m: m.tensor([1, 2]),
    "tensor_bool": lambda m: m.tensor(True),
    "zeros": lambda m: m.zeros(2),
    "ones": lambda m: m.ones(2),
    "empty": lambda m: m.empty(2),
    "rand": lambda m: m.rand(2),
    "randn": lambda m: m.randn(2),
    "eye": lambda m: m.eye(2),
    "full_float": lambda m: m.full((2,), 2.0),
    "full_int": lambda m: m.full((2,), 2),
    "arange_int": lambda m: m.arange(3),
    "arange_float": lambda m: m.arange(0.0, 2.0),
    "linspace": lambda m: m.linspace(0, 1, 3),
    "normal": lambda m: m.normal(0.0, 1.0, (2,)),
    "int_times_float": lambda m: m.ones(2, dtype=m.int64) * 1.5,
    "int_tensor_true_divide": lambda m: m.ones(2, dtype=m.int64) / 2,
    "float32_tensor_stays": lambda m: m.ones(2, dtype=m.float32) * 1.5,
    "linear_weight": lambda m: m.nn.Linear(2, 2).weight,
    "legacy_Tensor": lambda m: m.Tensor(2),
}


@pytest.mark.parametrize("name", ["float16", "float32", "float64"])
def test_default_dtype_drives_creation_and_promotion_as_in_torch(name):
    engine.set_default_dtype(getattr(engine, name))
    torch.set_default_dtype(getattr(torch, name))
    assert engine.get_default_dtype() is getattr(engine, name)
    for key, expr in DTYPE_EXPRS.items():
        got, want = expr(engine).dtype, expr(torch).dtype
        assert str(got).split(".")[1] == str(want).split(".")[1], f"{key}: {got} vs {want}"


@pytest.mark.parametrize("bad, message", [
    ("int32", "only floating-point types are supported as the default type"),
    ("bool", "only floating-point types are supported as the default type"),
    (float, "invalid dtype object: only floating-point types are supported as the default type"),
    ("'float32'", "invalid dtype object: only floating-point types are supported as the default type"),
    (None, "invalid dtype object: only floating-point types are supported as the default type"),
])
def test_set_default_dtype_refuses_what_torch_refuses(bad, message):
    def arg(lib):
        if isinstance(bad, str):
            return bad[1:-1] if bad.startswith("'") else getattr(lib, bad)
        return bad

    for lib in (engine, torch):
        with pytest.raises(TypeError) as info:
            lib.set_default_dtype(arg(lib))
        assert str(info.value) == message
    assert engine.get_default_dtype() is engine.float32
