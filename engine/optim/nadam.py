"""NAdam (PyTorch's ``torch.optim.NAdam``), and the moment update it shares with RAdam."""

import numpy as np

from ..ops.op import xp_of
from ..tensor import Tensor, make_tensor
from .adam import _average_square_, _check_moment_args, _lerp_
from .adamax import _betas
from .optimizer import (
    _advance_step,
    _check_not_differentiable,
    _ParamwiseOptimizer,
    _scalar_np_dtype,
    _signed_grad,
    _to_scalar,
    _zeros_like,
)

__all__ = ["NAdam"]


def _adam_moments_(p, g, exp_avg, exp_avg_sq, ws, lr, beta1, beta2, weight_decay, maximize, decoupled):
    """Weight decay (decoupled: on ``p`` itself) and Adam's two moment updates, in place on raw arrays.

    Returns the signed (and coupled-decayed) gradient, in workspace slot 0 unless it is ``g`` itself, and a
    scratch array in slot 1.
    """
    dev = p._device
    x = p._data
    xp = xp_of(x)
    if weight_decay != 0 and decoupled:
        xp.multiply(x, 1 - lr * weight_decay, out=x)
        weight_decay = 0
    g, _ = _signed_grad(x, g, ws, dev, xp, weight_decay, maximize)
    t = ws.get(1, x, dev, xp)
    _lerp_(xp, exp_avg, g, 1 - beta1, t)
    _average_square_(xp, exp_avg_sq, g, beta2, t)
    return g, t


class NAdam(_ParamwiseOptimizer):
    r"""Implements NAdam (Adam with Nesterov momentum), with PyTorch's update::

        g = -grad if maximize else grad;  p = p * (1 - lr * wd) if decoupled else g = g + wd * p
        mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay));  prod = prod * mu_t   (kept as ``mu_product``)
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        denom = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - prod) * g / denom - lr * mu_{t+1} / (1 - prod * mu_{t+1}) * m / denom
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        _check_moment_args(lr, betas, eps, weight_decay)
        if not momentum_decay >= 0.0:
            raise ValueError(f"Invalid momentum_decay value: {momentum_decay}")
        _check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay, "decoupled_weight_decay": decoupled_weight_decay,
                    "maximize": maximize, "foreach": foreach, "capturable": capturable,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def __setstate__(self, state):
        super().__setstate__(state)
        for p_state in self.state.values():  # an old-format state keeps mu_product as a number
            if "mu_product" in p_state and not isinstance(p_state["mu_product"], Tensor):
                p_state["mu_product"] = make_tensor(np.array(p_state["mu_product"], dtype=_scalar_np_dtype()))

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), *_betas(group), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), float(group["momentum_decay"]),
                group["decoupled_weight_decay"], group["maximize"])

    def _update(self, p, grad, ws, lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled, maximize):
        state = self.state[p]
        if len(state) == 0:
            state["step"] = make_tensor(np.zeros((), dtype=_scalar_np_dtype()))
            state["mu_product"] = make_tensor(np.ones((), dtype=_scalar_np_dtype()))
            state["exp_avg"] = _zeros_like(p)
            state["exp_avg_sq"] = _zeros_like(p)
        step = _advance_step(state["step"])
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        g, t = _adam_moments_(p, grad._data, exp_avg, exp_avg_sq, ws, lr, beta1, beta2, weight_decay, maximize,
                              decoupled)

        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product = state["mu_product"]._data
        xp_of(mu_product).multiply(mu_product, mu, out=mu_product)  # in its own dtype, as PyTorch's tensor
        mu_product = float(mu_product)
        mu_product_next = mu_product * mu_next

        x = p._data
        xp = xp_of(x)
        denom = ws.get(2, x, p._device, xp)
        xp.divide(exp_avg_sq, 1 - beta2**step, out=denom)
        xp.sqrt(denom, out=denom)
        xp.add(denom, eps, out=denom)
        for value, numerator in ((-lr * (1.0 - mu) / (1.0 - mu_product), g),
                                 (-lr * mu_next / (1.0 - mu_product_next), exp_avg)):
            xp.multiply(numerator, value, out=t)  # p.addcdiv_(numerator, denom, value=value)
            xp.divide(t, denom, out=t)
            xp.add(x, t, out=x)
