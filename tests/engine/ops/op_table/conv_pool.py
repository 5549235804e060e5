"""Op table entries: convolution (engine/ops/conv.py), pooling (pool.py) and padding (pad.py), called through
``F(m)``: the engine's functions or ``torch.nn.functional``. conv2d runs over its oneDNN, compiled, wide and generic
implementations, max_pool2d over compiled and generic."""

from __future__ import annotations

import types
import warnings

import numpy as np

import engine
from engine.ops import conv, pad, pool

from .core import FLOATS, FLOATS_AND_INT, ErrorInput, OpInfo, S, call_error, with_call_errors

EF = types.SimpleNamespace(**{name: getattr(mod, name) for mod in (conv, pool, pad) for name in mod.__all__})


def F(m):
    """The engine's functional ops or ``torch.nn.functional``."""
    return EF if m is engine else m.nn.functional


_TOL = {"float32": (1e-4, 1e-4)}

# ----------------------------------------------------------------------------------------------
# conv2d
# ----------------------------------------------------------------------------------------------

_CONV_CASES = [
    # (name, input shape, weight shape, bias, kwargs)
    ("plain", (2, 3, 8, 8), (4, 3, 3, 3), True, {}),
    ("5x5", (2, 3, 12, 12), (6, 3, 5, 5), True, {}),
    ("5x5-pad2", (2, 6, 9, 9), (4, 6, 5, 5), True, {"padding": 2}),
    ("batch1", (1, 3, 7, 6), (2, 3, 3, 3), True, {}),
    ("stride2", (2, 3, 9, 8), (4, 3, 3, 3), True, {"stride": 2}),
    ("stride-tuple", (2, 3, 9, 8), (4, 3, 3, 3), True, {"stride": (2, 1)}),
    ("padding1", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": 1}),
    ("padding-tuple", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": (2, 1)}),
    ("same", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": "same"}),
    ("same-even-kernel", (2, 3, 6, 7), (4, 3, 4, 2), True, {"padding": "same"}),
    ("same-dilated", (2, 3, 9, 9), (4, 3, 3, 2), True, {"padding": "same", "dilation": (2, 3)}),
    ("valid", (2, 3, 6, 7), (4, 3, 3, 3), True, {"padding": "valid"}),
    ("dilation", (2, 3, 9, 9), (4, 3, 3, 3), True, {"dilation": 2}),
    ("dilation-tuple", (2, 3, 9, 9), (4, 3, 3, 2), True, {"dilation": (1, 3)}),
    (
        "all-options",
        (2, 4, 11, 10),
        (6, 2, 3, 2),
        True,
        {"stride": (2, 3), "padding": (1, 2), "dilation": (2, 1), "groups": 2},
    ),
    ("groups2", (2, 4, 7, 7), (6, 2, 3, 3), True, {"groups": 2}),
    ("depthwise", (2, 4, 7, 7), (4, 1, 3, 3), True, {"groups": 4, "padding": 1}),
    ("depthwise-multiplier", (2, 3, 7, 7), (6, 1, 3, 3), False, {"groups": 3}),
    ("no-bias", (2, 3, 8, 8), (4, 3, 3, 3), False, {}),
    ("non-square-kernel", (2, 3, 8, 9), (4, 3, 2, 4), True, {}),
    ("1x1", (2, 5, 4, 4), (3, 5, 1, 1), True, {}),
    ("kernel-equals-input", (2, 3, 4, 5), (2, 3, 4, 5), True, {}),
    ("unbatched", (3, 7, 6), (2, 3, 3, 3), True, {"padding": 1}),
]

_PARTIAL_GRADS = [(True, False, False), (False, True, False), (False, False, True), (False, True, True)]


def _conv_samples(dtype):
    out = [
        S(name, xs, ws, *([(ws[0],)] if bias else []), kwargs=kw, gradcheck=bool(np.prod(xs) <= 500))
        for name, xs, ws, bias, kw in _CONV_CASES
    ]
    out += [S(f"grad={g}", (2, 3, 6, 6), (4, 3, 3, 3), (4,), kwargs={"padding": 1}, grad=g) for g in _PARTIAL_GRADS]
    return out


def _conv(m, x, w, b=None, **kw):
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Using padding='same'")  # torch's note on even kernels
        return F(m).conv2d(x, w, b, **kw)


def np_conv(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """Direct NumPy reference (a loop over kernel offsets), for the forward value without torch."""

    def pair(v):
        return (v, v) if isinstance(v, int) else tuple(v)

    (sh, sw), (dh, dw) = pair(stride), pair(dilation)
    unbatched = x.ndim == 3
    x = x[None] if unbatched else x
    kh, kw = w.shape[2:]
    if padding == "same":
        th, tw = dh * (kh - 1), dw * (kw - 1)
        pads = ((th // 2, th - th // 2), (tw // 2, tw - tw // 2))
    else:
        ph, pw = (0, 0) if padding == "valid" else pair(padding)
        pads = ((ph, ph), (pw, pw))
    x = np.pad(x, ((0, 0), (0, 0), *pads))
    oh = (x.shape[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (x.shape[3] - dw * (kw - 1) - 1) // sw + 1
    k, cg = w.shape[:2]
    out = np.zeros((x.shape[0], k, oh, ow), dtype=np.float64)
    for g in range(groups):
        xs, ws = x[:, g * cg : (g + 1) * cg], w[g * k // groups : (g + 1) * k // groups]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh : i * dh + sh * (oh - 1) + 1 : sh, j * dw : j * dw + sw * (ow - 1) + 1 : sw]
                out[:, g * k // groups : (g + 1) * k // groups] += np.einsum("nchw,kc->nkhw", patch, ws[:, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    out = out.astype(x.dtype)
    return out[0] if unbatched else out


def _conv_error(name, xs, ws, kw, match):
    return call_error(name, lambda m, x, w: F(m).conv2d(x, w, **kw), [xs, ws], RuntimeError, match)


# fmt: off
_CONV_ERROR_CASES = [
    # (name, input shape, weight shape, kwargs, message)
    ("channels", (1, 1, 32, 32), (6, 3, 5, 5), {}, "Given groups=1, weight of size [6, 3, 5, 5], expected "
     "input[1, 1, 32, 32] to have 3 channels, but got 1 channels instead"),
    ("group channels", (2, 4, 8, 8), (6, 2, 3, 3), {"groups": 3}, "Given groups=3, weight of size [6, 2, 3, 3], "
     "expected input[2, 4, 8, 8] to have 6 channels, but got 4 channels instead"),
    ("groups divide", (2, 6, 8, 8), (6, 2, 3, 3), {"groups": 4}, "Given groups=4, expected weight to be divisible "
     "by 4 at dimension 0, but got weight of size [[6, 2, 3, 3]] instead"),
    ("kernel too big", (2, 3, 4, 4), (6, 3, 5, 5), {}, "Calculated padded input size per channel: (4 x 4). Kernel "
     "size: (5 x 5). Kernel size can't be greater than actual input size"),
    ("5d input", (2, 3, 4, 4, 4), (6, 3, 5, 5), {}, "Expected 3D (unbatched) or 4D (batched) input to conv2d, but "
     "got input of size: [2, 3, 4, 4, 4]"),
    ("2d input", (3, 4), (6, 3, 5, 5), {}, "Expected 3D (unbatched) or 4D (batched) input to conv2d"),
    ("groups=0", (2, 6, 8, 8), (6, 2, 3, 3), {"groups": 0}, "non-positive groups is not supported"),
    ("stride=0", (2, 6, 8, 8), (6, 6, 3, 3), {"stride": 0}, "non-positive stride is not supported"),
    ("padding=-1", (2, 6, 8, 8), (6, 6, 3, 3), {"padding": -1}, "negative padding is not supported"),
    ("dilation=0", (2, 6, 8, 8), (6, 6, 3, 3), {"dilation": 0}, "non-positive dilation is not supported"),
    ("same strided", (2, 6, 8, 8), (6, 6, 3, 3), {"padding": "same", "stride": 2},
     "padding='same' is not supported for strided convolutions"),
    ("padding string", (2, 6, 8, 8), (6, 6, 3, 3), {"padding": "foo"}, "Invalid padding string: 'foo'"),
    ("stride length", (2, 6, 8, 8), (6, 6, 3, 3), {"stride": (1, 2, 3)}, "expected stride to be a single integer "
     "value or a list of 2 values to match the convolution dimensions, but got stride=[1, 2, 3]"),
]
# fmt: on

_CONV_ERRORS = [
    *(_conv_error(*case) for case in _CONV_ERROR_CASES),
    call_error(
        "bias size",
        lambda m, x, w, b: F(m).conv2d(x, w, b, groups=3),
        [(2, 6, 8, 8), (6, 2, 3, 3), (5,)],
        RuntimeError,
        "Given weight of size [6, 2, 3, 3], expected bias to be 1-dimensional with 6 elements, but "
        "got bias of size [5] instead",
    ),
    ErrorInput(
        S(
            "weight dtype",
            (2, 3, 8, 8),
            (6, 3, 3, 3),
            dtypes=("float64", "float32"),
            kwargs={"call": lambda m, x, w: F(m).conv2d(x, w)},
        ),
        RuntimeError,
        "expected scalar type Double but found Float",
    ),
    ErrorInput(
        S(
            "bias dtype",
            (2, 3, 8, 8),
            (6, 3, 3, 3),
            (6,),
            dtypes=("float32", "float32", "float64"),
            kwargs={"call": lambda m, x, w, b: F(m).conv2d(x, w, b)},
        ),
        RuntimeError,
        "Input type (float) and bias type (double) should be the same",
    ),
]

CONV = [
    OpInfo(
        "conv2d",
        with_call_errors(_conv),
        _conv_samples,
        ref=np_conv,
        error_inputs=lambda: _CONV_ERRORS,
        implementations=("onednn", "compiled", "wide", "generic"),
        tolerances=_TOL,
        supports_gradgrad=True,
    ),
]

# ----------------------------------------------------------------------------------------------
# pooling
# ----------------------------------------------------------------------------------------------

_MAX_CASES = [
    ("k2", (2, 3, 8, 8), {"kernel_size": 2}),
    ("k2-odd-input", (2, 3, 7, 9), {"kernel_size": 2}),
    ("k3-s2", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2}),
    ("k3-s1-overlap", (2, 2, 6, 7), {"kernel_size": 3, "stride": 1}),
    ("k3-s2-pad1", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("k3-s1-pad1", (1, 2, 5, 5), {"kernel_size": 3, "stride": 1, "padding": 1}),
    ("ceil", (2, 3, 7, 9), {"kernel_size": 2, "ceil_mode": True}),
    ("ceil-k3-s2-pad1", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    ("ceil-last-window-dropped", (1, 2, 6, 6), {"kernel_size": 2, "stride": 5, "padding": 1, "ceil_mode": True}),
    ("tuple-args", (2, 3, 9, 10), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ("empty-stride", (2, 3, 8, 8), {"kernel_size": 2, "stride": ()}),
    ("unbatched", (3, 8, 8), {"kernel_size": 2}),
    ("batch1", (1, 3, 6, 6), {"kernel_size": 3, "stride": 3}),
    ("dilation2", (2, 2, 9, 9), {"kernel_size": 3, "stride": 1, "dilation": 2}),
    ("dilation-pad", (2, 2, 9, 10), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (2, 1)}),
    ("dilation-ceil", (1, 2, 10, 9), {"kernel_size": 2, "stride": 3, "dilation": 2, "ceil_mode": True}),
]


def _ties(dtype):
    """Windows with equal values: the gradient goes to the first maximum in scan order (no finite differences)."""
    rng = np.random.default_rng(1)
    arrays = {"all-equal": np.ones((2, 3, 7, 8)), "few-values": rng.integers(0, 3, size=(2, 3, 7, 8)).astype(float)}
    return [
        S(
            f"ties-{kind}-k{k}-s{s}{'-indices' * ri}",
            x,
            args=(k, s),
            kwargs={"return_indices": ri} if ri else {},
            gradcheck=False,
            atol=1e-6,
            rtol=0,
        )
        for kind, x in arrays.items()
        for k, s in [(2, 2), (3, 1), (3, 2), (2, 1)]
        for ri in (False, True)
    ]


def _max_pool_samples(dtype):
    out = [S(name, shape, kwargs=kw) for name, shape, kw in _MAX_CASES]
    out += [S(f"{name}-indices", shape, kwargs={**kw, "return_indices": True}) for name, shape, kw in _MAX_CASES]
    out.append(S("all negative, padded", (1, 2, 5, 5), args=(3, 1, 1), low=-5, high=-1))
    return out + _ties(dtype)


def _pool_error(fn, name, kw, shape, match):
    return call_error(name, lambda m, x: getattr(F(m), fn)(x, **kw), [shape], RuntimeError, match)


def _shared_pool_errors(fn):
    """The geometry errors max_pool2d and avg_pool2d share."""
    return [
        _pool_error(
            fn,
            "pad",
            {"kernel_size": 2, "padding": 2},
            (2, 3, 5, 5),
            "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1",
        ),
        _pool_error(
            fn,
            "output too small",
            {"kernel_size": 6},
            (2, 3, 5, 5),
            "Given input size: (3x5x5). Calculated output size: (3x0x0). Output size is too small",
        ),
    ]


_MAX_ERRORS = [
    *_shared_pool_errors("max_pool2d"),
    _pool_error("max_pool2d", "stride=0", {"kernel_size": 2, "stride": 0}, (2, 3, 5, 5), "stride should not be zero"),
    _pool_error(
        "max_pool2d",
        "dilation=0",
        {"kernel_size": 2, "dilation": 0},
        (2, 3, 5, 5),
        "dilation should be greater than zero, but got dilationH: 0 dilationW: 0",
    ),
    _pool_error(
        "max_pool2d",
        "kernel length",
        {"kernel_size": (2, 2, 2)},
        (2, 3, 5, 5),
        "max_pool2d: kernel_size must either be a single int, or a tuple of two ints",
    ),
    _pool_error(
        "max_pool2d",
        "2d input",
        {"kernel_size": 2},
        (5, 5),
        "non-empty 3D or 4D (batch mode) tensor expected for input",
    ),
    _pool_error(
        "max_pool2d",
        "5d input",
        {"kernel_size": 2},
        (2, 5, 5, 5, 5),
        "non-empty 3D or 4D (batch mode) tensor expected for input",
    ),
    _pool_error(
        "max_pool2d",
        "empty dim",
        {"kernel_size": 2},
        (2, 3, 0, 5),
        "Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:[2, 3, 0, 5]",
    ),
]

_AVG_CASES = [
    ("k2", (2, 3, 8, 8), {"kernel_size": 2}),
    ("k3-s2", (2, 3, 9, 8), {"kernel_size": 3, "stride": 2}),
    ("overlap", (2, 2, 6, 7), {"kernel_size": 3, "stride": 1}),
    ("pad", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1}),
    ("pad-exclude", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "count_include_pad": False}),
    ("ceil", (2, 3, 7, 9), {"kernel_size": 2, "ceil_mode": True}),
    ("ceil-pad", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
    (
        "ceil-pad-exclude",
        (2, 3, 8, 9),
        {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    ),
    ("divisor", (2, 3, 8, 9), {"kernel_size": 3, "stride": 2, "padding": 1, "divisor_override": 5}),
    ("tuple-args", (2, 3, 9, 10), {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)}),
    ("unbatched", (3, 8, 8), {"kernel_size": 2}),
]

_AVG_ERRORS = [
    *_shared_pool_errors("avg_pool2d"),
    _pool_error(
        "avg_pool2d", "divisor=0", {"kernel_size": 2, "divisor_override": 0}, (2, 3, 5, 5), "divisor must be not zero"
    ),
]

_ADAPTIVE_CASES = [
    ("global", (2, 3, 7, 6), 1),
    ("divisible", (2, 3, 8, 6), (4, 3)),
    ("uneven", (2, 3, 7, 9), (3, 4)),
    ("upsampling", (2, 2, 3, 4), (5, 6)),
    ("none-entry", (2, 3, 7, 9), (None, 4)),
    ("int", (2, 3, 7, 9), 5),
    ("unbatched", (3, 7, 9), (2, 3)),
]


def _adaptive_max_samples(dtype):
    out = [S(name, shape, args=(size,)) for name, shape, size in _ADAPTIVE_CASES]
    out += [S(f"{name}-indices", shape, args=(size, True)) for name, shape, size in _ADAPTIVE_CASES]
    x = np.random.default_rng(2).integers(0, 2, size=(2, 3, 7, 8)).astype(float)
    out += [S(f"ties-{size}", x, args=(size, True), gradcheck=False, atol=1e-6, rtol=0) for size in [(3, 4), (2, 2), 1]]
    return out


_ADAPTIVE_ERRORS = [
    call_error(
        "output size length",
        lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 2, 2)),
        [(2, 3, 5, 5)],
        RuntimeError,
        "adaptive_avg_pool2d: output_size must be 2",
    ),
    call_error(
        "2d input",
        lambda m, x: F(m).adaptive_avg_pool2d(x, 2),
        [(5, 5)],
        RuntimeError,
        "adaptive_avg_pool2d(): Expected 3D or 4D tensor, but got [5, 5]",
    ),
    call_error(
        "empty dim",
        lambda m, x: F(m).adaptive_avg_pool2d(x, 2),
        [(2, 3, 0, 5)],
        RuntimeError,
        "adaptive_avg_pool2d(): Expected input to have non-zero size for non-batch dimensions, but input has sizes "
        "[2, 3, 0, 5] with dimension 2 being empty",
    ),
]


def _fn(name):
    return with_call_errors(lambda m, *a, **kw: getattr(F(m), name)(*a, **kw))


POOL = [
    OpInfo(
        "max_pool2d",
        _fn("max_pool2d"),
        _max_pool_samples,
        error_inputs=lambda: _MAX_ERRORS,
        dtypes=FLOATS_AND_INT,
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
    OpInfo(
        "avg_pool2d",
        _fn("avg_pool2d"),
        lambda dtype: [S(name, shape, kwargs=kw) for name, shape, kw in _AVG_CASES],
        error_inputs=lambda: _AVG_ERRORS,
        supports_gradgrad=True,
    ),
    OpInfo(
        "adaptive_avg_pool2d",
        _fn("adaptive_avg_pool2d"),
        lambda dtype: [S(name, shape, args=(size,)) for name, shape, size in _ADAPTIVE_CASES],
        error_inputs=lambda: _ADAPTIVE_ERRORS,
        supports_gradgrad=True,
    ),
    OpInfo("adaptive_max_pool2d", _fn("adaptive_max_pool2d"), _adaptive_max_samples, supports_gradgrad=True),
]

# ----------------------------------------------------------------------------------------------
# pad
# ----------------------------------------------------------------------------------------------

_PAD_CASES = [
    ("constant-1d", "constant", (2, 3, 5), (1, 2)),
    ("constant-2d", "constant", (2, 3, 4, 5), (1, 2, 2, 1)),
    ("constant-3d", "constant", (2, 3, 4, 5), (1, 0, 0, 1, 2, 1)),
    ("constant-all-dims", "constant", (3, 4), (1, 1, 2, 0)),
    ("constant-negative", "constant", (2, 3, 4, 5), (-1, 2, 2, -2)),
    ("reflect-1d", "reflect", (2, 3, 5), (2, 4)),
    ("reflect-1d-2d-input", "reflect", (3, 5), (1, 3)),
    ("reflect-2d", "reflect", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("reflect-2d-unbatched", "reflect", (3, 4, 5), (1, 2, 3, 1)),
    ("reflect-3d", "reflect", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
    ("reflect-cifar-crop", "reflect", (2, 3, 8, 8), (4, 4, 4, 4)),
    ("replicate-1d", "replicate", (2, 3, 5), (3, 6)),
    ("replicate-2d", "replicate", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("replicate-3d", "replicate", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
    ("circular-1d", "circular", (2, 3, 5), (2, 4)),
    ("circular-2d", "circular", (2, 3, 4, 5), (1, 2, 3, 1)),
    ("circular-negative", "circular", (2, 3, 5), (-1, 2)),
    ("circular-3d", "circular", (1, 2, 3, 4, 5), (1, 2, 2, 1, 1, 2)),
]


def _pad_samples(dtype):
    out = [S(name, shape, args=(amounts,), kwargs={"mode": mode}) for name, mode, shape, amounts in _PAD_CASES]
    return [*out, S("value", (2, 3, 4), args=((1, 2, 0, 1),), kwargs={"value": 3.5})]


def _pad_error(name, shape, amounts, kw, exc, match):
    return call_error(name, lambda m, x: F(m).pad(x, amounts, **kw), [shape], exc, match)


_PAD_ERRORS = [
    _pad_error("odd length", (2, 3, 5, 5), (1, 2, 3), {}, RuntimeError, "Padding length must be divisible by 2"),
    _pad_error(
        "too long",
        (2, 3, 5, 5),
        (1,) * 10,
        {},
        RuntimeError,
        "Padding length should be less than or equal "
        "to two times the input dimension but got padding length 10 and input of dimension 4",
    ),
    _pad_error(
        "reflect size",
        (2, 3, 5, 5),
        (1, 2),
        {"mode": "reflect"},
        NotImplementedError,
        "Padding size 2 is not supported for 4D input tensor.",
    ),
    _pad_error("mode", (2, 3, 5, 5), (1, 2), {"mode": "foo"}, NotImplementedError, "Unrecognised padding mode foo"),
    _pad_error(
        "reflect value",
        (2, 3, 5, 5),
        (1, 2, 1, 1),
        {"mode": "reflect", "value": 1.0},
        RuntimeError,
        'Padding mode "reflect" doesn\'t take in value argument',
    ),
    _pad_error(
        "reflect too wide",
        (1, 1, 5),
        (5, 1),
        {"mode": "reflect"},
        RuntimeError,
        "Argument #4: Padding size should be less than the corresponding input dimension, but got: padding "
        "(5, 1) at dimension 2 of input [1, 1, 5]",
    ),
    _pad_error(
        "circular wraps",
        (1, 1, 5),
        (6, 1),
        {"mode": "circular"},
        RuntimeError,
        "Padding value causes wrapping around more than once.",
    ),
]

PAD = [OpInfo("pad", _fn("pad"), _pad_samples, error_inputs=lambda: _PAD_ERRORS, supports_gradgrad=True)]

__all__ = ["CONV", "EF", "FLOATS", "PAD", "POOL", "F", "np_conv"]
