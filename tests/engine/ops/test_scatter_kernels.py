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
