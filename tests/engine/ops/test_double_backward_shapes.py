"""The first derivatives that ``create_graph=True`` computes (each node's ``backward_graph``) equal those of the
array backward, for the shape, indexing, scatter/gather, triangular and einsum entries of the op table.

``gradgradcheck`` checks that a formula agrees with its own derivatives; for an op linear in its input (most
of these) a formula off by a factor passes it, so the values are compared here.
"""

from __future__ import annotations

import numpy as np
import pytest
from op_table import einsum, index, scatter, shape, shape_extra, triangular
from optest import make_arrays

import engine

_ENTRIES = [op for table in (shape.SHAPE, shape_extra.SHAPE_EXTRA, index.INDEX, scatter.SCATTER,
                             triangular.TRIANGULAR, einsum.EINSUM) for op in table if op.supports_gradgrad]


def _samples():
    return [pytest.param(op, sample, id=f"{op.name}-{sample.name}")
            for op in _ENTRIES for sample in op.samples("float64")
            if sample.gradcheck and sample.grad is not False and not sample.dtypes]


def _first_derivatives(op, sample, arrays, flags, create_graph):
    inputs = [engine.tensor(a, requires_grad=f) if a.dtype.kind == "f" else engine.tensor(a)
              for a, f in zip(arrays, flags)]
    out = op.call(op.op, sample)(engine, *inputs)
    outs = [o for o in (out if isinstance(out, (tuple, list)) else [out]) if o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    if not outs or not diff:
        return []
    rng = np.random.default_rng(2)
    upstream = [engine.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    grads = engine.autograd.grad(outs, diff, upstream, create_graph=create_graph, allow_unused=True,
                                 materialize_grads=True)
    return [g.detach().numpy() for g in grads]


@pytest.mark.parametrize("op, sample", _samples())
def test_graph_gradients_match(op, sample):
    arrays = make_arrays(sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low,
                         sample.high, sample.positive)
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    plain = _first_derivatives(op, sample, arrays, flags, False)
    graph = _first_derivatives(op, sample, arrays, flags, True)
    assert len(plain) == len(graph)
    for a, b in zip(plain, graph):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
