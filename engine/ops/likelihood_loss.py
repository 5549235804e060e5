"""Losses that are negative log-likelihoods or divergences of distributions: ``kl_div``, ``poisson_nll_loss``,
``gaussian_nll_loss``, ``multilabel_soft_margin_loss``, composed of differentiable tensor ops as PyTorch
composes them (so double backward comes with them). Names, arguments, reductions, warnings and errors follow
``torch.nn.functional``."""

import math
import warnings

from .activation import logsigmoid
from .distance import floor_value
from .loss import _reduction, reduce_loss


def _xlogy_self(t):
    """``t * log(t)``, 0 where ``t`` is 0 (``torch.xlogy(t, t)``)."""
    return t * (t + (t == 0)).log()


def kl_div(input, target, size_average=None, reduce=None, reduction="mean", log_target=False):
    """KL divergence of ``target`` from log-probabilities ``input``: ``target * (log(target) - input)``;
    ``log_target`` takes ``target`` as log-probabilities too; 'batchmean' divides the sum by the batch size."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    elif reduction == "mean":
        warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                      "'batchmean' divides only by the batch size, and aligns with the KL div math definition."
                      "'mean' will be changed to behave the same as 'batchmean' in the next major release.",
                      stacklevel=2)
    elif reduction != "batchmean":
        reduction = _reduction(reduction)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = _xlogy_self(target) - target * input
    if reduction != "batchmean":
        return reduce_loss(loss, reduction)
    total = loss.sum()
    return total / input.shape[0] if input.dim() else total


def _check_reduction(reduction, message):
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(reduction + message)


def poisson_nll_loss(input, target, log_input=True, full=False, size_average=None, eps=1e-8, reduce=None,
                     reduction="mean"):
    """Negative log-likelihood of Poisson ``target`` with rate ``input`` (or ``exp(input)`` with ``log_input``);
    ``full`` adds Stirling's approximation of ``log(target!)`` where ``target > 1``."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    _check_reduction(reduction, " is not a valid value for reduction")
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        stirling = target * target.log() - target + 0.5 * (target * (2 * math.pi)).log()
        loss = loss + stirling.masked_fill(target <= 1, 0)
    return reduce_loss(loss, reduction)


def gaussian_nll_loss(input, target, var, full=False, eps=1e-6, reduction="mean"):
    """Negative log-likelihood of ``target`` under normals of mean ``input`` and variance ``var`` (one per
    element, one per row, or a float), the variance floored at ``eps``."""
    if isinstance(var, float):
        if var < 0:
            raise ValueError("var has negative entry/entries")
        var = var * input.new_ones(input.shape)
    elif bool((var < 0).any()):
        raise ValueError("var has negative entry/entries")
    in_shape, var_shape = tuple(input.shape), tuple(var.shape)
    if var_shape != in_shape:
        if in_shape[:-1] == var_shape:
            var = var.unsqueeze(-1)
        elif not (len(in_shape) == len(var_shape)
                  and sum(y for x, y in zip(in_shape, var_shape, strict=True) if x != y) == 1):
            raise ValueError("var is of incorrect size")
    _check_reduction(reduction, " is not valid")
    var = floor_value(var, eps)
    loss = 0.5 * (var.log() + (input - target) ** 2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce_loss(loss, reduction)


def multilabel_soft_margin_loss(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy of each class's logit against 0/1 ``target``, averaged over the classes (last dim)."""
    if size_average is not None or reduce is not None:
        reduction = _reduction(reduction, size_average, reduce)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    class_dim = input.dim() - 1
    loss = loss.sum(class_dim) / input.shape[class_dim]
    _check_reduction(reduction, " is not valid")
    return reduce_loss(loss, reduction)


__all__ = ["gaussian_nll_loss", "kl_div", "multilabel_soft_margin_loss", "poisson_nll_loss"]
