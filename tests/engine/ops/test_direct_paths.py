"""The direct paths of cumsum, cumprod, cummax, cummin, nansum, aminmax, topk and mode (engine.ops.direct's
helpers): on untracked tensors (engine.ops.op.untracked) they skip the node, so each is checked against the
node's own path (forced by disabling a name that no implementation has, which leaves the choice unchanged) bit
for bit, and against PyTorch."""

import numpy as np
import pytest
import torch

import engine
from engine import backend
from engine.ops.reduce_extra import AminMax, CompiledExtremes
from engine.threads import PARALLEL_MIN_SIZE

RNG = np.random.default_rng(0)


def _array(shape, dtype, nans=False):
    a = np.asarray(RNG.standard_normal(shape) * 3)
    if nans:
        a[RNG.random(shape) < 0.2] = np.nan
    if dtype in ("int64", "int32", "bool"):
        a = np.nan_to_num(a) > 0 if dtype == "bool" else np.nan_to_num(a).round()
    return np.asarray(a.astype(dtype))


def _node_path(fn, t):
    with backend.disable("no implementation has this name"):
        return fn(t)


def _same(ours, ref):
    """Equal bits, dtype and shape, element by element (a structseq's fields each)."""
    ours, ref = (ours, ref) if isinstance(ours, tuple) else ((ours,), (ref,))
    assert type(ours) is type(ref)
    for a, b in zip(ours, ref, strict=True):
        assert a._data.dtype == b._data.dtype and a._data.shape == b._data.shape
        np.testing.assert_array_equal(a._data, b._data)


def _like_torch(ours, ref, exact, atol=1e-5):
    ours, ref = (ours, ref) if isinstance(ours, tuple) else ((ours,), (ref,))
    for a, b in zip(ours, ref, strict=True):
        b = b.numpy()
        assert a._data.dtype == b.dtype and a._data.shape == b.shape
        if exact:
            np.testing.assert_array_equal(a._data, b)
        else:
            np.testing.assert_allclose(a._data, b, rtol=1e-5, atol=atol)


# (name, call on engine or torch, dtypes, whether PyTorch gives the same bits)
OPS = [
    ("cumsum", lambda m, t, d: m.cumsum(t, d), ("float32", "float64", "int64", "int32", "bool"), False),
    ("cumprod", lambda m, t, d: m.cumprod(t * 0.3 if t.is_floating_point() else t, d),
     ("float32", "float64", "int64"), False),
    ("cummax", lambda m, t, d: m.cummax(t, d), ("float32", "float64", "int64", "bool"), True),
    ("cummin", lambda m, t, d: m.cummin(t, d), ("float32", "float64", "int32"), True),
    ("nansum", lambda m, t, d: m.nansum(t), ("float32", "float64", "int64"), False),
    ("nansum dim", lambda m, t, d: m.nansum(t, d, keepdim=True), ("float32", "float64"), False),
    ("aminmax", lambda m, t, d: m.aminmax(t), ("float32", "float64", "int64"), True),
    ("aminmax keepdim", lambda m, t, d: m.aminmax(t, dim=d, keepdim=True), ("float32", "int64"), True),
    ("topk", lambda m, t, d: m.topk(t, min(3, t.shape[d] if t.dim() else 1), dim=d), ("float32", "float64"), True),
    ("topk smallest", lambda m, t, d: m.topk(t, 1, dim=d, largest=False), ("float32",), True),
    ("mode", lambda m, t, d: m.mode(t.floor() if t.is_floating_point() else t, d), ("float32", "float64"), True),
]
SHAPES = [(), (7,), (5, 9), (3, 4, 6), (4, 1, 5)]


@pytest.mark.parametrize("name, fn, dtypes, exact", OPS, ids=[op[0] for op in OPS])
def test_direct_equals_node_and_torch(name, fn, dtypes, exact):
    for dtype in dtypes:
        for shape in SHAPES:
            for nans in (False, True) if dtype.startswith("float") else (False,):
                a = _array(shape, dtype, nans)
                if name.startswith("mode") and nans:
                    continue  # PyTorch's mode of lines with NaNs is left open
                for dim in range(-len(shape), max(len(shape), 1)):
                    if name == "topk" and nans:
                        continue  # the order of equal NaNs is left open
                    t = engine.tensor(a)
                    ours = fn(engine, t, dim)
                    _same(ours, _node_path(lambda x, dim=dim: fn(engine, x, dim), t))
                    _like_torch(ours, fn(torch, torch.tensor(a), dim), exact and not nans)


@pytest.mark.parametrize("name, fn, dtypes, exact", OPS, ids=[op[0] for op in OPS])
def test_non_contiguous_and_large(name, fn, dtypes, exact):
    """A transposed view, and an input large enough for the threaded implementations."""
    for a in (_array((6, 40), "float32").T, _array((4, PARALLEL_MIN_SIZE // 2), "float32", nans="nansum" in name)):
        t = engine.tensor(a)
        ours = fn(engine, t, 1)
        _same(ours, _node_path(lambda x: fn(engine, x, 1), t))
        ref = fn(torch, torch.tensor(a), 1)
        if name == "mode":  # which index of the mode PyTorch gives on long lines is left open: ours is a mode's
            np.testing.assert_array_equal(ours.values._data, ref.values.numpy())
            np.testing.assert_array_equal(np.take_along_axis(np.floor(a), ours.indices._data[:, None], 1)[:, 0],
                                          ours.values._data)
            continue
        _like_torch(ours, ref, exact, atol=1e-2)  # float32 running sums of 6e4 values


def test_no_grad_takes_the_direct_path_and_records_nothing():
    t = engine.tensor(_array((3, 5), "float32"), requires_grad=True)
    with engine.no_grad():
        out = engine.cumsum(t, 1)
        values = engine.topk(t, 2).values
    assert out.grad_fn is None and values.grad_fn is None and not out.requires_grad
    assert engine.cumsum(t, 1).grad_fn is not None


def test_graph_and_preferences_take_the_node():
    """With a graph to record, or an implementation preferred, the node runs (its name shows on grad_fn, and a
    preferred implementation is the one that runs)."""
    t = engine.tensor(_array((2, 8), "float32"), requires_grad=True)
    assert engine.nansum(t).grad_fn.name() == "NansumBackward0"
    x = engine.tensor(_array((2, 8), "float32"))
    calls = []
    two_passes = next(impl for impl in AminMax.implementations if impl.name == "two_passes")
    original = two_passes.extremes
    try:
        two_passes.extremes = staticmethod(lambda *args: calls.append(1) or original(*args))
        with backend.prefer("two_passes"):
            engine.aminmax(x)
        assert calls
        calls.clear()
        engine.aminmax(x)  # the compiled pass, directly
        assert not calls
    finally:
        two_passes.extremes = staticmethod(original)


def test_the_whole_array_extremes_take_the_compiled_pass():
    x = _array((10, 100), "float32")
    assert backend.choose(AminMax.implementations, (x,), {"dims": None}) is CompiledExtremes


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_compiled_extremes_nan_and_infinities(dtype):
    for values in ([np.nan, 1, 2], [1, 2, np.nan], [np.inf, -np.inf, 0], [-0.0, 0.0], [3.0], [1, np.nan, -np.inf]):
        a = np.array(values, dtype=dtype)
        lo, hi = engine.aminmax(engine.tensor(a))
        np.testing.assert_array_equal(lo._data, np.min(a))
        np.testing.assert_array_equal(hi._data, np.max(a))
        assert lo._data.dtype == a.dtype and lo._data.shape == ()


def test_nansum_small_sums_in_float64():
    """The compiled pass accumulates in float64, so a float32 sum of many small values beside a large one
    keeps them, as PyTorch's does."""
    a = np.full(1000, 1e-4, dtype=np.float32)
    a[0], a[1] = 1e4, np.nan
    expected = torch.nansum(torch.tensor(a).double()).float().item()
    assert engine.nansum(engine.tensor(a)).item() == pytest.approx(expected, rel=1e-7)


def test_bincount_matches_torch():
    a = RNG.integers(0, 50, 300)
    for minlength in (0, 10, 80):
        out = engine.bincount(engine.tensor(a), minlength=minlength)
        ref = torch.bincount(torch.tensor(a), minlength=minlength).numpy()
        assert out._data.dtype == ref.dtype
        np.testing.assert_array_equal(out._data, ref)


@pytest.mark.parametrize("shape", [(), (0,), (7,), (5, 9), (3, 0, 2), (3, 4, 6), (4, PARALLEL_MIN_SIZE // 4 + 3)])
@pytest.mark.parametrize("dtype", ["bool", "float32", "int64", "float16"])
def test_nonzero_matches_torch(shape, dtype):
    a = np.asarray(RNG.random(shape) < 0.5).astype(dtype)
    out = engine.nonzero(engine.tensor(a))
    ref = torch.nonzero(torch.tensor(a)).numpy()
    assert out._data.dtype == ref.dtype and out._data.shape == ref.shape
    np.testing.assert_array_equal(out._data, ref)


def test_bfloat16_takes_the_node_where_it_computes_in_float32():
    t = engine.tensor(_array((3, 7), "float32"), dtype=engine.bfloat16)
    for fn in (lambda x: engine.cumsum(x, 1), lambda x: engine.cumprod(x, 1), engine.nansum,
               lambda x: engine.cummax(x, 1), engine.aminmax):
        _same(fn(t), _node_path(fn, t))
