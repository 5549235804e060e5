"""OpInfo-style helpers for the engine's op tests (a helper module, not a test file).

``check(fn, inputs)`` builds identical random inputs with NumPy, runs ``fn(engine, *engine_tensors)``
and ``fn(torch, *torch_tensors)`` (one lambda, the module passed in), compares the forward values
(shape, dtype, values, ``requires_grad``), then backpropagates one random upstream gradient through
both and compares every input's ``.grad``.

Without torch (or with ``LAYERLAB_OPTEST_NO_TORCH=1`` in the environment, to exercise that path), the
engine side still runs: its forward value is compared with the NumPy reference ``np_fn`` when one is
given, and differentiable ops go through ``engine.autograd.gradcheck`` on float64 copies of the inputs.

``check_error(fn, exc_type, match)`` asserts the engine raises the exception torch raises.

Both take ``device``: the engine side then runs on that device (``"cuda"`` with the ``fake_cuda`` fixture of
``conftest.py``), torch on the CPU; every engine output and gradient must be on the inputs' device.

The op table in ``ops/op_table.py`` describes each op once and builds its generic tests on these helpers.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pytest

import engine

if os.environ.get("LAYERLAB_OPTEST_NO_TORCH"):
    torch = None
else:
    try:
        import torch
    except ImportError:  # pragma: no cover - depends on the environment
        torch = None

HAVE_TORCH = torch is not None
requires_torch = pytest.mark.skipif(not HAVE_TORCH, reason="torch is not installed")

# (atol, rtol) per dtype for forward values; gradients use the same unless told otherwise.
TOLERANCES = {
    "float16": (1e-3, 1e-2),
    "float32": (1e-5, 1e-4),
    "float64": (1e-10, 1e-7),
}


def dtype_name(d) -> str:
    """``engine.float32`` / ``torch.float32`` / ``np.float32`` -> ``"float32"``."""
    if isinstance(d, np.dtype):
        return "bool" if d == np.bool_ else d.name
    return str(d).rsplit(".", 1)[-1]


def make_arrays(
    shapes_or_arrays: Sequence[Any],
    dtype: str | Sequence[str] = "float32",
    low: float = -2,
    high: float = 2,
    positive: bool = False,
    seed: int = 0,
) -> list[np.ndarray]:
    """Random NumPy inputs: a shape (tuple) becomes a random array, an array is copied as is."""
    rng = np.random.default_rng(seed)
    dtypes = [dtype] * len(shapes_or_arrays) if isinstance(dtype, str) else list(dtype)
    out = []
    for spec, dt in zip(shapes_or_arrays, dtypes, strict=True):
        if isinstance(spec, np.ndarray):
            out.append(spec.copy())
            continue
        shape = tuple(spec)
        if dt == "bool":
            arr = rng.random(shape) > 0.5
        elif dt.startswith(("int", "uint")):
            lo = max(int(low), 1) if positive else int(low)
            arr = rng.integers(lo, int(high) + 1, size=shape).astype(dt)
        else:
            lo = max(low, 0.25) if positive else low
            hi = max(high, lo + 1.0)
            arr = rng.uniform(lo, hi, size=shape).astype(dt)
        out.append(np.asarray(arr))
    return out


def _is_float(arr: np.ndarray) -> bool:
    return arr.dtype.kind == "f"


def _as_list(out) -> list:
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _to_numpy(t) -> np.ndarray:
    if torch is not None and isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy(force=True)  # force: torch gives some zero derivatives as a ZeroTensor
    return np.asarray(t.detach().cpu().numpy())


def _make_tensors(module, arrays, grad_mask, device="cpu"):
    tensors = []
    for arr, g in zip(arrays, grad_mask):
        if module is engine:
            t = engine.tensor(arr.copy(), requires_grad=g, device=device)
        else:
            t = torch.tensor(arr.copy(), requires_grad=g)
        tensors.append(t)
    return tensors


def assert_close(actual, expected, *, atol: float, rtol: float, what: str = "value") -> None:
    """Compare an engine tensor with a torch tensor / NumPy array: shape, dtype, values."""
    a = _to_numpy(actual)
    e = expected if isinstance(expected, np.ndarray) else _to_numpy(expected)
    assert tuple(actual.shape) == tuple(e.shape), f"{what}: shape {tuple(actual.shape)} != {e.shape}"
    if not isinstance(expected, np.ndarray):
        assert dtype_name(actual.dtype) == dtype_name(expected.dtype), (
            f"{what}: dtype {actual.dtype} != {expected.dtype}"
        )
    if e.dtype.kind in "biu" and a.dtype.kind in "biu":
        np.testing.assert_array_equal(a, e, err_msg=what)
    else:
        np.testing.assert_allclose(
            a.astype(np.float64), e.astype(np.float64), atol=atol, rtol=rtol, equal_nan=True, err_msg=what
        )


def check(
    fn: Callable,
    shapes_or_arrays: Sequence[Any],
    *,
    grad: bool | Sequence[bool] = True,
    dtype: str | Sequence[str] = "float32",
    low: float = -2,
    high: float = 2,
    atol: float | None = None,
    rtol: float | None = None,
    grad_atol: float | None = None,
    grad_rtol: float | None = None,
    torch_fn: Callable | None = None,
    np_fn: Callable | None = None,
    positive: bool = False,
    seed: int = 0,
    gradcheck: bool | None = None,
    device: str = "cpu",
):
    """Run ``fn`` on the engine and on torch with identical inputs; compare values and gradients.

    ``grad`` is True/False or one flag per input (only floating inputs can require grad).
    ``gradcheck`` forces (True) or skips (False) ``engine.autograd.gradcheck``; by default it runs only
    when torch is absent. Returns the engine output.
    """
    arrays = make_arrays(shapes_or_arrays, dtype, low, high, positive, seed)
    flags = [grad] * len(arrays) if isinstance(grad, bool) else list(grad)
    grad_mask = [bool(f) and _is_float(a) for a, f in zip(arrays, flags, strict=True)]
    ref_dtype = next((dtype_name(a.dtype) for a in arrays if _is_float(a)), "float32")
    d_atol, d_rtol = TOLERANCES.get(ref_dtype, (1e-5, 1e-4))
    atol = d_atol if atol is None else atol
    rtol = d_rtol if rtol is None else rtol
    grad_atol = atol if grad_atol is None else grad_atol
    grad_rtol = rtol if grad_rtol is None else grad_rtol

    e_inputs = _make_tensors(engine, arrays, grad_mask, device)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch does not warn on these ops; NumPy RuntimeWarnings leak
        e_out = fn(engine, *e_inputs)
    e_outs = _as_list(e_out)
    for i, eo in enumerate(e_outs):
        assert eo.device.type == engine.device(device).type, f"output {i} on {eo.device}, inputs on {device}"

    if np_fn is not None:
        expected = _as_list(np_fn(*[a.copy() for a in arrays]))
        assert len(expected) == len(e_outs)
        for i, (eo, ex) in enumerate(zip(e_outs, expected)):
            assert_close(eo, np.asarray(ex), atol=atol, rtol=rtol, what=f"output {i} vs NumPy")

    rng = np.random.default_rng(seed + 1)
    if torch is not None:
        t_inputs = _make_tensors(torch, arrays, grad_mask)
        t_out = (torch_fn or fn)(torch, *t_inputs)
        t_outs = _as_list(t_out)
        assert len(e_outs) == len(t_outs), f"{len(e_outs)} outputs, torch gives {len(t_outs)}"
        for i, (eo, to) in enumerate(zip(e_outs, t_outs)):
            assert_close(eo, to, atol=atol, rtol=rtol, what=f"output {i}")
            assert bool(eo.requires_grad) == bool(to.requires_grad), (
                f"output {i}: requires_grad {eo.requires_grad}, torch {to.requires_grad}"
            )
        if any(grad_mask):
            pairs = [(eo, to) for eo, to in zip(e_outs, t_outs) if to.requires_grad]
            if pairs:
                ups = [rng.standard_normal(tuple(to.shape)).astype(_to_numpy(to).dtype) for _, to in pairs]
                if len(pairs) == 1:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        pairs[0][0].backward(engine.tensor(ups[0], device=device))
                    pairs[0][1].backward(torch.tensor(ups[0]))
                else:
                    with warnings.catch_warnings():
                        warnings.simplefilter("error")
                        e_ups = [engine.tensor(u, device=device) for u in ups]
                        engine.autograd.backward([p[0] for p in pairs], e_ups)
                    torch.autograd.backward([p[1] for p in pairs], [torch.tensor(u) for u in ups])
                for i, (et, tt) in enumerate(zip(e_inputs, t_inputs)):
                    if tt.grad is None:
                        assert et.grad is None, f"input {i}: engine has a grad, torch has none"
                        continue
                    assert et.grad is not None, f"input {i}: engine .grad is None"
                    assert et.grad.device == et.device, f"grad of input {i} on {et.grad.device}"
                    assert_close(et.grad, tt.grad, atol=grad_atol, rtol=grad_rtol, what=f"grad of input {i}")

    run_gc = (torch is None) if gradcheck is None else gradcheck
    if run_gc and any(grad_mask):
        run_gradcheck(fn, arrays, grad_mask)
    return e_out


def run_gradcheck(fn: Callable, arrays: Sequence[np.ndarray], grad_mask: Sequence[bool]) -> None:
    """``engine.autograd.gradcheck`` of ``fn`` on float64 copies of the (floating) inputs."""
    inputs = []
    for arr, g in zip(arrays, grad_mask):
        if _is_float(arr):
            inputs.append(engine.tensor(arr.astype(np.float64), requires_grad=g))
        else:
            inputs.append(engine.tensor(arr.copy()))

    def differentiable(*xs):
        outs = [o for o in _as_list(fn(engine, *xs)) if o.dtype.is_floating_point]
        return outs[0] if len(outs) == 1 else tuple(outs)

    with engine.no_grad():
        outs = _as_list(differentiable(*inputs))
    if not outs or any(dtype_name(o.dtype) != "float64" for o in outs):
        return  # casts to lower precision (or no float output): finite differences would be meaningless
    assert engine.autograd.gradcheck(differentiable, tuple(inputs), eps=1e-6, atol=1e-5, rtol=1e-3)


def _double_backward(m, fn, arrays, grad_mask, create_graph=True):
    """Under module ``m`` (float64, CPU): the first derivatives for a fixed random upstream gradient, and the
    gradients with respect to the inputs of ``sum(first derivatives * fixed weights)``, one random direction
    through the op's double backward (None when the first derivatives do not depend on the inputs)."""
    rng = np.random.default_rng(1)
    inputs = [m.tensor(a.astype(np.float64), requires_grad=g) if _is_float(a) else m.tensor(a.copy())
              for a, g in zip(arrays, grad_mask)]
    outs = [o for o in _as_list(fn(m, *inputs)) if o.dtype.is_floating_point and o.requires_grad]
    diff = [t for t in inputs if t.requires_grad]
    upstream = [m.tensor(rng.standard_normal(tuple(o.shape))) for o in outs]
    firsts = m.autograd.grad(outs, diff, upstream, create_graph=create_graph, allow_unused=True,
                             materialize_grads=True)
    values = [_to_numpy(g) for g in firsts]
    total = sum((g * m.tensor(rng.standard_normal(tuple(g.shape)))).sum() for g in firsts if g.requires_grad)
    if not isinstance(total, (engine.Tensor, getattr(torch, "Tensor", engine.Tensor))):
        return values, None  # first derivatives that do not depend on the inputs (a linear op)
    seconds = m.autograd.grad(total, diff, allow_unused=True, materialize_grads=True)
    return values, [_to_numpy(g) for g in seconds]


def run_double_backward(fn: Callable, arrays: Sequence[np.ndarray], grad_mask: Sequence[bool]) -> None:
    """The op's second derivatives: the first derivatives computed with ``create_graph`` equal the plain ones
    (a wrong linear formula would pass the rest), ``gradgradcheck`` (finite differences of those first
    derivatives), and with torch present one random direction compared with torch's double backward."""
    inputs = [engine.tensor(a.astype(np.float64), requires_grad=g) if _is_float(a) else engine.tensor(a.copy())
              for a, g in zip(arrays, grad_mask)]

    def differentiable(*xs):
        outs = [o for o in _as_list(fn(engine, *xs)) if o.dtype.is_floating_point]
        return outs[0] if len(outs) == 1 else tuple(outs)

    with engine.no_grad():
        outs = _as_list(differentiable(*inputs))
    if not outs or any(dtype_name(o.dtype) != "float64" for o in outs):
        return
    plain, _ = _double_backward(engine, fn, arrays, grad_mask, create_graph=False)
    firsts, ours = _double_backward(engine, fn, arrays, grad_mask)
    for k, (a, b) in enumerate(zip(firsts, plain)):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-10, err_msg=f"create_graph gradient of input {k}")
    assert engine.autograd.gradgradcheck(differentiable, tuple(inputs), eps=1e-6, atol=1e-5, rtol=1e-3)
    if torch is None:
        return
    _, theirs = _double_backward(torch, fn, arrays, grad_mask)
    if theirs is None:
        assert ours is None or all(not np.any(g) for g in ours)
        return
    assert ours is not None, "torch's first derivatives depend on the inputs; ours do not"
    for k, (a, b) in enumerate(zip(ours, theirs)):
        np.testing.assert_allclose(a, b, atol=1e-8, rtol=1e-6, err_msg=f"double backward of input {k}")


def check_error(
    fn: Callable,
    exc_type: type[BaseException],
    match: str,
    inputs: Sequence[Any] = (),
    *,
    dtype: str | Sequence[str] = "float32",
    seed: int = 0,
    device: str = "cpu",
) -> None:
    """Assert ``fn(engine, *inputs)`` raises ``exc_type`` with ``match`` in its message, as torch does.

    ``inputs`` are shapes or arrays as for ``check``; the torch side (when available) first confirms
    that torch itself raises that exception type and message.
    """
    arrays = make_arrays(inputs, dtype, seed=seed)
    pattern = re.escape(match)
    if torch is not None:
        t_inputs = _make_tensors(torch, arrays, [False] * len(arrays))
        with pytest.raises(exc_type, match=pattern):
            fn(torch, *t_inputs)
    e_inputs = _make_tensors(engine, arrays, [False] * len(arrays), device)
    with pytest.raises(exc_type, match=pattern):
        fn(engine, *e_inputs)
