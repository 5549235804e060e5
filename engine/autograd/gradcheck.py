"""``gradcheck``: compare the analytical Jacobian (from backward) with central finite differences."""

import warnings

import numpy as np

from ..tensor import Tensor, make_tensor
from .engine import grad as _grad
from .grad_mode import enable_grad, no_grad


class GradcheckError(RuntimeError):
    pass


def _as_tuple(x):
    """Inputs or outputs as a tuple: a list's items, as PyTorch takes them, or the one value."""
    if isinstance(x, tuple):
        return x
    return tuple(x) if isinstance(x, list) else (x,)


def _outputs(fn, inputs):
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor)]


def _numerical_jacobians(fn, inputs, diff_inputs, outputs, eps):
    """One (input numel, output numel) matrix per (input, output) pair, by central differences."""
    jac = [[np.zeros((t.numel(), o.numel())) for o in outputs] for t in diff_inputs]
    with no_grad():
        for i, t in enumerate(diff_inputs):
            flat = t._data.reshape(-1) if t._data.flags.c_contiguous else None
            if flat is None:
                raise GradcheckError("gradcheck expects contiguous inputs")
            for k in range(flat.size):
                orig = flat[k].item()
                flat[k] = orig + eps
                plus = [o._host().astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
                flat[k] = orig - eps
                minus = [o._host().astype(np.float64).reshape(-1) for o in _outputs(fn, inputs)]
                flat[k] = orig
                for j, (p, m) in enumerate(zip(plus, minus)):
                    jac[i][j][k] = (p - m) / (2 * eps)
    return jac


def _analytical_jacobians(diff_inputs, outputs):
    jac = [[np.zeros((t.numel(), o.numel())) for o in outputs] for t in diff_inputs]
    for j, o in enumerate(outputs):
        if not o._requires_grad:
            continue
        for k in range(o.numel()):
            seed = o.xp.zeros(o._data.shape, dtype=o._data.dtype)
            seed.reshape(-1)[k] = 1
            grads = _grad([o], diff_inputs, [make_tensor(seed, o._device)], retain_graph=True,
                          allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    jac[i][j][:, k] = g._host().astype(np.float64).reshape(-1)
    return jac


def gradcheck(func, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, nondet_tol=0.0,
              check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
              fast_mode=False, masked=None):
    """True when backward agrees with finite differences for every input that requires grad."""
    inputs = _as_tuple(inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    if not diff_inputs:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of the "
                         "them have requires_grad=True.")
    for idx, t in enumerate(diff_inputs):
        if t._data.dtype != np.float64:
            warnings.warn(f"Input #{idx} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point. ", UserWarning, stacklevel=2)
    outputs = _outputs(func, inputs)
    numerical = _numerical_jacobians(func, inputs, diff_inputs, outputs, eps)
    analytical = _analytical_jacobians(diff_inputs, outputs)
    for i in range(len(diff_inputs)):
        for j in range(len(outputs)):
            a, n = analytical[i][j], numerical[i][j]
            if not np.allclose(a, n, rtol=rtol, atol=atol):
                if not raise_exception:
                    return False
                raise GradcheckError(f"Jacobian mismatch for output {j} with respect to input {i},\n"
                                     f"numerical:{n}\nanalytical:{a}\n")
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, nondet_tol=0.0,
                  check_undefined_grad=True, check_grad_dtypes=False, check_batched_grad=False,
                  check_fwd_over_rev=False, check_rev_over_rev=True, fast_mode=False, masked=False):
    """``gradcheck`` of the first derivatives themselves: the gradients of ``func``'s outputs (computed with
    ``create_graph=True``, against random ``grad_outputs`` unless given) checked by finite differences
    with respect to both the inputs and those ``grad_outputs``."""
    inputs = _as_tuple(inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = tuple(
            make_tensor(o.xp.asarray(rng.standard_normal(o._data.shape)).astype(o._data.dtype), o._device)
            .requires_grad_(True)
            for o in outputs if o._requires_grad)
    grad_outputs = _as_tuple(grad_outputs)
    n_inputs = len(inputs)

    def first_derivatives(*args):
        xs, gs = args[:n_inputs], args[n_inputs:]
        with enable_grad():  # finite differences evaluate this under no_grad
            outs = [o for o in _outputs(func, xs) if o._requires_grad]
            diff = [t for t in xs if isinstance(t, Tensor) and t.requires_grad]
            grads = _grad(outs, diff, list(gs), create_graph=True, allow_unused=True)
        return tuple(g for g in grads if g is not None)

    if not diff_inputs:
        raise ValueError("gradgradcheck expects at least one input tensor to require gradient")
    return gradcheck(first_derivatives, (*inputs, *grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
