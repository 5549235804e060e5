"""Stochastic gradient descent, optionally with momentum (PyTorch's ``torch.optim.SGD``)."""

from ..ops.op import xp_of
from ..tensor import Tensor, make_tensor
from .optimizer import (
    Optimizer,
    _call_closure,
    _check_not_differentiable,
    _no_grad_step,
    _run_on,
    _to_scalar,
    params_with_grad,
)

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Implements stochastic gradient descent (optionally with momentum), with PyTorch's update::

        g = -grad if maximize else grad
        g = g + weight_decay * p                                   (if weight_decay != 0)
        b = g (first step) or momentum * b + (1 - dampening) * g   (if momentum != 0)
        g = g + momentum * b if nesterov else b                    (if momentum != 0)
        p = p - lr * g
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None):
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        _check_not_differentiable(differentiable)

        defaults = {
            "lr": lr,
            "momentum": momentum,
            "dampening": dampening,
            "weight_decay": weight_decay,
            "nesterov": nesterov,
            "maximize": maximize,
            "foreach": foreach,
            "differentiable": differentiable,
            "fused": fused,
        }
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, defaults)


    @_no_grad_step
    def step(self, closure=None):
        """Perform a single optimization step (``closure`` reevaluates the model and returns the loss)."""
        loss = _call_closure(closure)
        ws = self._workspace
        for group in self.param_groups:
            lr = float(_to_scalar(group["lr"]))
            momentum = float(_to_scalar(group["momentum"]))
            dampening = float(_to_scalar(group["dampening"]))
            weight_decay = float(_to_scalar(group["weight_decay"]))
            nesterov = group["nesterov"]
            maximize = group["maximize"]
            for p, grad in params_with_grad(group):
                state = self.state[p] if momentum != 0 else None
                _run_on(p._device, _sgd_update, p, grad._data, state, ws, lr, momentum, dampening, weight_decay,
                        nesterov, maximize)
                p._bump_version()
        return loss


def _sgd_update(p, g, state, ws, lr, momentum, dampening, weight_decay, nesterov, maximize):
    """One parameter's SGD step on raw arrays, in place; ``g`` (the gradient) is never written."""
    dev = p._device
    x = p._data
    xp = xp_of(x)
    owned = False  # whether g is a workspace array we may overwrite
    if weight_decay != 0:
        t = ws.get(0, x, dev, xp)
        xp.multiply(x, weight_decay, out=t)
        if maximize:
            xp.subtract(t, g, out=t)  # -g + wd * p
        else:
            xp.add(g, t, out=t)
        g, owned = t, True
    elif maximize:
        t = ws.get(0, x, dev, xp)
        xp.negative(g, out=t)
        g, owned = t, True

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
