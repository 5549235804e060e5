"""The double-backward formulas of the reduction, softmax, scan and sorting entries run on CuPy arrays too
(the stand-in), giving the CPU's first and second derivatives: the op table's ``test_double_backward`` runs
on the CPU only, and masks or weights kept as arrays would not mix with CuPy's there."""

import numpy as np
import optest
import pytest
from op_table.reduce import REDUCE, SOFTMAX
from op_table.scan import REDUCE_EXTRA, SCAN
from op_table.sorting import SORTING
from optest import make_arrays

import engine

_CLAIMED = [
    pytest.param(op, sample, id=f"{op.name}-{sample.name}")
    for op in (*REDUCE, *SOFTMAX, *SCAN, *REDUCE_EXTRA, *SORTING)
    if op.supports_gradgrad
    for sample in op.samples("float64")
    if sample.gradcheck and sample.grad is not False and all(np.size(x) for x in sample.arrays_or_shapes("float64"))
]


def _derivatives(fn, arrays, flags, device):
    """The first derivatives against a random upstream gradient, and the gradients of
    ``sum(first derivatives * fixed weights)`` with respect to the inputs."""
    rng = np.random.default_rng(3)
    inputs = [
        engine.tensor(a.astype(np.float64), requires_grad=f, device=device)
        if a.dtype.kind == "f"
        else engine.tensor(a, device=device)
        for a, f in zip(arrays, flags)
    ]
    outs = [o for o in optest._as_list(fn(engine, *inputs)) if o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    upstream = [engine.tensor(rng.standard_normal(tuple(o.shape)), device=device) for o in outs]
    firsts = engine.autograd.grad(outs, diff, upstream, create_graph=True, allow_unused=True)
    total = sum(
        (g * engine.tensor(rng.standard_normal(tuple(g.shape)), device=device)).sum()
        for g in firsts
        if g is not None and g.requires_grad
    )
    seconds = () if isinstance(total, int) else engine.autograd.grad(total, diff, allow_unused=True,
                                                                      materialize_grads=True)
    return [g.cpu().detach().numpy() for g in (*firsts, *seconds) if g is not None]


@pytest.mark.parametrize("op, sample", _CLAIMED)
def test_double_backward_on_the_cuda_device(op, sample, fake_cuda):
    arrays = make_arrays(
        sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    fn = op.call(op.op, sample)
    for a, b in zip(_derivatives(fn, arrays, flags, "cuda"), _derivatives(fn, arrays, flags, "cpu"), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
