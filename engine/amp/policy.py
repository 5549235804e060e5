"""Which dtype each op runs in under autocast: PyTorch's "Autocast Op Reference", one table per device type,
keyed by the op classes that ``Op.apply`` runs, and the cast of an op's inputs that ``Op.apply`` calls.

Categories (PyTorch's cast policies): ``LOWER`` ops run in the autocast dtype (float16 on CUDA, bfloat16 on
the CPU by default); ``FP32`` ops run in float32; ``PROMOTE`` ops run in the widest floating type of their
inputs; ``BANNED`` ops refuse to run (CUDA's binary_cross_entropy). Ops not listed run in their inputs' types.
Only floating tensors of the autocast device type, float64 excepted, are cast, as in PyTorch.
"""

from .. import dtypes
from ..autocast_state import state
from ..linalg.factorizations import QR, SVD, Cholesky, Eigh
from ..linalg.inverse import Det, Inv, Slogdet, Solve
from ..linalg.pseudo_inverse import Pinv
from ..linalg.triangular import SolveTriangular
from ..ops import elementwise as ew
from ..ops import loss, norm, reduce, scan, softmax
from ..ops.activation import Prelu
from ..ops.attention import ScaledDotProductAttention
from ..ops.blas import Addmm, Baddbmm, Cross
from ..ops.conv import Conv2d
from ..ops.conv_transpose import ConvTranspose2d
from ..ops.ctc_loss import CtcLoss
from ..ops.einsum import Einsum
from ..ops.grid_sample import GridSample
from ..ops.index_dim import IndexCopy
from ..ops.matmul import BatchedMatMul, Bmm, Dot, Linear, MatMul, Mv
from ..ops.op import to_copy
from ..ops.shape import Cat, Stack
from ..ops.triangular import Trace

LOWER, FP32, PROMOTE, BANNED = "lower_precision_fp", "fp32", "promote", "banned"

_LOSSES = (loss.CrossEntropy, loss.CrossEntropyProb, loss.NllLoss, loss.MseLoss, loss.L1Loss, loss.SmoothL1Loss,
           loss.HuberLoss, loss.BinaryCrossEntropyWithLogits, CtcLoss)
# conv1d and conv_transpose1d run through the 2-d nodes
_LOWER = (MatMul, Bmm, BatchedMatMul, Linear, Addmm, Baddbmm, Conv2d, ConvTranspose2d, Einsum, Prelu,
          ScaledDotProductAttention)

# "CUDA Ops that can autocast to float16 / to float32 / that promote to the widest input type"
CUDA = {
    **dict.fromkeys((*_LOWER, Mv), LOWER),
    **dict.fromkeys((ew.Acos, ew.Asin, ew.Cosh, ew.Sinh, ew.Tan, ew.Exp, ew.Expm1, ew.Log, ew.Log2, ew.Log10,
                     ew.Log1p, ew.Reciprocal, ew.Rsqrt, ew.Pow, ew.PowScalar, ew.RPowScalar, ew.RDivScalar,
                     softmax.Softmax, softmax.LogSoftmax, reduce.Sum, reduce.SumDim, reduce.Prod, reduce.Norm,
                     reduce.LogSumExp, scan.Cumsum, scan.Cumprod, norm.LayerNorm, norm.GroupNorm, *_LOSSES), FP32),
    **dict.fromkeys((Dot, Cross), PROMOTE),
    loss.BinaryCrossEntropy: BANNED,
}

# "CPU Ops that can autocast to bfloat16 / to float32 / that promote to the widest input type"
CPU = {
    **dict.fromkeys(_LOWER, LOWER),
    **dict.fromkeys((reduce.Prod, Trace, Cholesky, QR, SVD, Eigh, Inv, Det, Slogdet, Solve, SolveTriangular, Pinv,
                     GridSample, loss.BinaryCrossEntropy, *_LOSSES), FP32),
    **dict.fromkeys((Cat, Stack, IndexCopy), PROMOTE),
}

POLICIES = {"cpu": CPU, "cuda": CUDA}

_BANNED_MESSAGE = (
    "torch.nn.functional.binary_cross_entropy and torch.nn.BCELoss are unsafe to autocast.\n"
    "Many models use a sigmoid layer right before the binary cross entropy layer.\n"
    "In this case, combine the two layers using torch.nn.functional.binary_cross_entropy_with_logits\n"
    "or torch.nn.BCEWithLogitsLoss.  binary_cross_entropy_with_logits and BCEWithLogits are\n"
    "safe to autocast.")


def eligible(t, device_type):
    """A floating tensor of the autocast device type, not float64: the tensors autocast casts."""
    kind = t._data.dtype.kind
    return (kind == "V" or (kind == "f" and t._data.dtype.itemsize < 8)) and t._device.type == device_type


def _widest(inputs, device_type, lower):
    """PyTorch's ``promote`` policy: float32 if any eligible input is float32, else the autocast dtype."""
    widest = lower
    for t in inputs:
        if eligible(t, device_type):
            dt = dtypes.from_numpy(t._data.dtype)
            if dt is dtypes.float32:
                return dtypes.float32
            if dt is not lower:
                raise RuntimeError("Unexpected floating ScalarType in at::autocast::prioritize")
    return widest


def _cast(t, target, device_type, lower):
    """``t`` in dtype ``target``; a leaf parameter's cast to the autocast dtype is made once per region."""
    if not eligible(t, device_type) or t._data.dtype == target.np:
        return t
    cacheable = (state.cache_enabled and target is lower and t._requires_grad and t.grad_fn is None
                 and t._base is None and t._data.dtype == dtypes.float32.np)
    if not cacheable:
        return to_copy(t, None, target)
    hit = state.cache.get(id(t))
    if hit is not None and hit[0] is t:
        return hit[1]
    cast = to_copy(t, None, target)
    state.cache[id(t)] = (t, cast)
    return cast


def cast_inputs(cls, inputs):
    """The inputs of op ``cls`` as autocast runs it on their device type."""
    device_type = inputs[0]._device.type
    if not state.enabled[device_type]:
        return inputs
    category = POLICIES[device_type].get(cls)
    if category is None:
        return inputs
    lower = state.dtype[device_type]
    if category is LOWER:
        target = lower
    elif category is FP32:
        target = dtypes.float32
    elif category is PROMOTE:
        target = _widest(inputs, device_type, lower)
    else:
        raise RuntimeError(_BANNED_MESSAGE)
    return [_cast(t, target, device_type, lower) for t in inputs]


state.cast_inputs = cast_inputs
