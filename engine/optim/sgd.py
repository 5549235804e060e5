"""Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD``)."""

from ..ops.op import xp_of
from ..tensor import make_tensor
from .optimizer import _check_lr, _check_not_differentiable, _ParamwiseOptimizer, _signed_grad, _to_scalar

__all__ = ["SGD"]


class SGD(_ParamwiseOptimizer):
    r"""Implements stochastic gradient descent (optionally with momentum), with PyTorch's update::

        g = -grad if maximize else grad
        g = g + weight_decay * p                                   (if weight_decay != 0)
        b = g (first step) or momentum * b + (1 - dampening) * g   (if momentum != 0)
        g = g + momentum * b if nesterov else b                    (if momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        _check_lr(lr)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_not_differentiable(differentiable)

        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weight_decay,
                    "nesterov": nesterov, "maximize": maximize, "foreach": foreach, "differentiable": differentiable,
                    "fused": fused}
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), float(_to_scalar(group["momentum"])),
                float(_to_scalar(group["dampening"])), float(_to_scalar(group["weight_decay"])), group["nesterov"],
                group["maximize"])

    def _update(self, p, grad, ws, lr, momentum, dampening, weight_decay, nesterov, maximize):
        state = self.state[p] if momentum != 0 else None
        _sgd_update(p, grad._data, state, ws, lr, momentum, dampening, weight_decay, nesterov, maximize)


def _sgd_update(p, g, state, ws, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One parameter's SGD step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    g, owned = _signed_grad(x, g, ws, dev, xp, weight_decay, maximize)  # owned: g is scratch we may overwrite

    if momentum != 0:
        buf_t = state.get("momentum_buffer")
        if buf_t is None:
            buf = g.copy()
            state["momentum_buffer"] = make_tensor(buf, dev)
        else:
            buf = buf_t._data
            xp.multiply(buf, momentum, out=buf)
            if dampening == 0:
                xp.add(buf, g, out=buf)
            else:
                t = ws.get(1, x, dev, xp)
                xp.multiply(g, 1 - dampening, out=t)
                xp.add(buf, t, out=buf)
        if nesterov:
            t = g if owned else ws.get(1, x, dev, xp)
            if owned:
                u = ws.get(1, x, dev, xp)
                xp.multiply(buf, momentum, out=u)
                xp.add(g, u, out=t)
            else:
                xp.multiply(buf, momentum, out=t)
                xp.add(g, t, out=t)
            g, owned = t, True
        else:
            g, owned = buf, False

    t = g if owned else ws.get(1, x, dev, xp)
    xp.multiply(g, lr, out=t)
    xp.subtract(x, t, out=x)
