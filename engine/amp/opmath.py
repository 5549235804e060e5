"""bfloat16 arithmetic on the CPU as PyTorch does it: ops that accumulate (reductions, normalisations, losses,
softmax, products with a bias) compute in float32 and round their results to bfloat16.

NumPy runs ml_dtypes' bfloat16 loops with a bfloat16 accumulator, so a sum of a few hundred values already
stalls (256 + 0.5 rounds to 256); PyTorch's CPU kernels accumulate in float32 (its "opmath" type). Each op
class below (and its subclasses) gets a subclass, made once here, whose ``forward`` and ``backward`` run on
float32 copies of the bfloat16 arrays (what forward keeps for backward is float32 too) and round what they
return; ``Op.apply`` makes that subclass's node when the first input is bfloat16, so other dtypes pay one
dtype check. Elementwise ops need nothing: ml_dtypes evaluates each element in float32 already.
"""

import functools

import numpy as np

from .. import dtypes
from ..ops import activation, loss, norm, pool, reduce, reduce_extra, scan, softmax
from ..ops.conv import Conv2d
from ..ops.matmul import Linear
from ..ops.op import in_float32, to_copy

IN_FLOAT32 = (
    reduce.Sum, reduce.SumDim, reduce.Mean, reduce.MeanDim, reduce.Var, reduce.Std, reduce.Norm, reduce.Prod,
    reduce.LogSumExp, reduce_extra.NanSum, scan.Cumsum, scan.Cumprod, scan.LogCumSumExp,
    softmax.Softmax, softmax.LogSoftmax, norm.BatchNorm, norm.PooledBatchNorm, norm.LayerNorm, norm.GroupNorm,
    loss.CrossEntropy, loss.CrossEntropyProb, loss.NllLoss, loss.MseLoss, loss.L1Loss, loss.SmoothL1Loss,
    loss.HuberLoss, loss.BinaryCrossEntropy, loss.BinaryCrossEntropyWithLogits,
    Linear, Conv2d, pool.AvgPool2d, pool.AdaptiveAvgPool2d, pool._GlobalAvgPool2d,
    activation.Gelu, activation.Elu, activation.Celu, activation.Silu, activation.Mish, activation.Softplus,
    activation.LogSigmoid, activation.Hardsigmoid, activation.Hardswish,
)

_FLOAT32 = np.dtype(np.float32)
_BFLOAT16 = dtypes.bfloat16.np


def _rounded(out, dtype):
    if out.__class__ is tuple:
        return tuple(_rounded(o, dtype) for o in out)
    if out is not None and out.dtype == _FLOAT32:
        return out.astype(dtype)
    return out


def _in_float32(method):
    @functools.wraps(method)
    def run(self, *arrays, **options):
        widened = [a.astype(_FLOAT32) if a is not None and a.dtype == _BFLOAT16 else a for a in arrays]
        return _rounded(method(self, *widened, **options), _BFLOAT16)

    return run


def _graph_in_float32(formula):
    """``backward_graph`` of the float32 subclass: its saved arrays are float32, so its gradient tensors are
    too; they go back to bfloat16 in the graph, as ``backward`` rounds its arrays."""
    @functools.wraps(formula)
    def run(self, *grads):
        return tuple(to_copy(t, dt=dtypes.bfloat16) if t is not None and t._data.dtype == _FLOAT32 else t
                     for t in formula(self, *grads))

    return run


def _register(cls):
    """``cls`` and its subclasses each get a subclass (same node name) whose forward and backward widen
    bfloat16 arrays to float32 and round what they return; ``Op.apply`` picks it for bfloat16 inputs."""
    if cls not in in_float32:
        graph = None if cls.backward_graph is None else _graph_in_float32(cls.backward_graph)
        in_float32[cls] = type(cls.__name__, (cls,), {
            "__slots__": (), "__module__": cls.__module__, "forward": _in_float32(cls.forward),
            "backward": _in_float32(cls.backward), "backward_graph": graph})
    for sub in cls.__subclasses__():
        if sub not in in_float32.values():
            _register(sub)


for _cls in IN_FLOAT32:
    _register(_cls)
