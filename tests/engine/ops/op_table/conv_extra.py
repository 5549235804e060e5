"""Op table entries: conv1d and depthwise conv2d (engine/ops/conv.py, the latter over its depthwise kernels and
the generic im2col), conv_transpose1d/2d (conv_transpose.py), unfold and fold (fold.py), called through ``F(m)``:
the engine's functions or ``torch.nn.functional``."""

from __future__ import annotations

import types
import warnings

import numpy as np

import engine
from engine.ops import conv, conv_transpose, fold

from .core import ErrorInput, OpInfo, S, call_error, with_call_errors

EF = types.SimpleNamespace(**{name: getattr(mod, name) for mod in (conv, conv_transpose, fold) for name in mod.__all__})


def F(m):
    """The engine's functional ops or ``torch.nn.functional``."""
    return EF if m is engine else m.nn.functional


_TOL = {"float32": (1e-4, 1e-4)}


def _samples(cases):
    """Samples of (name, input shape, weight shape, bias, kwargs) cases; finite differences on small ones."""

    def samples(dtype):
        return [
            S(name, xs, ws, *([(b,)] if b else []), kwargs=kw, gradcheck=bool(np.prod(xs) <= 400))
            for name, xs, ws, b, kw in cases
        ]

    return samples


def _errors(name, cases):
    return lambda: [
        call_error(label, lambda m, *t, kw=kw: getattr(F(m), name)(*t, **kw), shapes, exc, match)
        for label, shapes, kw, exc, match in cases
    ]


# ----------------------------------------------------------------------------------------------
# conv1d
# ----------------------------------------------------------------------------------------------

_CONV1D_CASES = [
    ("plain", (2, 3, 9), (4, 3, 3), 4, {}),
    ("no-bias", (2, 3, 9), (4, 3, 2), None, {}),
    ("stride-padding", (2, 3, 10), (4, 3, 3), 4, {"stride": 2, "padding": 1}),
    ("dilation-groups", (2, 4, 11), (6, 2, 3), 6, {"dilation": 2, "groups": 2, "padding": (2,)}),
    ("depthwise", (2, 4, 9), (8, 1, 5), 8, {"groups": 4, "padding": 2}),
    ("same", (2, 3, 8), (4, 3, 4), 4, {"padding": "same"}),
    ("valid", (2, 3, 8), (4, 3, 3), None, {"padding": "valid"}),
    ("unbatched", (3, 9), (4, 3, 3), 4, {"padding": 1}),
]

_CONV1D_ERRORS = [
    ("3d", [(2, 3, 4, 5), (4, 3, 3)], {}, RuntimeError,
     "Expected 2D (unbatched) or 3D (batched) input to conv1d, but got input of size: [2, 3, 4, 5]"),
    ("weight 4d", [(2, 3, 8), (4, 3, 3, 3)], {}, RuntimeError,
     "Expected 4-dimensional input for 4-dimensional weight [4, 3, 3, 3], but got 3-dimensional input of size "
     "[2, 3, 8] instead"),
    ("channels", [(2, 3, 8), (4, 2, 3)], {}, RuntimeError,
     "Given groups=1, weight of size [4, 2, 3], expected input[2, 3, 8] to have 2 channels, but got 3 channels "
     "instead"),
    ("stride length", [(2, 3, 8), (4, 3, 3)], {"stride": (1, 2)}, RuntimeError,
     "expected stride to be a single integer value or a list of 1 values to match the convolution dimensions, but "
     "got stride=[1, 2]"),
    ("kernel too big", [(2, 3, 2), (4, 3, 3)], {}, RuntimeError,
     "Calculated padded input size per channel: (2). Kernel size: (3). Kernel size can't be greater than actual "
     "input size"),
    ("same strided", [(2, 4, 8), (4, 4, 3)], {"padding": "same", "stride": 2}, RuntimeError,
     "padding='same' is not supported for strided convolutions"),
    ("weight 2d", [(2, 3, 8), (4, 3)], {}, RuntimeError, "weight should have at least three dimensions"),
]

# ----------------------------------------------------------------------------------------------
# depthwise conv2d: one group per input channel, channel multiplier 1 or more
# ----------------------------------------------------------------------------------------------

_DEPTHWISE_CASES = [
    ("3x3", (2, 4, 7, 6), (4, 1, 3, 3), 4, {"padding": 1, "groups": 4}),
    ("3x3-stride2", (2, 3, 9, 8), (3, 1, 3, 3), 3, {"padding": 1, "stride": 2, "groups": 3}),
    ("5x5-multiplier2", (2, 3, 8, 9), (6, 1, 5, 5), 6, {"padding": 2, "groups": 3}),
    ("7x7", (2, 3, 8, 8), (3, 1, 7, 7), 3, {"padding": 3, "groups": 3}),
    ("7x7-stride2-no-bias", (1, 2, 11, 10), (2, 1, 7, 7), None, {"padding": 3, "stride": 2, "groups": 2}),
    ("stride-dilation-mixed", (2, 2, 11, 12), (4, 1, 3, 2), 4,
     {"padding": (2, 1), "stride": (2, 3), "dilation": (2, 1), "groups": 2}),
    ("dilation3-stride2", (1, 2, 13, 13), (2, 1, 3, 3), 2, {"dilation": 3, "stride": 2, "groups": 2}),
    ("same-even", (2, 3, 7, 7), (3, 1, 4, 4), 3, {"padding": "same", "groups": 3}),
    ("padding-beyond-kernel", (1, 2, 5, 5), (2, 1, 3, 3), 2, {"padding": 4, "groups": 2}),
    ("no-padding", (2, 3, 6, 7), (3, 1, 3, 3), 3, {"groups": 3}),
    ("unbatched", (3, 6, 6), (6, 1, 3, 3), 6, {"padding": 1, "groups": 3}),
    # planes wider than conv_depthwise.LANES_MAX_WIDTH, for the plane kernel (the cases above run along channels)
    ("3x3-wide", (2, 3, 5, 19), (3, 1, 3, 3), 3, {"padding": 1, "groups": 3}),
    ("7x7-stride2-wide", (1, 2, 9, 40), (2, 1, 7, 7), None, {"padding": 3, "stride": 2, "groups": 2}),
]

# ----------------------------------------------------------------------------------------------
# conv_transpose1d / conv_transpose2d: weight (in, out / groups, ...)
# ----------------------------------------------------------------------------------------------

_TRANSPOSE2D_CASES = [
    ("plain", (2, 4, 5, 5), (4, 3, 3, 3), 3, {}),
    ("no-bias", (2, 4, 5, 6), (4, 3, 2, 3), None, {}),
    ("stride2-pad1-k4", (2, 4, 4, 4), (4, 2, 4, 4), 2, {"stride": 2, "padding": 1}),
    ("output-padding", (2, 3, 4, 5), (3, 2, 3, 3), 2, {"stride": 2, "padding": 1, "output_padding": 1}),
    ("all-options", (2, 4, 5, 6), (4, 3, 3, 2), 6,
     {"stride": (2, 3), "padding": (1, 0), "output_padding": (1, 2), "groups": 2, "dilation": (1, 2)}),
    ("output-padding-below-dilation", (2, 3, 4, 4), (3, 2, 3, 3), 2, {"dilation": 2, "output_padding": 1}),
    ("depthwise", (2, 3, 5, 5), (3, 1, 3, 3), 3, {"groups": 3, "padding": 1}),
    ("kernel-below-stride", (2, 3, 4, 4), (3, 2, 2, 1), 2, {"stride": (3, 2), "output_padding": (2, 1)}),
    ("padding-beyond-stride", (2, 3, 5, 4), (3, 2, 3, 5), 2, {"stride": 2, "padding": (2, 3)}),
    ("unbatched", (4, 5, 5), (4, 2, 4, 4), 2, {"stride": 2, "padding": 1}),
]

_TRANSPOSE1D_CASES = [
    ("plain", (2, 4, 7), (4, 3, 3), 3, {}),
    ("stride-output-padding", (2, 4, 7), (4, 3, 3), 3, {"stride": 2, "padding": 1, "output_padding": 1}),
    ("groups-dilation", (2, 4, 6), (4, 1, 3), 2, {"groups": 2, "dilation": 2, "padding": 2}),
    ("unbatched", (4, 7), (4, 2, 3), None, {"stride": 3}),
]

_TRANSPOSE_ERRORS = [
    ("output padding", [(2, 3, 8, 8), (3, 4, 3, 3)], {"output_padding": 1}, RuntimeError,
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 1 "
     "output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1"),
    ("output padding stride", [(2, 3, 8, 8), (3, 4, 3, 3)], {"stride": 2, "output_padding": (1, 2)}, RuntimeError,
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 1 "
     "output_padding_width: 2 stride_height: 2 stride_width: 2 dilation_height: 1 dilation_width: 1"),
    ("channels", [(2, 3, 8, 8), (4, 4, 3, 3)], {}, RuntimeError,
     "Given transposed=1, weight of size [4, 4, 3, 3], expected input[2, 3, 8, 8] to have 4 channels, but got 3 "
     "channels instead"),
    ("unbatched channels", [(2, 3, 8), (3, 4, 3, 3)], {}, RuntimeError,
     "Given transposed=1, weight of size [3, 4, 3, 3], expected input[1, 2, 3, 8] to have 3 channels, but got 2 "
     "channels instead"),
    ("5d", [(2, 3, 8, 8, 8), (3, 4, 3, 3)], {}, RuntimeError,
     "Expected 3D (unbatched) or 4D (batched) input to conv_transpose2d, but got input of size: [2, 3, 8, 8, 8]"),
    ("groups divide", [(2, 4, 8, 8), (4, 4, 3, 3)], {"groups": 3}, RuntimeError,
     "Given groups=3, expected weight to be divisible by 3 at dimension 0, but got weight of size [[4, 4, 3, 3]] "
     "instead"),
    ("bias size", [(2, 4, 8, 8), (4, 4, 3, 3), (3,)], {}, RuntimeError,
     "Given transposed=1, weight of size [4, 4, 3, 3], expected bias to be 1-dimensional with 4 elements, but got "
     "bias of size [3] instead"),
    ("padding string", [(2, 4, 8, 8), (4, 4, 3, 3)], {"padding": "same"}, TypeError,
     "conv_transpose2d(): argument 'padding' must be tuple of ints, not str"),
    ("stride=0", [(2, 4, 8, 8), (4, 4, 3, 3)], {"stride": 0}, RuntimeError, "non-positive stride is not supported"),
    ("padding=-1", [(2, 4, 8, 8), (4, 4, 3, 3)], {"padding": -1}, RuntimeError, "negative padding is not supported"),
    ("groups=0", [(2, 4, 8, 8), (4, 4, 3, 3)], {"groups": 0}, RuntimeError, "non-positive groups is not supported"),
    ("output_padding=-1", [(2, 4, 8, 8), (4, 4, 3, 3)], {"output_padding": -1}, RuntimeError,
     "negative output_padding is not supported"),
    ("stride length", [(2, 4, 8, 8), (4, 4, 3, 3)], {"stride": (1, 2, 3)}, RuntimeError,
     "expected stride to be a single integer value or a list of 2 values to match the convolution dimensions, but "
     "got stride=[1, 2, 3]"),
]

_TRANSPOSE1D_ERRORS = [
    ("4d", [(2, 4, 8, 8), (4, 4, 3)], {}, RuntimeError,
     "Expected 2D (unbatched) or 3D (batched) input to conv_transpose1d, but got input of size: [2, 4, 8, 8]"),
    ("output padding", [(2, 4, 8), (4, 4, 3)], {"output_padding": 1}, RuntimeError,
     "output padding must be smaller than either stride or dilation, but got output_padding_height: 0 "
     "output_padding_width: 1 stride_height: 1 stride_width: 1 dilation_height: 1 dilation_width: 1"),
]

_DTYPE_ERRORS = [
    ErrorInput(S("weight dtype", (2, 4, 8, 8), (4, 4, 3, 3), dtypes=("float32", "float64"),
                 kwargs={"call": lambda m, x, w: F(m).conv_transpose2d(x, w)}), RuntimeError,
               "Input type (torch.FloatTensor) and weight type (torch.DoubleTensor) should be the same or input "
               "should be a MKLDNN tensor and weight is a dense tensor"),
    ErrorInput(S("bias dtype", (2, 4, 8), (4, 4, 3), (4,), dtypes=("float32", "float32", "float64"),
                 kwargs={"call": lambda m, x, w, b: F(m).conv_transpose1d(x, w, b)}), RuntimeError,
               "Input type (torch.FloatTensor) and bias type (torch.DoubleTensor) should be the same or input "
               "should be a MKLDNN tensor and bias is a dense tensor"),
]

# ----------------------------------------------------------------------------------------------
# unfold / fold
# ----------------------------------------------------------------------------------------------

_UNFOLD_CASES = [
    ("k2", (2, 3, 6, 6), {"kernel_size": 2}),
    ("all-options", (2, 3, 7, 6), {"kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (1, 2)}),
    ("stride-equals-kernel", (1, 2, 8, 8), {"kernel_size": 4, "stride": 4}),
    ("unbatched", (3, 5, 5), {"kernel_size": 3, "padding": (1, 0)}),
]

# (name, input shape (N, C*kh*kw, L), kwargs): L matches the blocks of output_size
_FOLD_CASES = [
    ("k2", (2, 12, 25), {"output_size": (6, 6), "kernel_size": 2}),
    ("all-options", (2, 18, 21),
     {"output_size": (7, 6), "kernel_size": (2, 3), "dilation": (2, 1), "padding": 1, "stride": (1, 2)}),
    ("stride-equals-kernel", (1, 32, 4), {"output_size": 8, "kernel_size": 4, "stride": 4}),
    ("unbatched", (27, 15), {"output_size": (5, 5), "kernel_size": 3, "padding": (1, 0)}),
]

_UNFOLD_ERRORS = [
    ("5d", [(2, 3, 4, 4, 4)], {"kernel_size": 2}, RuntimeError,
     "Expected 3D or 4D (batch mode) tensor with possibly 0 batch size and other non-zero dimensions for input, "
     "but got: [2, 3, 4, 4, 4]"),
    ("too big", [(2, 3, 6, 6)], {"kernel_size": 7}, RuntimeError,
     "Given input with spatial size (6, 6), kernel_size=(7, 7), dilation=(1, 1), padding=(0, 0), calculated shape "
     "of the array of sliding blocks as (0, 0), but its components must be at least one."),
    ("kernel 0", [(2, 3, 6, 6)], {"kernel_size": 0}, RuntimeError,
     "kernel size should be greater than zero, but got kernel_height: 0 kernel_width: 0"),
    ("stride 0", [(2, 3, 6, 6)], {"kernel_size": 2, "stride": 0}, RuntimeError,
     "stride should be greater than zero, but got stride_height: 0 stride_width: 0"),
    ("padding -1", [(2, 3, 6, 6)], {"kernel_size": 2, "padding": -1}, RuntimeError,
     "padding should be non-negative, but got pad_height: -1 pad_width: -1"),
    ("dilation 0", [(2, 3, 6, 6)], {"kernel_size": 2, "dilation": 0}, RuntimeError,
     "dilation should be greater than zero, but got dilation_height: 0 dilation_width: 0"),
    ("kernel length", [(2, 3, 6, 6)], {"kernel_size": (2, 2, 2)}, RuntimeError,
     "It is expected kernel_size equals to 2, but got size 3"),
]

_FOLD_ERRORS = [
    ("kernel product", [(2, 12, 25)], {"output_size": (6, 6), "kernel_size": 3}, RuntimeError,
     "Expected size of input's dimension 1 to be divisible by the product of kernel_size, but got "
     "input.size(1)=12 and kernel_size=(3, 3)."),
    ("blocks", [(2, 12, 24)], {"output_size": (6, 6), "kernel_size": 2}, RuntimeError,
     "Given output_size=(6, 6), kernel_size=(2, 2), dilation=(1, 1), padding=(0, 0), stride=(1, 1), expected size "
     "of input's dimension 2 to match the calculated number of sliding blocks 5 * 5 = 25, but got "
     "input.size(2)=24."),
    ("4d", [(2, 3, 4, 4)], {"output_size": (6, 6), "kernel_size": 2}, RuntimeError,
     "Expected 2D or 3D (batch mode) tensor for input with possibly 0 batch size and non-zero dimensions for input, "
     "but got: [2, 3, 4, 4]"),
    ("output_size length", [(2, 12, 25)], {"output_size": (6, 6, 6), "kernel_size": 2}, RuntimeError,
     "It is expected output_size equals to 2, but got size 3"),
]


def _call(name):
    def call(m, *t, **kw):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Using padding='same'")  # torch's note on even kernels
            return getattr(F(m), name)(*t, **kw)

    return with_call_errors(call)


CONV_EXTRA = [
    OpInfo("conv1d", _call("conv1d"), _samples(_CONV1D_CASES), error_inputs=_errors("conv1d", _CONV1D_ERRORS),
           implementations=("onednn", "compiled", "depthwise", "wide", "generic"), tolerances=_TOL,
           supports_gradgrad=True),
    OpInfo("conv2d_depthwise", _call("conv2d"), _samples(_DEPTHWISE_CASES), implementations=("depthwise", "generic"),
           tolerances=_TOL, supports_gradgrad=True),
    OpInfo("conv_transpose2d", _call("conv_transpose2d"), _samples(_TRANSPOSE2D_CASES),
           error_inputs=lambda: [*_errors("conv_transpose2d", _TRANSPOSE_ERRORS)(), *_DTYPE_ERRORS], tolerances=_TOL,
           supports_gradgrad=True),
    OpInfo("conv_transpose1d", _call("conv_transpose1d"), _samples(_TRANSPOSE1D_CASES),
           error_inputs=_errors("conv_transpose1d", _TRANSPOSE1D_ERRORS), tolerances=_TOL, supports_gradgrad=True),
    OpInfo("unfold", _call("unfold"), lambda dtype: [S(n, xs, kwargs=kw) for n, xs, kw in _UNFOLD_CASES],
           error_inputs=_errors("unfold", _UNFOLD_ERRORS), supports_gradgrad=True),
    OpInfo("fold", _call("fold"), lambda dtype: [S(n, xs, kwargs=kw) for n, xs, kw in _FOLD_CASES],
           error_inputs=_errors("fold", _FOLD_ERRORS), supports_gradgrad=True),
]

__all__ = ["CONV_EXTRA"]
