"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from ..ops.op import xp_of
from .adam import _average_square_, _lerp_
from .optimizer import (
    _check_lr,
    _check_not_differentiable,
    _ParamwiseOptimizer,
    _signed_grad,
    _to_scalar,
)

__all__ = ["RMSprop"]


class RMSprop(_ParamwiseOptimizer):
    r"""Implements RMSprop, with PyTorch's update::

        g = -grad if maximize else grad;  g = g + wd * p         (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - ga * ga) with ga = lerp(ga, g, 1 - alpha) if centered else sqrt(v);  avg += eps
        b = momentum * b + g / avg;  p = p - lr * b               (if momentum > 0)
        p = p - lr * g / avg                                      (otherwise)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        _check_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not momentum >= 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_not_differentiable(differentiable)

        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps, "centered": centered,
                    "weight_decay": weight_decay, "capturable": capturable, "foreach": foreach, "maximize": maximize,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), float(group["alpha"]), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), float(_to_scalar(group["momentum"])), group["centered"],
                group["maximize"])

    def _update(self, p, grad, ws, lr, alpha, eps, weight_decay, momentum, centered, maximize):
        buffers = ("square_avg", *(("momentum_buffer",) if momentum > 0 else ()), *(("grad_avg",) if centered else ()))
        state, _ = self._state_and_step(p, *buffers)
        buf = state["momentum_buffer"]._data if momentum > 0 else None
        grad_avg = state["grad_avg"]._data if centered else None
        _rmsprop_update(p, grad._data, state["square_avg"]._data, grad_avg, buf, ws, lr, alpha, eps, weight_decay,
                        momentum, maximize)


def _rmsprop_update(p, g, square_avg, grad_avg, buf, ws, lr, alpha, eps, weight_decay, momentum, maximize):
    """One parameter's RMSprop step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    g, _ = _signed_grad(x, g, ws, dev, xp, weight_decay, maximize)

    t = ws.get(1, x, dev, xp)
    _average_square_(xp, square_avg, g, alpha, t)

    avg = ws.get(2, x, dev, xp)
    if grad_avg is not None:
        _lerp_(xp, grad_avg, g, 1 - alpha, t)
        # square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        xp.multiply(grad_avg, grad_avg, out=avg)
        xp.subtract(square_avg, avg, out=avg)
        xp.sqrt(avg, out=avg)
    else:
        xp.sqrt(square_avg, out=avg)
    xp.add(avg, eps, out=avg)

    if buf is not None:
        # buf.mul_(momentum).addcdiv_(g, avg); p.add_(buf, alpha=-lr)
        xp.multiply(buf, momentum, out=buf)
        xp.divide(g, avg, out=t)
        xp.add(buf, t, out=buf)
        xp.multiply(buf, lr, out=t)
        xp.subtract(x, t, out=x)
    else:
        # p.addcdiv_(g, avg, value=-lr): p + (-lr * g) / avg
        xp.multiply(g, -lr, out=t)
        xp.divide(t, avg, out=t)
        xp.add(x, t, out=x)
