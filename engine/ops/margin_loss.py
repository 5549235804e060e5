"""``multi_margin_loss``: the multi-class hinge loss of class scores against class-index targets, composed of
differentiable tensor ops (so double backward comes with it). Names, arguments, reductions and errors follow
``torch.nn.functional``."""

import numpy as np

from ..backend import CPU, transfer
from ..dtypes import legacy_name
from .loss import _reduction, reduce_loss


def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, size_average=None, reduce=None,
                      reduction="mean"):
    """``sum over i != y of max(0, margin - x[y] + x[i]) ** p / C`` for each row ``x`` (N, C) or (C,) and its
    target class ``y``; ``weight`` scales each row's loss by its target's weight."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    if weight is not None and weight.dim() != 1:
        raise ValueError("weight must be one-dimensional")
    reduction = _reduction(reduction, size_average, reduce)
    shape = tuple(input.shape)
    if len(shape) > 2 or (input.numel() == 0 if len(shape) < 2 else shape[1] == 0):
        raise RuntimeError(f"Expected non-empty vector or matrix with optional 0-dim batch size, but got: "
                           f"{list(shape)}")
    frames, classes = (shape[0], shape[1]) if len(shape) == 2 else (1, input.numel())
    if (target.dim() != 1 if len(shape) == 2 else target.dim() > 1) or target.numel() != frames:
        raise RuntimeError(f"multi_margin_loss: target tensor should be 1-D with size equal to the number of input "
                           f"samples (batch size). Expected target size [{frames}], but got {list(target.shape)}. "
                           f"Input has shape {list(shape)}.")
    if target._data.dtype != np.int64:
        raise RuntimeError(f"expected scalar type Long but found {legacy_name(target._data.dtype)}")
    if weight is not None and weight.numel() != classes:
        raise RuntimeError(f"inconsistent weight size, expected {classes} but got {list(weight.shape)}")
    labels = transfer(target._data, target._device, CPU).reshape(-1)
    if labels.size and (labels.min() < 0 or labels.max() >= classes):
        raise RuntimeError("target out of range")
    x = input.reshape(frames, classes)
    t = target.reshape(frames, 1)
    others = x.new_ones(frames, classes).scatter(1, t, 0.0)  # 0 at each row's target class
    hinge = (x - x.gather(1, t) + margin).clamp(min=0) * others
    if p == 2:
        hinge = hinge * hinge
    if weight is not None:
        hinge = hinge * weight[target.reshape(-1)].reshape(frames, 1)
    loss = hinge.sum(1) / classes
    if reduction == "none" and len(shape) < 2:
        return loss.reshape(tuple(target.shape))
    return reduce_loss(loss, reduction)


__all__ = ["multi_margin_loss"]
