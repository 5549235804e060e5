"""The compiled gather/scatter_add/index_add kernels where the op table's small samples do not reach: work
split over the threads (by outer rows, or by inner columns when there is one row), bit for bit the generic
path's results, and the range error found by whichever thread meets it."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine import backend
from engine.threads import PARALLEL_MIN_SIZE

_SHAPES = [((2 * PARALLEL_MIN_SIZE // 256, 256), 1), ((64, 2 * PARALLEL_MIN_SIZE // 64), 0),
           ((8, 64, 2 * PARALLEL_MIN_SIZE // 512), 1)]


def _run(fn, impl):
    """``fn()``'s arrays with implementation ``impl`` preferred (``"generic"``: the compiled one disabled)."""
    with backend.disable("compiled") if impl == "generic" else backend.prefer(impl):
        return [t.detach().numpy().copy() for t in fn()]


@pytest.mark.parametrize("shape, dim", _SHAPES)
def test_threaded_kernels_match_generic_path(shape, dim):
    rng = np.random.default_rng(0)
    x = engine.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    src = engine.tensor(rng.standard_normal(shape, dtype=np.float32), requires_grad=True)
    index = engine.tensor(rng.integers(0, shape[dim], shape))
    sel = engine.tensor(rng.integers(0, shape[dim], shape[dim]))
    upstream = engine.tensor(rng.standard_normal(shape, dtype=np.float32))

    def ops():
        g = engine.gather(x, dim, index)
        s = engine.scatter_add(x, dim, index, src)
        a = engine.index_add(x, dim, sel, src, alpha=0.5)
        grads = engine.autograd.grad((g * upstream).sum() + (s * upstream).sum() + (a * upstream).sum(), (x, src))
        return [g, s, a, *grads, *engine.autograd.grad((engine.index_select(x, dim, sel) ** 2).sum(), x)]

    for ours, generic in zip(_run(ops, "compiled"), _run(ops, "generic")):
        np.testing.assert_array_equal(ours, generic)


@pytest.mark.parametrize("shape, dim", _SHAPES)
def test_threaded_kernels_refuse_an_index_out_of_range(shape, dim):
    x = engine.zeros(shape)
    index = np.zeros(shape, dtype=np.int64)
    index.reshape(-1)[-1] = shape[dim]  # in the last thread's share
    with pytest.raises(RuntimeError, match=f"index {shape[dim]} is out of bounds for dimension {dim} with size"):
        engine.gather(x, dim, engine.tensor(index))
    with pytest.raises(RuntimeError, match=f"index {shape[dim]} is out of bounds for dimension {dim} with size"):
        engine.scatter_add(x, dim, engine.tensor(index), x)


@pytest.mark.parametrize("shape, dim", _SHAPES)
def test_threaded_scatter_kernels_match_generic_path(shape, dim):
    """Overwrites (last write wins), products and extremes, with a NaN among the values, and their gradients."""
    rng = np.random.default_rng(1)
    x_data = rng.standard_normal(shape, dtype=np.float32)
    x_data.reshape(-1)[7] = np.nan
    x = engine.tensor(x_data, requires_grad=True)
    src = engine.tensor(rng.uniform(0.5, 1.5, shape).astype(np.float32), requires_grad=True)
    index = engine.tensor(rng.integers(0, shape[dim], shape))
    upstream = engine.tensor(rng.standard_normal(shape, dtype=np.float32))

    def ops():
        outs = [engine.scatter(x, dim, index, src), engine.scatter(x, dim, index, value=2.5),
                *[engine.scatter_reduce(x, dim, index, src, r) for r in ("prod", "amax", "amin")]]
        return [*outs, *engine.autograd.grad(sum((o * upstream).sum() for o in outs), (x, src))]

    for ours, generic in zip(_run(ops, "compiled"), _run(ops, "generic")):
        np.testing.assert_array_equal(ours, generic)


def test_scatter_kernels_with_a_smaller_index_and_double_backward():
    """An index smaller than ``src`` reads its leading block; the gradients of gradients match the generic path."""
    rng = np.random.default_rng(2)
    x = engine.tensor(rng.standard_normal((6, 5)), requires_grad=True)
    src = engine.tensor(rng.standard_normal((7, 6)), requires_grad=True)
    index = engine.tensor(rng.integers(0, 5, (6, 4)))

    def ops():
        results = []
        for reduce in (None, "prod", "amax"):
            out = (engine.scatter(x, 1, index, src) if reduce is None
                   else engine.scatter_reduce(x, 1, index, src, reduce))
            gx, gsrc = engine.autograd.grad((out ** 2).sum(), (x, src), create_graph=True)
            results += [out, gx, gsrc, *engine.autograd.grad((gx ** 2).sum() + (gsrc ** 2).sum(), (x, src))]
        return results

    for ours, generic in zip(_run(ops, "compiled"), _run(ops, "generic")):
        np.testing.assert_array_equal(ours, generic)


def test_scatter_kernel_refuses_an_index_out_of_range():
    x = engine.zeros(4, 3)
    with pytest.raises(RuntimeError, match="index 3 is out of bounds for dimension 1 with size 3"):
        engine.scatter(x, 1, engine.tensor([[0, 3]]), value=1.0)
    with pytest.raises(RuntimeError, match="index -1 is out of bounds for dimension 0 with size 4"):
        engine.scatter_reduce(x, 0, engine.tensor([[-1]]), x, "prod")
