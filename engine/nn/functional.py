"""``engine.nn.functional``: the operations behind the layers, as functions (``import ... as F``)."""

from .. import dtypes
from ..ops.activation import elu, gelu, hardtanh, leaky_relu, logsigmoid, relu6, silu, softplus
from ..ops.conv import conv2d
from ..ops.dropout import dropout, dropout2d
from ..ops.elementwise import relu as _relu
from ..ops.elementwise import sigmoid, tanh
from ..ops.inplace import relu_ as _relu_
from ..ops.loss import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    huber_loss,
    l1_loss,
    mse_loss,
    nll_loss,
    smooth_l1_loss,
)
from ..ops.matmul import linear
from ..ops.norm import batch_norm
from ..ops.pad import pad
from ..ops.pool import adaptive_avg_pool2d, avg_pool2d, max_pool2d
from ..ops.softmax import log_softmax, softmax
from ..tensor import make_tensor


def relu(input, inplace=False):
    return _relu_(input) if inplace else _relu(input)


def flatten(input, start_dim=0, end_dim=-1):
    return input.flatten(start_dim, end_dim)


def one_hot(tensor, num_classes=-1):
    labels = tensor._data
    if labels.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    n = int(labels.max()) + 1 if num_classes == -1 else num_classes
    if labels.size and (labels.min() < 0 or labels.max() >= n):
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = (labels[..., None] == tensor.xp.arange(n)).astype(dtypes.int64.np)
    return make_tensor(out, tensor.device)


__all__ = [
    "adaptive_avg_pool2d", "avg_pool2d", "batch_norm", "binary_cross_entropy", "binary_cross_entropy_with_logits",
    "conv2d", "cross_entropy", "dropout", "dropout2d", "elu", "flatten", "gelu", "hardtanh", "huber_loss",
    "l1_loss", "leaky_relu", "linear", "log_softmax", "logsigmoid", "max_pool2d", "mse_loss", "nll_loss",
    "one_hot", "pad", "relu", "relu6", "sigmoid", "silu", "smooth_l1_loss", "softmax", "softplus", "tanh",
]
