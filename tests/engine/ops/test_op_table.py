"""Generic tests over the op table (the ``op_table`` package): op × dtype × device × sample against PyTorch.

- ``test_forward_and_grad``: forward values, dtypes, ``requires_grad`` and first-order gradients, on the CPU
  and on a CUDA device (``table_cuda``: the CuPy stand-in, or a real GPU under ``LAYERLAB_REAL_CUDA=1``), for
  every dtype the op takes.
- ``test_variant``: each method/operator spelling of the op, on every sample its signature takes (float32, CPU).
- ``test_gradcheck``: ``engine.autograd.gradcheck`` in float64 where gradients apply.
- ``test_double_backward``: ``gradgradcheck`` and one direction of torch's double backward, in float64, for
  the entries that claim ``supports_gradgrad``.
- ``test_error``: the error inputs raise torch's exception type and message, on each device.

The forward/gradient test also expands over the implementations an entry lists (``implementations``), each
preferred in turn through ``engine.backend.prefer``; where it does not apply (another device or dtype) the op
takes the one that does.
"""

from __future__ import annotations

import contextlib
import inspect

import numpy as np
import pytest
from op_table import OPS, OpInfo, SampleInput
from optest import TOLERANCES, check, check_error, make_arrays, run_double_backward, run_gradcheck

from engine import backend


def _params(ops, *, dtypes=None, devices=None, keep=lambda op, sample: True):
    """pytest params (op, dtype, device, sample) with the table's strict xfails attached."""
    params = []
    for op in ops:
        for dtype in dtypes or op.dtypes:
            if dtype not in op.dtypes:
                continue
            for device in devices or op.devices:
                for sample in op.samples(dtype):
                    if not keep(op, sample):
                        continue
                    marks = [
                        pytest.mark.xfail(reason=x.reason, strict=True)
                        for x in op.xfails
                        if x.applies(dtype, device, sample.name)
                    ]
                    params.append(
                        pytest.param(
                            op, dtype, device, sample, id=f"{op.name}-{dtype}-{device}-{sample.name}", marks=marks
                        )
                    )
    return params


def _tolerances(op: OpInfo, sample: SampleInput, dtype: str) -> dict:
    atol, rtol = op.tolerances.get(dtype, TOLERANCES.get(dtype, (None, None)))
    return {
        "atol": sample.atol if sample.atol is not None else atol,
        "rtol": sample.rtol if sample.rtol is not None else rtol,
    }


def _check(op: OpInfo, fn, sample: SampleInput, dtype: str, device: str, *, np_fn=None) -> None:
    check(
        op.call(fn, sample),
        sample.arrays_or_shapes(dtype),
        dtype=sample.input_dtypes(dtype),
        grad=sample.grad if op.supports_grad else False,
        low=sample.low,
        high=sample.high,
        positive=sample.positive,
        np_fn=np_fn,
        gradcheck=False,
        device=device,
        torch_fn=op.call(op.torch_op, sample) if op.torch_op else None,
        **_tolerances(op, sample, dtype),
    )


def _ref(op: OpInfo, sample: SampleInput):
    if op.ref is None:
        return None
    return lambda *arrays: op.ref(*arrays, *sample.args, **sample.kwargs)


def _forward_params():
    return [
        pytest.param(*p.values, impl, id=p.id if impl is None else f"{p.id}-{impl}", marks=p.marks)
        for p in _params(OPS)
        for impl in p.values[0].implementations or (None,)
    ]


@pytest.mark.parametrize("op, dtype, device, sample, impl", _forward_params())
def test_forward_and_grad(op, dtype, device, sample, impl, request):
    if device == "cuda":
        request.getfixturevalue("table_cuda")
    with backend.prefer(impl) if impl else contextlib.nullcontext():
        _check(op, op.op, sample, dtype, device, np_fn=_ref(op, sample))


def _variant_params():
    params = []
    for p in _params(OPS, dtypes=["float32"], devices=["cpu"]):
        op, _, _, sample = p.values
        for name, variant in op.variants.items():
            try:
                inspect.signature(variant).bind(None, *sample.inputs, *sample.args, **sample.kwargs)
            except TypeError:
                continue  # this spelling does not take the sample's arguments (an operator and alpha=)
            params.append(pytest.param(op, name, sample, id=f"{p.id}-{name}", marks=p.marks))
    return params


@pytest.mark.parametrize("op, variant, sample", _variant_params())
def test_variant(op, variant, sample):
    _check(op, op.variants[variant], sample, "float32", "cpu")


def _gradcheck_params(ops=None):
    return _params(
        ops if ops is not None else [op for op in OPS if op.supports_grad],
        dtypes=["float64"],
        devices=["cpu"],
        keep=lambda op, sample: (
            sample.gradcheck
            and sample.grad is not False
            and all(d is None or d.startswith(("int", "uint", "bool")) for d in sample.dtypes or ())
            and all(np.size(x) if isinstance(x, np.ndarray) else np.prod(x) for x in sample.inputs)
        ),
    )


@pytest.mark.parametrize("op, dtype, device, sample", _gradcheck_params())
def test_gradcheck(op, dtype, device, sample):
    arrays = make_arrays(
        sample.arrays_or_shapes(dtype), sample.input_dtypes(dtype), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    run_gradcheck(op.call(op.op, sample), arrays, flags)


@pytest.mark.parametrize("op, dtype, device, sample", _gradcheck_params([op for op in OPS if op.supports_gradgrad]))
def test_double_backward(op, dtype, device, sample):
    arrays = make_arrays(
        sample.arrays_or_shapes(dtype), sample.input_dtypes(dtype), sample.low, sample.high, sample.positive
    )
    flags = [sample.grad] * len(arrays) if isinstance(sample.grad, bool) else list(sample.grad)
    run_double_backward(op.call(op.op, sample), arrays, flags)


def _error_params():
    return [
        pytest.param(op, device, err, id=f"{op.name}-{device}-{err.sample.name}")
        for op in OPS
        for err in op.error_inputs()
        for device in op.devices
    ]


@pytest.mark.parametrize("op, device, error", _error_params())
def test_error(op, device, error, request):
    if device == "cuda":
        request.getfixturevalue("table_cuda")
    s = error.sample
    check_error(
        op.call(op.op, s),
        error.exc,
        error.match,
        s.arrays_or_shapes("float32"),
        dtype=s.input_dtypes("float32"),
        device=device,
    )
