"""Adamax (PyTorch's ``torch.optim.Adamax``)."""

from ..ops.op import xp_of
from .adam import _check_moment_args, _lerp_
from .optimizer import _check_not_differentiable, _ParamwiseOptimizer, _signed_grad, _to_scalar

__all__ = ["Adamax"]


def _betas(group):
    return tuple(float(_to_scalar(b)) for b in group["betas"])


class Adamax(_ParamwiseOptimizer):
    r"""Implements Adamax (Adam with the infinity norm), with PyTorch's update::

        g = -grad if maximize else grad;  g = g + wd * p          (if weight_decay != 0)
        m = lerp(m, g, 1 - beta1);  u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        _check_moment_args(lr, betas, eps, weight_decay)
        _check_not_differentiable(differentiable)
        defaults = {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "capturable": capturable}
        super().__init__(params, defaults)

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), *_betas(group), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), group["maximize"])

    def _update(self, p, grad, ws, lr, beta1, beta2, eps, weight_decay, maximize):
        state, step = self._state_and_step(p, "exp_avg", "exp_inf")
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        dev = p._device
        x = p._data
        xp = xp_of(x)
        g, _ = _signed_grad(x, grad._data, ws, dev, xp, weight_decay, maximize)

        t = ws.get(1, x, dev, xp)
        _lerp_(xp, exp_avg, g, 1 - beta1, t)
        xp.multiply(exp_inf, beta2, out=exp_inf)
        xp.abs(g, out=t)
        xp.add(t, eps, out=t)
        xp.maximum(exp_inf, t, out=exp_inf)

        clr = lr / (1 - beta1**step)
        xp.multiply(exp_avg, -clr, out=t)  # p.addcdiv_(exp_avg, exp_inf, value=-clr)
        xp.divide(t, exp_inf, out=t)
        xp.add(x, t, out=x)
