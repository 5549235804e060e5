"""LayerLab's deep-learning engine: tensors, autograd, on NumPy (CPU) and CuPy (GPU).

The API mirrors PyTorch's, so ``import engine as torch`` runs PyTorch tutorial code.
"""

import numpy as _np

# Overflow to inf, log(0) and 0/0 follow IEEE in PyTorch without warnings; NumPy would warn.
_np.seterr(all="ignore")

from . import (
    _methods,
    accelerator,
    amp,
    autograd,
    backend,
    backends,
    cpu,
    cuda,
    distributed,
    distributions,
    dtypes,
    func,
    hub,
    linalg,
    nn,
    optim,
    random,
    return_types,
    special,
    training,
    utils,
    vision,
)
from .amp import (
    autocast,
    clear_autocast_cache,
    get_autocast_cpu_dtype,
    get_autocast_dtype,
    get_autocast_gpu_dtype,
    is_autocast_cache_enabled,
    is_autocast_cpu_enabled,
    is_autocast_enabled,
    set_autocast_cache_enabled,
    set_autocast_dtype,
    set_autocast_enabled,
)
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .autograd import functional as _autograd_functional  # registers engine.autograd.functional, which needs ops
from .backend import device, get_default_device, set_default_device
from .creation import (
    BFloat16Tensor,
    BoolTensor,
    ByteTensor,
    CharTensor,
    DoubleTensor,
    FloatTensor,
    HalfTensor,
    IntTensor,
    LongTensor,
    ShortTensor,
    arange,
    as_tensor,
    empty,
    empty_like,
    eye,
    from_numpy,
    full,
    full_like,
    is_tensor,
    linspace,
    logspace,
    numel,
    ones,
    ones_like,
    rand,
    rand_like,
    randint,
    randint_like,
    randn,
    randn_like,
    randperm,
    range,
    tensor,
    zeros,
    zeros_like,
)
from .dtypes import dtype, get_default_dtype, set_default_dtype
from .func import vmap
from .linalg.factorizations import legacy_cholesky as cholesky
from .linalg.factorizations import legacy_qr as qr
from .linalg.factorizations import legacy_svd as svd
from .linalg.inverse import det, logdet, matrix_power, slogdet
from .linalg.inverse import inv as inverse
from .linalg.lu import lu_unpack
from .linalg.matrix_exp import matrix_exp
from .linalg.pseudo_inverse import pinverse
from .ops.blas import addbmm, addmm, addmv, baddbmm, cdist, cross
from .ops.combine import block_diag, cartesian_prod, combinations, meshgrid
from .ops.convert import clone
from .ops.einsum import einsum
from .ops.elementwise import (
    abs,
    acos,
    add,
    allclose,
    asin,
    atan,
    bitwise_not,
    ceil,
    clamp,
    clip,
    cos,
    cosh,
    div,
    eq,
    equal,
    exp,
    expm1,
    floor,
    floor_divide,
    ge,
    gt,
    isclose,
    isfinite,
    isinf,
    isnan,
    le,
    log,
    log1p,
    log2,
    log10,
    logical_and,
    logical_not,
    logical_or,
    logical_xor,
    lt,
    maximum,
    minimum,
    mul,
    ne,
    neg,
    pow,
    reciprocal,
    relu,
    remainder,
    round,
    rsqrt,
    sigmoid,
    sign,
    sin,
    sinh,
    sqrt,
    square,
    sub,
    tan,
    tanh,
    true_divide,
    trunc,
    where,
)
from .ops.histogram import bincount, histc
from .ops.index_dim import index_add, index_copy, index_fill, index_select
from .ops.interleave import repeat_interleave
from .ops.masked import argwhere, masked_fill, masked_scatter, masked_select, nonzero
from .ops.matmul import bmm, dot, matmul, mm, mv, outer
from .ops.reduce import (
    all,
    amax,
    amin,
    any,
    argmax,
    argmin,
    count_nonzero,
    logsumexp,
    max,
    mean,
    min,
    norm,
    prod,
    std,
    std_mean,
    sum,
    var,
    var_mean,
)
from .ops.reduce_extra import aminmax, nanmean, nansum
from .ops.rotate import fliplr, flipud, roll, rot90
from .ops.sampling import bernoulli, multinomial, normal, poisson
from .ops.scan import cummax, cummin, cumprod, cumsum, logcumsumexp
from .ops.scatter import gather, scatter, scatter_add, scatter_reduce, take_along_dim
from .ops.shape import (
    cat,
    chunk,
    concat,
    concatenate,
    flatten,
    flip,
    hstack,
    movedim,
    narrow,
    permute,
    reshape,
    select,
    split,
    squeeze,
    stack,
    swapaxes,
    swapdims,
    t,
    transpose,
    unbind,
    unflatten,
    unsqueeze,
    vstack,
)
from .ops.softmax import log_softmax, softmax
from .ops.sorting import (
    argsort,
    bucketize,
    isin,
    kthvalue,
    median,
    mode,
    msort,
    nanmedian,
    searchsorted,
    sort,
    topk,
    unique,
    unique_consecutive,
)
from .ops.splits import dsplit, hsplit, tensor_split, vsplit
from .ops.stacking import (
    atleast_1d,
    atleast_2d,
    atleast_3d,
    broadcast_shapes,
    broadcast_tensors,
    broadcast_to,
    column_stack,
    dstack,
    ravel,
    row_stack,
    tile,
)
from .ops.triangular import (
    diag,
    diag_embed,
    diagflat,
    diagonal,
    trace,
    tril,
    tril_indices,
    triu,
    triu_indices,
)
from .random import Generator, get_rng_state, initial_seed, manual_seed, seed, set_rng_state
from .serialization import load, load_safetensors, save, save_safetensors
from .special import erf, erfc, erfinv
from .tensor import Size, Tensor
from .tensor_str import set_printoptions
from .threads import get_num_threads, set_num_threads
from .type_info import finfo, iinfo

multiply, subtract, negative, divide = mul, sub, neg, div
moveaxis = movedim

bool = dtypes.bool_
uint8, int8, int16, int32, int64 = dtypes.uint8, dtypes.int8, dtypes.int16, dtypes.int32, dtypes.int64
float16, float32, float64 = dtypes.float16, dtypes.float32, dtypes.float64
half, float, double = float16, float32, float64
bfloat16 = dtypes.bfloat16
short, int, long = int16, int32, int64

__version__ = "0.1.0"
