"""RAdam (PyTorch's ``torch.optim.RAdam``)."""

from ..ops.op import xp_of
from .adam import _check_moment_args
from .adamax import _betas
from .nadam import _adam_moments_
from .optimizer import _check_not_differentiable, _ParamwiseOptimizer, _to_scalar

__all__ = ["RAdam"]


class RAdam(_ParamwiseOptimizer):
    r"""Implements RAdam (Adam with a rectified adaptive learning rate), with PyTorch's update::

        g = -grad if maximize else grad;  p = p * (1 - lr * wd) if decoupled else g = g + wd * p
        m = lerp(m, g, 1 - beta1);  v = beta2 * v + (1 - beta2) * g * g
        rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
        p = p - lr * m / (1 - beta1^t) * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r    (if rho_t > 5)
        p = p - lr * m / (1 - beta1^t)                                              (otherwise)
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        _check_moment_args(lr, betas, eps, weight_decay)
        _check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "decoupled_weight_decay": decoupled_weight_decay,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), *_betas(group), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), group["decoupled_weight_decay"], group["maximize"])

    def _update(self, p, grad, ws, lr, beta1, beta2, eps, weight_decay, decoupled, maximize):
        state, step = self._state_and_step(p, "exp_avg", "exp_avg_sq")
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        _, t = _adam_moments_(p, grad._data, exp_avg, exp_avg_sq, ws, lr, beta1, beta2, weight_decay, maximize,
                              decoupled)
        bias_correction1 = 1 - beta1**step
        bias_correction2 = 1 - beta2**step
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2**step) / bias_correction2

        x = p._data
        xp = xp_of(x)
        xp.divide(exp_avg, bias_correction1, out=t)  # bias_corrected_exp_avg * lr
        xp.multiply(t, lr, out=t)
        if rho_t > 5.0:
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive_lr = ws.get(2, x, p._device, xp)
            xp.sqrt(exp_avg_sq, out=adaptive_lr)
            xp.add(adaptive_lr, eps, out=adaptive_lr)
            xp.divide(bias_correction2**0.5, adaptive_lr, out=adaptive_lr)
            xp.multiply(t, adaptive_lr, out=t)
            xp.multiply(t, rect, out=t)
        xp.subtract(x, t, out=x)
