"""Adadelta (PyTorch's ``torch.optim.Adadelta``)."""

from ..ops.op import xp_of
from .adam import _average_square_
from .optimizer import _check_lr, _check_not_differentiable, _ParamwiseOptimizer, _signed_grad, _to_scalar

__all__ = ["Adadelta"]


class Adadelta(_ParamwiseOptimizer):
    r"""Implements Adadelta, with PyTorch's update::

        g = -grad if maximize else grad;  g = g + wd * p          (if weight_decay != 0)
        v = rho * v + (1 - rho) * g * g
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta * delta
        p = p - lr * delta
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        _check_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_not_differentiable(differentiable)

        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay, "maximize": maximize,
                    "capturable": capturable, "foreach": foreach, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), float(group["rho"]), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), group["maximize"])

    def _update(self, p, grad, ws, lr, rho, eps, weight_decay, maximize):
        state, _ = self._state_and_step(p, "square_avg", "acc_delta")
        _adadelta_update(p, grad._data, state["square_avg"]._data, state["acc_delta"]._data, ws, lr, rho, eps,
                         weight_decay, maximize)


def _adadelta_update(p, g, square_avg, acc_delta, ws, lr, rho, eps, weight_decay, maximize):
    """One parameter's Adadelta step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    g, _ = _signed_grad(x, g, ws, dev, xp, weight_decay, maximize)

    delta = ws.get(1, x, dev, xp)
    _average_square_(xp, square_avg, g, rho, delta)

    std = ws.get(2, x, dev, xp)
    xp.add(square_avg, eps, out=std)
    xp.sqrt(std, out=std)
    xp.add(acc_delta, eps, out=delta)
    xp.sqrt(delta, out=delta)
    xp.divide(delta, std, out=delta)
    xp.multiply(delta, g, out=delta)

    _average_square_(xp, acc_delta, delta, rho, std)  # std is scratch from here on

    xp.multiply(delta, -lr, out=delta)  # p.add_(delta, alpha=-lr)
    xp.add(x, delta, out=x)
