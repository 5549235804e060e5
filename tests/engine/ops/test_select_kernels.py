"""The compiled small-k topk (``select_kernels``): the same values as PyTorch and, among equal values, the
first indices (the stable order), NaN as the largest value, on any axis and on sorted lines (every element
inserted)."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops.sorting import _argsort


@pytest.mark.parametrize("shape, axis", [((7, 30), 1), ((30, 7), 0), ((3, 20, 4), 1), ((2, 3, 17), 2)])
@pytest.mark.parametrize("k", [1, 3, 8])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_topk_is_the_stable_choice(shape, axis, k, largest, dtype):
    rng = np.random.default_rng(k)
    a = np.floor(rng.standard_normal(shape) * 2).astype(dtype)  # many ties
    a[rng.random(shape) < 0.1] = np.nan
    with backend.prefer("compiled"):
        out = engine.topk(engine.tensor(a), k, axis, largest)
    ref = torch.topk(torch.tensor(a), k, axis, largest)
    np.testing.assert_array_equal(out.values.numpy(), ref.values.numpy())
    assert out.values.dtype == engine.tensor(a).dtype
    stable = np.take(_argsort(a, axis, largest), np.arange(k), axis=axis)
    np.testing.assert_array_equal(out.indices.numpy(), stable)


@pytest.mark.parametrize("largest", [True, False])
def test_compiled_topk_on_sorted_lines(largest):
    a = np.sort(np.random.default_rng(0).standard_normal((4, 50)).astype(np.float32), axis=1)
    a = a if largest else a[:, ::-1].copy()
    x = engine.tensor(a, requires_grad=True)
    with backend.prefer("compiled"):
        out = engine.topk(x, 8, 1, largest)
    out.values.sum().backward()
    ref = torch.topk(torch.tensor(a), 8, 1, largest)
    np.testing.assert_array_equal(out.values.detach().numpy(), ref.values.numpy())
    np.testing.assert_array_equal(out.indices.numpy(), ref.indices.numpy())
    expected = np.zeros_like(a)
    np.put_along_axis(expected, ref.indices.numpy(), 1, axis=1)
    np.testing.assert_array_equal(x.grad.numpy(), expected)


@pytest.mark.parametrize("shape, axis", [((7, 30), 1), ((30, 7), 0), ((3, 20, 4), 1), ((5, 1), 1), ((4, 0, 3), 2)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_mode_matches_the_sorted_runs(shape, axis, dtype):
    """Both paths pick the smallest of the most frequent values at its last occurrence, NaNs counting as one
    value (PyTorch leaves NaNs' place open, so the NumPy path is the reference here)."""
    rng = np.random.default_rng(len(shape) + axis)
    a = np.floor(rng.standard_normal(shape) * 1.5).astype(dtype)
    a[rng.random(shape) < 0.2] = np.nan
    a[a == 0] = -0.0  # equal to 0.0 in the other places
    x = engine.tensor(a)
    with backend.prefer("compiled"):
        out = engine.mode(x, axis)
    with backend.disable("compiled"):
        ref = engine.mode(x, axis)
    np.testing.assert_array_equal(out.values.numpy(), ref.values.numpy())
    np.testing.assert_array_equal(out.indices.numpy(), ref.indices.numpy())


@pytest.mark.parametrize("shape, axis", [((7, 31), 1), ((30, 7), 0), ((3, 20, 4), 1), ((5, 1), 1)])
@pytest.mark.parametrize("op", ["kthvalue first", "kthvalue middle", "kthvalue last", "median"])
@pytest.mark.parametrize("nan", [False, True])
def test_compiled_selection(shape, axis, op, nan):
    """kthvalue and median through the compiled quickselect: PyTorch's values, and indices that point at them
    (PyTorch leaves which of equal values open); a median line holding a NaN gives its first NaN."""
    rng = np.random.default_rng(shape[axis])
    a = np.floor(rng.standard_normal(shape) * 3).astype(np.float32)
    if nan:
        a[rng.random(shape) < 0.1] = np.nan
    n = shape[axis]
    k = {"kthvalue first": 1, "kthvalue middle": (n + 1) // 2, "kthvalue last": n}.get(op)

    def call(m, x):
        return m.median(x, axis) if k is None else m.kthvalue(x, k, axis)

    with backend.prefer("compiled"):
        out = call(engine, engine.tensor(a))
    ref = call(torch, torch.tensor(a))
    np.testing.assert_array_equal(out.values.numpy(), ref.values.numpy())
    picked = np.take_along_axis(a, np.expand_dims(out.indices.numpy(), axis), axis).squeeze(axis)
    np.testing.assert_array_equal(picked, ref.values.numpy())
    if k is None and nan:
        first_nan = np.isnan(a).argmax(axis)
        has_nan = np.isnan(a).any(axis)
        np.testing.assert_array_equal(out.indices.numpy()[has_nan], first_nan[has_nan])
