"""Double-backward checks of the loss, normalisation, dropout, activation and erf entries that the op table's
``test_double_backward`` does not make (yet).

- l1_loss and smooth_l1_loss (beta=0 is l1_loss): torch returns their zero second derivative with respect to
  the input as a ZeroTensor, which optest's ``_to_numpy`` cannot read (``numpy(force=True)`` can), so the
  table cannot claim them: here the same check runs with ZeroTensors read. Once optest reads them, the two
  entries can claim ``supports_gradgrad`` and that test can go.
- The first derivatives computed with ``create_graph`` (``backward_graph``) equal the plain ones.
"""

import numpy as np
import optest
import pytest
import torch
from op_table import OPS
from op_table.loss import ACTIVATION, DROPOUT, LOSS, NORM, F
from op_table.special import SPECIAL
from optest import make_arrays, run_double_backward

import engine

_PARAMS = [
    pytest.param(op, sample, id=f"{op.name}-{sample.name}")
    for op in OPS
    if op.name in ("l1_loss", "smooth_l1_loss")
    for sample in op.samples("float64")
    if sample.gradcheck and sample.grad is not False
]


@pytest.fixture
def zero_tensors_readable(monkeypatch):
    read = optest._to_numpy
    monkeypatch.setattr(
        optest, "_to_numpy", lambda t: t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else read(t)
    )


@pytest.mark.usefixtures("zero_tensors_readable")
@pytest.mark.parametrize("op, sample", _PARAMS)
def test_double_backward(op, sample):
    arrays = make_arrays(
        sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    run_double_backward(op.call(op.op, sample), arrays, flags)



def _first_derivatives(fn, arrays, flags, create_graph):
    inputs = [
        engine.tensor(a.astype(np.float64), requires_grad=f) if a.dtype.kind == "f" else engine.tensor(a)
        for a, f in zip(arrays, flags)
    ]
    outs = [o for o in (fn(engine, *inputs),) if o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    upstream = [engine.tensor(np.random.default_rng(2).standard_normal(tuple(o.shape))) for o in outs]
    grads = engine.autograd.grad(outs, diff, upstream, create_graph=create_graph, allow_unused=True)
    return [None if g is None else g.detach().numpy() for g in grads]


_CLAIMED = [
    pytest.param(op, sample, id=f"{op.name}-{sample.name}")
    for op in (*LOSS, *NORM, *DROPOUT, *ACTIVATION, *SPECIAL)
    if op.supports_gradgrad or op.name in ("l1_loss", "smooth_l1_loss")
    for sample in op.samples("float64")
    if sample.gradcheck and sample.grad is not False
]


@pytest.mark.parametrize("op, sample", _CLAIMED)
def test_create_graph_gives_the_same_first_derivatives(op, sample):
    """The op table's double-backward test differentiates the create_graph gradients (``backward_graph``) but
    does not compare them with the plain ones; for piecewise-linear ops nothing else would notice a wrong one."""
    arrays = make_arrays(
        sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    fn = op.call(op.op, sample)
    plain = _first_derivatives(fn, arrays, flags, False)
    graph = _first_derivatives(fn, arrays, flags, True)
    for a, b in zip(plain, graph):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


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
    for a, b in zip(_second_derivatives(fn, arrays, flags, "cuda"), _second_derivatives(fn, arrays, flags, "cpu")):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_hardsigmoid_has_no_double_backward_as_in_pytorch():
    for m, match in ((torch, "derivative for aten::hardsigmoid_backward is not implemented"),
                     (engine, "the derivative of HardsigmoidBackward0's backward is not implemented")):
        x = m.tensor([-4.0, -1.0, 2.0, 5.0], requires_grad=True)
        (g,) = m.autograd.grad(F(m).hardsigmoid(x).sum(), x, create_graph=True)
        with pytest.raises(RuntimeError, match=match):
            m.autograd.grad(g.sum(), x)
