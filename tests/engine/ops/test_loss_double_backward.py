"""Double-backward checks of the loss, normalisation, dropout, activation and erf entries that the op table's
``test_double_backward`` does not make: the formulas on the CuPy stand-in, and hardsigmoid's refusal."""

import numpy as np
import pytest
import torch
from op_table.loss import ACTIVATION, DROPOUT, LOSS, NORM, F
from op_table.special import SPECIAL
from optest import make_arrays

import engine

_CLAIMED = [
    pytest.param(op, sample, id=f"{op.name}-{sample.name}")
    for op in (*LOSS, *NORM, *DROPOUT, *ACTIVATION, *SPECIAL)
    if op.supports_gradgrad
    for sample in op.samples("float64")
    if sample.gradcheck and sample.grad is not False
]


def _second_derivatives(fn, arrays, flags, device):
    """The gradients of ``sum(first derivatives * fixed weights)`` with respect to the inputs, on ``device``."""
    rng = np.random.default_rng(3)
    inputs = [
        engine.tensor(a.astype(np.float64), requires_grad=f, device=device)
        if a.dtype.kind == "f"
        else engine.tensor(a, device=device)
        for a, f in zip(arrays, flags)
    ]
    out = fn(engine, *inputs)
    diff = [t for t in inputs if t.requires_grad]
    upstream = engine.tensor(rng.standard_normal(tuple(out.shape)), device=device)
    firsts = engine.autograd.grad([out], diff, [upstream], create_graph=True, allow_unused=True)
    total = sum(
        (g * engine.tensor(rng.standard_normal(tuple(g.shape)), device=device)).sum()
        for g in firsts
        if g is not None and g.requires_grad
    )
    seconds = () if isinstance(total, int) else engine.autograd.grad(total, diff, materialize_grads=True)
    return [g.cpu().detach().numpy() for g in (*firsts, *seconds)]


@pytest.mark.parametrize("op, sample", _CLAIMED)
def test_double_backward_on_the_cuda_device(op, sample, fake_cuda):
    """The formulas run on CuPy arrays too (the stand-in), giving the CPU's results."""
    arrays = make_arrays(
        sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    fn = op.call(op.op, sample)
    for a, b in zip(_second_derivatives(fn, arrays, flags, "cuda"), _second_derivatives(fn, arrays, flags, "cpu"),
                    strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_hardsigmoid_has_no_double_backward_as_in_pytorch():
    for m, match in ((torch, "derivative for aten::hardsigmoid_backward is not implemented"),
                     (engine, "the derivative of HardsigmoidBackward0's backward is not implemented")):
        x = m.tensor([-4.0, -1.0, 2.0, 5.0], requires_grad=True)
        (g,) = m.autograd.grad(F(m).hardsigmoid(x).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match=match):
            m.autograd.grad(g.sum(), x)
