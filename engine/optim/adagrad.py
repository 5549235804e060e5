"""Adagrad (PyTorch's ``torch.optim.Adagrad``)."""

from ..ops.op import xp_of
from .optimizer import (
    _advance_step,
    _check_lr,
    _check_not_differentiable,
    _new_step,
    _ParamwiseOptimizer,
    _run_on,
    _signed_grad,
    _to_scalar,
    _zeros_like,
)

__all__ = ["Adagrad"]


class Adagrad(_ParamwiseOptimizer):
    r"""Implements Adagrad, with PyTorch's update::

        g = -grad if maximize else grad;  g = g + wd * p          (if weight_decay != 0)
        clr = lr / (1 + (t - 1) * lr_decay)
        s = s + g * g                        (s starts at initial_accumulator_value)
        p = p - clr * g / (sqrt(s) + eps)

    As in PyTorch, every parameter's state exists from construction on, and the accumulator starts at the
    constructor's ``initial_accumulator_value`` whatever a group says.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        _check_lr(lr)
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not initial_accumulator_value >= 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_not_differentiable(differentiable)

        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                _run_on(p._device, self._init_state, p)

    def _init_state(self, p):
        state = self.state[p]
        state["step"] = _new_step()
        state["sum"] = _zeros_like(p)
        state["sum"]._data.fill(self.defaults["initial_accumulator_value"])
        return state

    def _group_options(self, group):
        return (float(_to_scalar(group["lr"])), float(group["lr_decay"]), float(group["eps"]),
                float(_to_scalar(group["weight_decay"])), group["maximize"])

    def _update(self, p, grad, ws, lr, lr_decay, eps, weight_decay, maximize):
        state = self.state[p] or self._init_state(p)  # a group added later starts here
        state_sum = state["sum"]._data
        step = _advance_step(state["step"])
        clr = lr / (1 + (step - 1) * lr_decay)
        dev = p._device
        x = p._data
        xp = xp_of(x)
        g, _ = _signed_grad(x, grad._data, ws, dev, xp, weight_decay, maximize)

        t = ws.get(1, x, dev, xp)
        xp.multiply(g, g, out=t)  # state_sum.addcmul_(g, g, value=1)
        xp.add(state_sum, t, out=state_sum)

        std = ws.get(2, x, dev, xp)
        xp.sqrt(state_sum, out=std)
        xp.add(std, eps, out=std)
        xp.multiply(g, -clr, out=t)  # p.addcdiv_(g, std, value=-clr)
        xp.divide(t, std, out=t)
        xp.add(x, t, out=x)
