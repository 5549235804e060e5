"""The no-graph fast paths of gather, scatter, scatter_add, scatter_reduce, index_select and index_add (a
call that records no graph runs its compiled kernel without ``Op.apply``): the same values, bit for bit, as
the graph path, PyTorch's values and dtypes, the same errors; and the compiled ``ufunc.at`` that the product
and extreme gradients use, bit for bit NumPy's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import engine
from engine.ops import scatter_kernels

_CASES = [((6, 7), 1), ((6, 7), 0), ((6, 7), -1), ((3, 4, 5), 1), ((3, 4, 5), 0), ((9,), 0)]
_SCATTERS = {
    "gather": lambda m, x, dim, idx, src: m.gather(x, dim, idx),
    "scatter": lambda m, x, dim, idx, src: m.scatter(x, dim, idx, src),
    "scatter value": lambda m, x, dim, idx, src: m.scatter(x, dim, idx, value=2.5),
    "scatter multiply": lambda m, x, dim, idx, src: m.scatter(x, dim, idx, src, reduce="multiply"),
    "scatter_add": lambda m, x, dim, idx, src: m.scatter_add(x, dim, idx, src),
    "sum": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "sum"),
    "prod": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "prod"),
    "amax": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "amax"),
    "amin": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "amin"),
    "amax without self": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "amax", include_self=False),
    "mean": lambda m, x, dim, idx, src: m.scatter_reduce(x, dim, idx, src, "mean"),
}
_SLICES = {
    "index_select": lambda m, x, dim, sel, src: m.index_select(x, dim, sel),
    "index_add": lambda m, x, dim, sel, src: m.index_add(x, dim, sel, src, alpha=0.75),
}


def _graph_path(fn, x, *rest):
    """``fn``'s result through ``Op.apply``: the input requires grad, so no fast path takes the call."""
    return fn(engine, engine.tensor(x._data.copy(), requires_grad=True), *rest).detach().numpy()


def _check(fn, x_np, dim, index_np, src_np):
    x, index, src = engine.tensor(x_np), engine.tensor(index_np), engine.tensor(src_np)
    out = fn(engine, x, dim, index, src)
    assert not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), _graph_path(fn, x, dim, index, src))
    expected = fn(torch, torch.tensor(x_np), dim, torch.tensor(index_np), torch.tensor(src_np)).numpy()
    assert out.numpy().dtype == expected.dtype
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.filterwarnings("ignore:The reduce argument of torch.scatter")
@pytest.mark.parametrize("shape, dim", _CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_SCATTERS))
def test_scatters_without_graph_match_graph_path_and_torch(name, dtype, shape, dim):
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 1.5, shape).astype(dtype)
    index = rng.integers(0, shape[dim], shape, dtype=np.int64 if dtype == np.float32 else np.int32)
    if name == "gather" or name == "scatter_add":
        index = index.astype(np.int64)
    src = rng.uniform(0.5, 1.5, shape).astype(dtype)
    _check(_SCATTERS[name], x, dim, index, src)


@pytest.mark.parametrize("shape, dim", _CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(_SLICES))
def test_slice_ops_without_graph_match_graph_path_and_torch(name, dtype, shape, dim):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape).astype(dtype)
    sel = np.concatenate([rng.permutation(shape[dim]), [0, shape[dim] - 1]])  # repeats accumulate in order
    src_shape = list(shape)
    src_shape[dim] = sel.size
    _check(_SLICES[name], x, dim, sel, rng.standard_normal(src_shape).astype(dtype))


def test_fast_paths_take_strided_inputs_and_run_under_no_grad():
    rng = np.random.default_rng(2)
    x_np = rng.standard_normal((8, 6)).astype(np.float32)
    x = engine.tensor(x_np, requires_grad=True)
    xt = x.detach().t()  # non-contiguous
    src = engine.tensor(rng.standard_normal((8, 6)).astype(np.float32)).t()
    index = engine.tensor(rng.integers(0, 8, (8, 6))).t()
    sel = engine.tensor(rng.integers(0, 8, 16))[::2]
    with engine.no_grad():
        outs = [engine.gather(xt, 1, index), engine.scatter_add(xt, 1, index, src),
                engine.scatter_reduce(xt, 1, index, src, "prod"), engine.index_select(xt, 1, sel),
                engine.index_add(xt, 1, sel, src), engine.gather(x, 0, engine.tensor(rng.integers(0, 8, (8, 6))))]
    assert not any(o.requires_grad for o in outs)
    tx, tsrc, tindex, tsel = (torch.tensor(x_np).t(), torch.tensor(src.numpy()), torch.tensor(index.numpy()),
                              torch.tensor(sel.numpy()))
    expected = [torch.gather(tx, 1, tindex), torch.scatter_add(tx, 1, tindex, tsrc),
                torch.scatter_reduce(tx, 1, tindex, tsrc, "prod"), torch.index_select(tx, 1, tsel),
                torch.index_add(tx, 1, tsel, tsrc)]
    for ours, theirs in zip(outs, expected):
        np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def _error(fn, *args):
    with pytest.raises(Exception) as info:
        fn(*args)
    return type(info.value), str(info.value)


@pytest.mark.parametrize("bad", [-1, 5, -6, 100])
def test_fast_paths_raise_the_graph_paths_errors(bad):
    x_np = np.zeros((3, 5), dtype=np.float32)
    index = np.zeros((3, 5), dtype=np.int64)
    index[2, 3] = bad
    sel = np.array([0, bad, 1])
    src = engine.zeros(3, 3)

    calls = [lambda x: engine.gather(x, 1, engine.tensor(index)),
             lambda x: engine.scatter(x, 1, engine.tensor(index), x),
             lambda x: engine.scatter_add(x, 1, engine.tensor(index), x),
             lambda x: engine.scatter_reduce(x, 1, engine.tensor(index), x, "amin"),
             lambda x: engine.index_select(x, 1, engine.tensor(sel)),
             lambda x: engine.index_add(x, 1, engine.tensor(sel), src)]
    for call in calls:
        fast = _error(call, engine.tensor(x_np))
        assert fast == _error(call, engine.tensor(x_np, requires_grad=True))
        assert fast[0] is RuntimeError and str(abs(bad) if bad == 100 else bad) in fast[1]


def test_empty_inputs_keep_the_general_checks():
    empty = engine.zeros(0, 4)
    with pytest.raises(RuntimeError, match="out of DATA bounds, id=7 axis_dim=4"):
        engine.index_select(empty, 1, engine.tensor([7]))
    with pytest.raises(RuntimeError, match="index 7 is out of bounds for dimension 1 with size 4"):
        engine.index_add(empty, 1, engine.tensor([7]), engine.zeros(0, 1))
    assert engine.index_select(empty, 1, engine.tensor([3, 0])).shape == (0, 2)
    assert engine.index_add(engine.zeros(4, 0), 0, engine.tensor([1]), engine.zeros(1, 0)).shape == (4, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("product", [True, False])
def test_compiled_at_is_numpys_ufunc_at_bit_for_bit(product, dtype):
    rng = np.random.default_rng(3)
    out = rng.uniform(0.5, 2.0, 50).astype(dtype)
    out[3] = np.nan
    positions = rng.integers(0, 50, 400)
    values = rng.uniform(0.5, 2.0, 400).astype(dtype)
    values[7] = np.inf
    expected = out.copy()
    (np.multiply if product else np.add).at(expected, positions, values)
    assert scatter_kernels.at(out, positions, values, product) is None
    np.testing.assert_array_equal(out, expected)
    assert scatter_kernels.at(out, np.array([1, 50, -1]), values[:3], product) == 50


def test_calls_without_graph_skip_op_apply(monkeypatch):
    """The fast paths are taken: with ``apply`` of the four ops refused, no-grad calls still run; a call
    that records a graph goes through ``apply``."""
    from engine.ops import index_dim, scatter

    def refused(*args, **kwargs):
        raise AssertionError("Op.apply was called")

    for op in (scatter.Gather, scatter.ScatterReduce, index_dim.IndexSelect, index_dim.IndexAdd):
        monkeypatch.setattr(op, "apply", refused)
    x, index, sel = engine.ones(3, 4), engine.tensor([[0, 1, 1, 3]] * 3), engine.tensor([2, 0])
    engine.gather(x, 1, index)
    engine.scatter(x, 1, index, x)
    engine.scatter_add(x, 1, index, x)
    engine.scatter_reduce(x, 1, index, x, "amax")
    engine.index_select(x, 1, sel)
    engine.index_add(x, 1, sel, engine.ones(3, 2))
    with pytest.raises(AssertionError, match="Op.apply was called"):
        engine.gather(engine.ones(3, 4, requires_grad=True), 1, index)


def _product_grads_reference(x, values, result, g, pos, include_self):
    """``ScatterReduce._grads``' array formulas for a product, with NumPy's ``multiply.at``."""
    def product(start, vals):
        out = start.copy()
        if not include_self:
            out[pos] = 1
        np.multiply.at(out, pos, vals)
        return out

    masked_x = np.where(x == 0, 1, x).astype(x.dtype)
    gx = g * product(masked_x, values) / masked_x
    zero = values == 0
    zeros = np.zeros(x.shape, dtype=x.dtype)
    np.add.at(zeros, pos, zero.astype(x.dtype))
    single = zero & (zeros[pos] == 1)
    without = product(x, np.where(single, 1, values).astype(x.dtype))
    gvalues = np.where(single, (g * without)[pos], (g * result)[pos] / np.where(zero, 1, values).astype(x.dtype))
    return gx, gvalues


@pytest.mark.parametrize("include_self", [True, False])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_compiled_product_grads_are_the_array_formulas_bit_for_bit(dtype, include_self):
    rng = np.random.default_rng(4)
    x = rng.uniform(-2, 2, 40).astype(dtype)
    x[[1, 5]] = 0
    x[9] = np.nan
    pos = rng.integers(0, 40, 300)
    pos[:4] = [2, 2, 3, 3]
    values = rng.uniform(-2, 2, 300).astype(dtype)
    values[[0, 2, 3, 20]] = 0  # position 2: one zero; position 3: two zeros; and wherever pos[20] lands
    values[30] = np.inf
    result = x.copy()
    if not include_self:
        result[pos] = 1
    np.multiply.at(result, pos, values)
    g = rng.standard_normal(40).astype(dtype)
    ours = scatter_kernels.product_grads(x, values, result, g, pos, include_self)
    for a, b in zip(ours, _product_grads_reference(x, values, result, g, pos, include_self)):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
