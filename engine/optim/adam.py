"""Adam (PyTorch's ``torch.optim.Adam``), and the shared update that AdamW uses with decoupled decay."""

from ..ops.op import xp_of
from ..tensor import Tensor
from .optimizer import (
    _check_lr,
    _check_not_differentiable,
    _ParamwiseOptimizer,
    _signed_grad,
    _to_scalar,
)

__all__ = ["Adam"]


def _check_adam_args(lr, betas, eps, weight_decay):
    _check_moment_args(lr, betas, eps, weight_decay)
    if not ((isinstance(betas[0], float) and isinstance(betas[1], float))
            or (isinstance(betas[0], Tensor) and isinstance(betas[1], Tensor))):
        raise ValueError("betas must be either both floats or both Tensors")


def _check_moment_args(lr, betas, eps, weight_decay):
    """PyTorch's checks of the hyper-parameters Adam, Adamax, NAdam and RAdam share."""
    _check_lr(lr)
    if not lr >= 0.0:
        raise ValueError(f"Invalid learning rate: {lr}")
    if not eps >= 0.0:
        raise ValueError(f"Invalid epsilon value: {eps}")
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")
    if not weight_decay >= 0.0:
        raise ValueError(f"Invalid weight_decay value: {weight_decay}")
    for i, b in enumerate(betas):
        if isinstance(b, Tensor) and b.numel() != 1:
            raise ValueError(f"Tensor betas[{i}] must be 1-element")


class Adam(_ParamwiseOptimizer):
    r"""Implements Adam, with PyTorch's update (``decoupled_weight_decay=True`` makes it AdamW)::

        g = -grad if maximize else grad
        p = p * (1 - lr * wd)  if decoupled  else  g = g + wd * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)   (v -> max(v) with amsgrad)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False):
        _check_adam_args(lr, betas, eps, weight_decay)
        _check_not_differentiable(differentiable)
        betas = tuple(map(_to_scalar, betas))
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "amsgrad": amsgrad,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _group_options(self, group):
        beta1, beta2 = (float(_to_scalar(b)) for b in group["betas"])
        return (float(_to_scalar(group["lr"])), beta1, beta2, float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), group["amsgrad"], group["maximize"],
                group["decoupled_weight_decay"])

    def _update(self, p, grad, ws, lr, beta1, beta2, eps, weight_decay, amsgrad, maximize, decoupled):
        state, step = self._state_and_step(p, "exp_avg", "exp_avg_sq", *(("max_exp_avg_sq",) if amsgrad else ()))
        max_sq = state["max_exp_avg_sq"]._data if amsgrad else None
        _adam_update(p, grad._data, state["exp_avg"]._data, state["exp_avg_sq"]._data, max_sq, step, ws, lr, beta1,
                     beta2, eps, weight_decay, maximize, decoupled)


def _average_square_(xp, avg, g, beta, t):
    """``avg.mul_(beta).addcmul_(g, g, value=1 - beta)`` in place, with ``t`` as scratch."""
    xp.multiply(avg, beta, out=avg)
    xp.multiply(g, 1 - beta, out=t)
    xp.multiply(t, g, out=t)
    xp.add(avg, t, out=avg)


def _lerp_(xp, start, end, weight, t, negate_end=False):
    """``start.lerp_(end, weight)`` as PyTorch computes it (two formulas, by ``|weight| < 0.5``).

    ``t`` is a scratch array; with ``negate_end`` the end point is ``-end`` (maximize) without materializing it.
    """
    if negate_end:
        xp.add(end, start, out=t)  # -(end' - start) where end' = -end
    else:
        xp.subtract(end, start, out=t)
    if abs(weight) < 0.5:
        xp.multiply(t, -weight if negate_end else weight, out=t)
        xp.add(start, t, out=start)
    else:
        xp.multiply(t, 1 - weight, out=t)
        if negate_end:
            xp.subtract(t, end, out=start)  # end' - (end' - start)(1 - w) = -end + t
        else:
            xp.subtract(end, t, out=start)


def _adam_update(p, g, exp_avg, exp_avg_sq, max_exp_avg_sq, step, ws, lr, beta1, beta2, eps, weight_decay,
                 maximize, decoupled):
    """One parameter's Adam step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    negate = maximize
    if weight_decay != 0:
        if decoupled:
            xp.multiply(x, 1 - lr * weight_decay, out=x)
        else:
            g, _ = _signed_grad(x, g, ws, dev, xp, weight_decay, maximize)
            negate = False

    t = ws.get(1, x, dev, xp)
    _lerp_(xp, exp_avg, g, 1 - beta1, t, negate)

    _average_square_(xp, exp_avg_sq, g, beta2, t)  # the sign of g does not matter here

    bias_correction1 = 1 - beta1**step
    bias_correction2 = 1 - beta2**step
    step_size = lr / bias_correction1
    bias_correction2_sqrt = bias_correction2**0.5

    second = exp_avg_sq
    if max_exp_avg_sq is not None:
        xp.maximum(max_exp_avg_sq, exp_avg_sq, out=max_exp_avg_sq)
        second = max_exp_avg_sq

    denom = ws.get(0, x, dev, xp)  # g (if it lived in slot 0) is no longer needed
    xp.sqrt(second, out=denom)
    xp.divide(denom, bias_correction2_sqrt, out=denom)
    xp.add(denom, eps, out=denom)

    # p.addcdiv_(exp_avg, denom, value=-step_size): p + (-step_size * m) / denom
    xp.multiply(exp_avg, -step_size, out=t)
    xp.divide(t, denom, out=t)
    xp.add(x, t, out=x)
