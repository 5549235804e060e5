"""Helpers shared by the distributions: broadcasting parameters, and probabilities from logits and back."""

import numbers

import numpy as np

from .. import dtypes
from ..creation import arange, tensor
from ..ops import elementwise as ew
from ..ops.softmax import softmax
from ..tensor import Tensor


def broadcast_all(*values):
    """Tensors of one broadcast shape; numbers become tensors of the tensors' dtype (else the default)."""
    tensors = [v for v in values if isinstance(v, Tensor)]
    for v in values:
        if not isinstance(v, (Tensor, numbers.Number)):
            raise ValueError("Input arguments must all be instances of numbers.Number, torch.Tensor or objects "
                             "implementing __torch_function__.")
    dtype = tensors[0].dtype if tensors else dtypes.get_default_dtype()
    device = tensors[0].device if tensors else None
    values = [v if isinstance(v, Tensor) else tensor(v, dtype=dtype, device=device) for v in values]
    shape = np.broadcast_shapes(*[tuple(v.shape) for v in values])
    return tuple(v.expand(shape) for v in values)


def clamp_probs(probs):
    eps = float(np.finfo(probs._data.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def logits_to_probs(logits, is_binary=False):
    return ew.sigmoid(logits) if is_binary else softmax(logits, -1)


def probs_to_logits(probs, is_binary=False):
    p = clamp_probs(probs)
    return ew.log(p) - ew.log1p(-p) if is_binary else ew.log(p)


def enumerate_values(count, batch_shape, dtype, device, expand):
    """``enumerate_support``: the values 0..count-1 along a new leading dim, over the batch shape."""
    values = arange(count, dtype=dtype, device=device).view((-1,) + (1,) * len(batch_shape))
    return values.expand((-1, *batch_shape)) if expand else values
