"""bfloat16 arithmetic on the CPU as PyTorch does it: ops that accumulate (reductions, normalisations, losses,
softmax, products with a bias) compute in float32 and round their results to bfloat16.

NumPy runs ml_dtypes' bfloat16 loops with a bfloat16 accumulator, so a sum of a few hundred values already
stalls (256 + 0.5 rounds to 256); PyTorch's CPU kernels accumulate in float32 (its "opmath" type). The op
classes below get their ``forward`` and ``backward`` wrapped once, here: with a bfloat16 array among their
arguments, they run on float32 copies (what forward keeps for backward is float32 too) and round what they
return; any other call goes straight through. Elementwise ops need nothing: ml_dtypes evaluates each element
in float32 already.
"""

import functools

import numpy as np

from ..ops import activation, loss, norm, pool, reduce, reduce_extra, scan, softmax
from ..ops.conv import Conv2d
from ..ops.matmul import Linear

IN_FLOAT32 = (
    reduce.Sum, reduce.SumDim, reduce.Mean, reduce.MeanDim, reduce.Var, reduce.Std, reduce.Norm, reduce.Prod,
    reduce.LogSumExp, reduce_extra.NanSum, scan.Cumsum, scan.Cumprod, scan.LogCumSumExp,
    softmax.Softmax, softmax.LogSoftmax, norm.BatchNorm, norm.LayerNorm, norm.GroupNorm,
    loss.CrossEntropy, loss.CrossEntropyProb, loss.NllLoss, loss.MseLoss, loss.L1Loss, loss.SmoothL1Loss,
    loss.HuberLoss, loss.BinaryCrossEntropy, loss.BinaryCrossEntropyWithLogits,
    Linear, Conv2d, pool.AvgPool2d, pool.AdaptiveAvgPool2d, pool._GlobalAvgPool2d,
    activation.Gelu, activation.Elu, activation.Celu, activation.Silu, activation.Mish, activation.Softplus,
    activation.LogSigmoid, activation.Hardsigmoid, activation.Hardswish,
)

_FLOAT32 = np.dtype(np.float32)


def _rounded(out, dtype):
    if out.__class__ is tuple:
        return tuple(_rounded(o, dtype) for o in out)
    if out is not None and out.dtype == _FLOAT32:
        return out.astype(dtype)
    return out


def _in_float32(method):
    @functools.wraps(method)
    def run(self, *arrays, **options):
        for a in arrays:
            if a is not None and a.dtype.kind == "V":  # bfloat16, the engine's only "V" arrays
                widened = [b.astype(_FLOAT32) if b is not None and b.dtype.kind == "V" else b for b in arrays]
                return _rounded(method(self, *widened, **options), a.dtype)
        return method(self, *arrays, **options)

    run.in_float32 = True
    return run


for _cls in IN_FLOAT32:
    for _name in ("forward", "backward"):
        _method = getattr(_cls, _name)
        if not getattr(_method, "in_float32", False):
            setattr(_cls, _name, _in_float32(_method))
