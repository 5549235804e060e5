"""RMSprop (PyTorch's ``torch.optim.RMSprop``)."""

from ..ops.op import xp_of
from ..tensor import Tensor
from .adam import _lerp_
from .optimizer import (
    Optimizer,
    _advance_step,
    _call_closure,
    _check_not_differentiable,
    _new_step,
    _no_grad_step,
    _run_on,
    _to_scalar,
    _zeros_like,
    params_with_grad,
)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""Implements RMSprop, with PyTorch's update::

        g = -grad if maximize else grad;  g = g + wd * p         (if weight_decay != 0)
        v = alpha * v + (1 - alpha) * g * g
        avg = sqrt(v - ga * ga) with ga = lerp(ga, g, 1 - alpha) if centered else sqrt(v);  avg += eps
        b = momentum * b + g / avg;  p = p - lr * b               (if momentum > 0)
        p = p - lr * g / avg                                      (otherwise)
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
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

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "alpha": alpha,
            "eps": eps,
            "centered": centered,
            "weight_decay": weight_decay,
            "capturable": capturable,
            "foreach": foreach,
            "maximize": maximize,
            "differentiable": differentiable,
        }
        super().__init__(params, defaults)


    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step (``closure`` reevaluates the model and returns the loss)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            alpha = float(group["alpha"])
            eps = float(group["eps"])
            weight_decay = float(_to_scalar(group["weight_decay"]))
            momentum = float(_to_scalar(group["momentum"]))
            centered = group["centered"]
            maximize = group["maximize"]
            for p, grad in params_with_grad(group):
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = _new_step()
                    state["square_avg"] = _zeros_like(p)
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros_like(p)
                    if centered:
                        state["grad_avg"] = _zeros_like(p)
                _advance_step(state["step"])
                buf = state["momentum_buffer"]._data if momentum > 0 else None
                grad_avg = state["grad_avg"]._data if centered else None
                _run_on(p._device, _rmsprop_update, p, grad._data, state["square_avg"]._data, grad_avg, buf, ws,
                        lr, alpha, eps, weight_decay, momentum, maximize)
                p._bump_version()
        return loss


def _rmsprop_update(p, g, square_avg, grad_avg, buf, ws, lr, alpha, eps, weight_decay, momentum, maximize):
    """One parameter's RMSprop step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    if weight_decay != 0:
        t = ws.get(0, x, dev, xp)
        xp.multiply(x, weight_decay, out=t)
        if maximize:
            xp.subtract(t, g, out=t)  # -g + wd * p
        else:
            xp.add(g, t, out=t)
        g = t
    elif maximize:
        t = ws.get(0, x, dev, xp)
        xp.negative(g, out=t)
        g = t

    t = ws.get(1, x, dev, xp)
    # square_avg.mul_(alpha).addcmul_(g, g, value=1 - alpha)
    xp.multiply(square_avg, alpha, out=square_avg)
    xp.multiply(g, 1 - alpha, out=t)
    xp.multiply(t, g, out=t)
    xp.add(square_avg, t, out=square_avg)

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
