"""Double-backward checks of the reduction, softmax, scan and sorting entries beyond the op table's
``test_double_backward``.

- norm: torch returns the zero second derivative of its piecewise-linear orders (p=1) as a ZeroTensor, which
  optest's ``_to_numpy`` cannot read (``numpy(force=True)`` can), so the table cannot claim norm: here the same
  check runs with ZeroTensors read. Once optest reads them, the entry can claim ``supports_gradgrad`` and that
  test can go.
- The first derivatives computed with ``create_graph`` (``backward_graph``) equal the plain ones: for the
  selecting ops (sort, topk, max along a dim, ...) the gradient is linear in the upstream one and does not
  depend on the input, so nothing else would notice a wrong one.
- The formulas run on CuPy arrays too (the stand-in), giving the CPU's results.
"""

import numpy as np
import optest
import pytest
import torch
from op_table.reduce import REDUCE, SOFTMAX
from op_table.scan import REDUCE_EXTRA, SCAN
from op_table.sorting import SORTING
from optest import make_arrays, run_double_backward

import engine

_MINE = (*REDUCE, *SOFTMAX, *SCAN, *REDUCE_EXTRA, *SORTING)


def _params(ops):
    return [
        pytest.param(op, sample, id=f"{op.name}-{sample.name}")
        for op in ops
        for sample in op.samples("float64")
        if sample.gradcheck and sample.grad is not False and all(np.size(x) for x in sample.arrays_or_shapes("float64"))
    ]


_NORM = _params([op for op in REDUCE if op.name == "norm"])
_CLAIMED = _params([op for op in _MINE if op.supports_gradgrad or op.name == "norm"])


def _arrays(sample):
    arrays = make_arrays(
        sample.arrays_or_shapes("float64"), sample.input_dtypes("float64"), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    return arrays, flags


@pytest.fixture
def zero_tensors_readable(monkeypatch):
    read = optest._to_numpy
    monkeypatch.setattr(
        optest, "_to_numpy", lambda t: t.detach().numpy(force=True) if isinstance(t, torch.Tensor) else read(t)
    )


@pytest.mark.usefixtures("zero_tensors_readable")
@pytest.mark.parametrize("op, sample", _NORM)
def test_norm_double_backward(op, sample):
    run_double_backward(op.call(op.op, sample), *_arrays(sample))


def _inputs(arrays, flags, device):
    return [
        engine.tensor(a.astype(np.float64), requires_grad=f, device=device)
        if a.dtype.kind == "f"
        else engine.tensor(a, device=device)
        for a, f in zip(arrays, flags)
    ]


def _derivatives(fn, arrays, flags, device="cpu", create_graph=True):
    """The first derivatives against a random upstream gradient, and with ``create_graph`` the gradients of
    ``sum(first derivatives * fixed weights)`` with respect to the inputs."""
    rng = np.random.default_rng(3)
    inputs = _inputs(arrays, flags, device)
    outs = [o for o in optest._as_list(fn(engine, *inputs)) if o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    upstream = [engine.tensor(rng.standard_normal(tuple(o.shape)), device=device) for o in outs]
    firsts = engine.autograd.grad(outs, diff, upstream, create_graph=create_graph, allow_unused=True)
    seconds = ()
    if create_graph:
        total = sum(
            (g * engine.tensor(rng.standard_normal(tuple(g.shape)), device=device)).sum()
            for g in firsts
            if g is not None and g.requires_grad
        )
        if not isinstance(total, int):
            seconds = engine.autograd.grad(total, diff, allow_unused=True, materialize_grads=True)
    return [g.cpu().detach().numpy() for g in (*firsts, *seconds) if g is not None]


@pytest.mark.parametrize("op, sample", _CLAIMED)
def test_create_graph_gives_the_same_first_derivatives(op, sample):
    fn = op.call(op.op, sample)
    arrays, flags = _arrays(sample)
    plain = _derivatives(fn, arrays, flags, create_graph=False)
    graph = _derivatives(fn, arrays, flags)[: len(plain)]
    for a, b in zip(plain, graph, strict=True):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("op, sample", _CLAIMED)
def test_double_backward_on_the_cuda_device(op, sample, fake_cuda):
    fn = op.call(op.op, sample)
    arrays, flags = _arrays(sample)
    for a, b in zip(_derivatives(fn, arrays, flags, "cuda"), _derivatives(fn, arrays, flags), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
