"""``engine.creation`` with ``device=``: every creator puts its tensor on the device asked for (the CuPy stand-in),
with the CPU's dtype, shape and values; the ``*_like`` functions keep the input's device."""

import numpy as np
import pytest
from device_support import CREATORS, assert_on

import engine


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
