"""Op table entries: 1-d and power-average pooling (engine/ops/pool.py), interpolate (interpolate.py), pixel
shuffles (pixel_shuffle.py), affine_grid and grid_sample (grid_sample.py), called through ``F(m)``: the engine's
functions or ``torch.nn.functional``."""

from __future__ import annotations

import types

import numpy as np

import engine
from engine.ops import grid_sample, interpolate, pixel_shuffle, pool

from .core import ErrorInput, OpInfo, S, call_error, with_call_errors

EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (pool, interpolate, pixel_shuffle, grid_sample) for name in mod.__all__}
)


def F(m):
    """The engine's functional ops or ``torch.nn.functional``."""
    return EF if m is engine else m.nn.functional


def _fn(name):
    return with_call_errors(lambda m, *a, **kw: getattr(F(m), name)(*a, **kw))


def _error(fn, name, shape, args, kw, exc, match):
    return call_error(name, lambda m, x: getattr(F(m), fn)(x, *args, **kw), [shape], exc, match)


# ----------------------------------------------------------------------------------------------
# 1-d pooling
# ----------------------------------------------------------------------------------------------

_MAX1_CASES = [
    ("k2", (2, 3, 8), (2,), {}),
    ("k3-s2-pad1", (2, 3, 9), (3, 2, 1), {}),
    ("overlap", (2, 2, 7), (3, 1), {}),
    ("dilation-ceil", (2, 2, 10), (2, 3, 0, 2, True), {}),
    ("unbatched", (3, 8), (2,), {}),
    ("tuple-args", (2, 3, 9), ((3,), (2,), (1,)), {}),
    ("empty-stride", (2, 3, 8), (2, ()), {}),
]


def _max1_samples(dtype):
    out = [S(name, shape, args=args, kwargs=kw) for name, shape, args, kw in _MAX1_CASES]
    out += [S(f"{name}-indices", shape, args=args, kwargs={"return_indices": True}) for name, shape, args, _ in
            _MAX1_CASES]
    ties = np.random.default_rng(3).integers(0, 2, size=(2, 3, 9)).astype(float)
    return [*out, S("ties-indices", ties, args=(3, 1), kwargs={"return_indices": True}, gradcheck=False)]


_MAX1_ERRORS = [
    _error("max_pool1d", "4d", (1, 2, 3, 4), (2,), {}, RuntimeError, "max_pool1d: Expected 2D or 3D (batch mode) "
           "tensor with optional 0 dim batch size for input, but got:[1, 2, 3, 4]"),
    _error("max_pool1d", "empty", (2, 0, 5), (2,), {}, RuntimeError, "max_pool1d: Expected 2D or 3D (batch mode) "
           "tensor with optional 0 dim batch size for input, but got:[2, 0, 5]"),
    _error("max_pool1d", "k0", (2, 3, 5), (0,), {}, RuntimeError,
           "max_pool1d() kernel_size must be greater than zero, but got 0"),
    _error("max_pool1d", "s0", (2, 3, 5), (2, 0), {}, RuntimeError,
           "max_pool1d() stride must be greater than zero, but got 0"),
    _error("max_pool1d", "pad-neg", (2, 3, 5), (2, 1, -1), {}, RuntimeError,
           "max_pool1d() padding must be non-negative, but got -1"),
    _error("max_pool1d", "pad-half", (2, 3, 5), (2, 1, 2), {}, RuntimeError,
           "max_pool1d() padding should be at most half of kernel size, but got padding=2 and kernel_size=2"),
    _error("max_pool1d", "small", (2, 3, 5), (6,), {}, RuntimeError, "max_pool1d() Invalid computed output size: 0"),
    _error("max_pool1d", "kernel-tuple", (2, 3, 5), ((2, 2),), {}, RuntimeError,
           "max_pool1d() kernel_size must be an int, list of ints or tuple of ints of size 1 but got size 2"),
    _error("max_pool1d", "stride-tuple", (2, 3, 5), (2, (1, 1)), {}, RuntimeError,
           "max_pool1d() stride must be None, an int, list of ints, or tuple of ints of size 1 but got size 2"),
    ErrorInput(S("long", (2, 3, 5), dtypes=("int64",), kwargs={"call": lambda m, x: F(m).max_pool1d(x, 2)}),
               NotImplementedError, "\"max_pool1d_impl\" not implemented for 'Long'"),
    _error("max_pool1d", "indices-4d", (1, 2, 3, 4), (2,), {"return_indices": True}, RuntimeError,
           "Expected 2 to 3 dimensions, but got 4-dimensional tensor for argument #1 'self' (while checking "
           "arguments for max_pool1d)"),
    _error("max_pool1d", "indices-pad", (2, 3, 5), (2, 1, 2), {"return_indices": True}, RuntimeError,
           "pad should be at most half of effective kernel size, but got pad=2, kernel_size=2 and dilation=1"),
    _error("max_pool1d", "indices-k0", (2, 3, 5), (0,), {"return_indices": True}, RuntimeError,
           "stride should not be zero"),
    _error("max_pool1d", "indices-kernel-tuple", (2, 3, 5), ((2, 2),), {"return_indices": True}, RuntimeError,
           "max_pool1d() argument 'kernel_size' should contain one int (got 2)"),
]

_AVG1_CASES = [
    ("k2", (2, 3, 8), (2,), {}),
    ("k3-s2-pad1", (2, 3, 9), (3, 2, 1), {}),
    ("pad-exclude-ceil", (2, 3, 9), (3, 2, 1), {"ceil_mode": True, "count_include_pad": False}),
    ("unbatched", (3, 8), (3,), {"stride": 1}),
]

_AVG1_ERRORS = [
    _error("avg_pool1d", "4d", (1, 2, 3, 4), (2,), {}, RuntimeError, "Expected 2 to 3 dimensions, but got "
           "4-dimensional tensor for argument #1 'self' (while checking arguments for avg_pool1d)"),
    _error("avg_pool1d", "small", (2, 3, 5), (6,), {}, RuntimeError,
           "Given input size: (3x1x5). Calculated output size: (3x1x0). Output size is too small"),
    _error("avg_pool1d", "kernel-tuple", (2, 3, 5), ((2, 2),), {}, RuntimeError,
           "avg_pool1d() argument 'kernel_size' should contain one int (got 2)"),
]

_ADAPTIVE1_CASES = [("divisible", (2, 3, 8), 4), ("uneven", (2, 3, 9), 4), ("upsampling", (2, 2, 3), 5),
                    ("global", (2, 3, 7), 1), ("unbatched", (3, 7), (3,))]


def _adaptive_max1_samples(dtype):
    out = [S(name, shape, args=(size,)) for name, shape, size in _ADAPTIVE1_CASES]
    out.append(S("empty-out", (2, 3, 5), args=(0,), grad=False))  # torch's backward refuses empty outputs
    return out + [S(f"{name}-indices", shape, args=(size, True)) for name, shape, size in _ADAPTIVE1_CASES]


_ADAPTIVE1_ERRORS = [
    _error("adaptive_avg_pool1d", "4d", (1, 2, 3, 4), (2,), {}, RuntimeError, "Expected 2 to 3 dimensions, but got "
           "4-dimensional tensor for argument #1 'self' (while checking arguments for adaptive_avg_pool1d)"),
    _error("adaptive_avg_pool1d", "size-tuple", (2, 3, 5), ((2, 2),), {}, RuntimeError,
           "adaptive_avg_pool1d() argument 'output_size' should contain one int (got 2)"),
    ErrorInput(S("long", (2, 3, 5), dtypes=("int64",), kwargs={"call": lambda m, x: F(m).adaptive_max_pool1d(x, 2)}),
               NotImplementedError, "\"adaptive_max_pool2d\" not implemented for 'Long'"),
    _error("adaptive_max_pool2d", "size-length", (2, 3, 4, 4), ((2, 2, 2),), {}, RuntimeError,
           "adaptive_max_pool2d(): internal error: output_size.size() must be 2"),
    _error("adaptive_max_pool1d", "empty", (2, 3, 0), (2,), {}, RuntimeError, "adaptive_max_pool1d(): Expected input "
           "to have non-zero size for non-batch dimensions, but input has sizes [2, 3, 0] with dimension 2 being "
           "empty"),
]

_LP_CASES = [
    ("p2-k2", (2, 3, 8), (2.0, 2), {}),
    ("p3-k3-s2", (2, 3, 9), (3.0, 3, 2), {}),
    ("p1.5-ceil", (2, 2, 9), (1.5, 2), {"ceil_mode": True}),
    ("inf", (2, 3, 8), (float("inf"), 2), {}),
    ("-inf", (2, 3, 8), (-float("inf"), 3, 1), {}),
]


def _lp_samples(extra_dims):
    def samples(dtype):
        # positive inputs keep fractional powers real and away from the kink of |x|**p at zero
        return [S(name, (*shape[:-1], *extra_dims, shape[-1]), args=args, kwargs=kw, low=0.5, high=2)
                for name, shape, args, kw in _LP_CASES]

    return samples


_LP2_EXTRA = [S("tuple-kernel", (2, 3, 7, 8), args=(2.0, (3, 2), (2, 1)), low=0.5, high=2)]

# ----------------------------------------------------------------------------------------------
# interpolate
# ----------------------------------------------------------------------------------------------

_INTERP_CASES = [
    # (name, shape, kwargs)
    ("nearest-1d-x2", (2, 3, 5), {"scale_factor": 2}),
    ("nearest-1d-size", (2, 3, 7), {"size": 4}),
    ("nearest-2d-x2", (2, 3, 4, 5), {"scale_factor": 2}),
    ("nearest-2d-1.7", (2, 3, 5, 4), {"scale_factor": 1.7}),
    ("nearest-2d-down", (2, 3, 9, 7), {"size": (4, 3)}),
    ("nearest-2d-tuple-scale", (2, 3, 4, 5), {"scale_factor": (2.5, 0.6)}),
    ("nearest-3d", (1, 2, 3, 4, 2), {"scale_factor": 2}),
    ("nearest-exact-1d", (2, 3, 5), {"scale_factor": 1.6, "mode": "nearest-exact"}),
    ("nearest-exact-2d", (2, 3, 7, 5), {"size": (3, 8), "mode": "nearest-exact"}),
    ("linear", (2, 3, 5), {"scale_factor": 2, "mode": "linear"}),
    ("linear-align", (2, 3, 5), {"size": 8, "mode": "linear", "align_corners": True}),
    ("linear-down", (2, 3, 9), {"scale_factor": 0.4, "mode": "linear"}),
    ("bilinear-x2", (2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear"}),
    ("bilinear-align", (2, 3, 4, 5), {"scale_factor": 2, "mode": "bilinear", "align_corners": True}),
    ("bilinear-size", (2, 3, 6, 5), {"size": (4, 9), "mode": "bilinear"}),
    ("bilinear-recompute", (2, 3, 5, 4), {"scale_factor": 1.7, "mode": "bilinear", "recompute_scale_factor": True}),
    ("bilinear-1x1", (2, 3, 1, 1), {"size": (3, 2), "mode": "bilinear", "align_corners": True}),
    ("bicubic", (2, 3, 4, 5), {"scale_factor": 2, "mode": "bicubic"}),
    ("bicubic-align", (2, 3, 5, 4), {"size": (7, 9), "mode": "bicubic", "align_corners": True}),
    ("bicubic-down", (2, 3, 9, 8), {"size": (4, 3), "mode": "bicubic"}),
    ("trilinear", (1, 2, 3, 4, 2), {"scale_factor": 2, "mode": "trilinear"}),
    ("area-1d", (2, 3, 9), {"size": 4, "mode": "area"}),
    ("area-2d-scale", (2, 3, 8, 9), {"scale_factor": 0.5, "mode": "area"}),
    ("unchanged-size", (2, 3, 4, 5), {"size": (4, 5), "mode": "bilinear"}),
    ("bilinear-long-axis", (1, 2, 3, 70), {"scale_factor": 2, "mode": "bilinear"}),
    ("bicubic-antialias-long-axis", (1, 2, 67, 3), {"size": (30, 4), "mode": "bicubic", "antialias": True}),
    ("bilinear-antialias-down", (2, 3, 9, 8), {"size": (4, 3), "mode": "bilinear", "antialias": True}),
    ("bilinear-antialias-align", (2, 3, 8, 8), {"scale_factor": 0.3, "mode": "bilinear", "antialias": True,
                                                "align_corners": True}),
    ("bicubic-antialias-down", (2, 3, 9, 8), {"scale_factor": 0.5, "mode": "bicubic", "antialias": True}),
    ("bicubic-antialias-up", (2, 3, 3, 4), {"size": (5, 7), "mode": "bicubic", "antialias": True}),
]


def _interp_samples(dtype):
    return [S(name, shape, kwargs=kw) for name, shape, kw in _INTERP_CASES]


def _interp_error(name, shape, kw, exc, match):
    return _error("interpolate", name, shape, (), kw, exc, match)


_INTERP_ERRORS = [
    _interp_error("both", (2, 3, 4), {"size": 2, "scale_factor": 2}, ValueError,
                  "only one of size or scale_factor should be defined"),
    _interp_error("neither", (2, 3, 4), {}, ValueError, "either size or scale_factor should be defined"),
    _interp_error("nearest-align", (2, 3, 4), {"size": 2, "align_corners": True}, ValueError,
                  "align_corners option can only be set with the interpolating modes: linear | bilinear | bicubic | "
                  "trilinear"),
    _interp_error("size-length", (2, 3, 4, 4), {"size": (2, 2, 2)}, ValueError, "Input and output must have the same "
                  "number of spatial dimensions, but got input with spatial dimensions of [4, 4] and output size of "
                  "(2, 2, 2)."),
    _interp_error("scale-length", (2, 3, 4, 4), {"scale_factor": (2, 2, 2)}, ValueError, "Input and scale_factor must "
                  "have the same number of spatial dimensions, but got input with spatial dimensions of [4, 4] and "
                  "scale_factor of shape (2, 2, 2)."),
    _interp_error("bilinear-3d", (2, 3, 4), {"size": 2, "mode": "bilinear"}, NotImplementedError,
                  "Got 3D input, but bilinear mode needs 4D input"),
    _interp_error("linear-4d", (2, 3, 4, 4), {"size": 2, "mode": "linear"}, NotImplementedError,
                  "Got 4D input, but linear mode needs 3D input"),
    _interp_error("mode", (2, 3, 4), {"size": 2, "mode": "foo"}, NotImplementedError, "Input Error: Only 3D, 4D and "
                  "5D input Tensors supported (got 3D) for the modes: nearest | linear | bilinear | bicubic | "
                  "trilinear | lanczos | area | nearest-exact (got foo)"),
    _interp_error("2d-input", (2, 3), {"size": 2}, NotImplementedError, "Input Error: Only 3D, 4D and 5D input "
                  "Tensors supported (got 2D)"),
    _interp_error("zero-out", (2, 3, 4), {"scale_factor": 0.1, "mode": "linear"}, RuntimeError,
                  "Input and output sizes should be greater than 0, but got input (W: 4) and output (W: 0)"),
    _interp_error("recompute-size", (2, 3, 4), {"size": 2, "recompute_scale_factor": True}, ValueError,
                  "recompute_scale_factor is not meaningful with an explicit size."),
    _interp_error("antialias-nearest", (2, 3, 4, 4), {"size": 2, "antialias": True}, ValueError,
                  "Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D tensor "
                  "as input"),
]

# ----------------------------------------------------------------------------------------------
# pixel shuffle
# ----------------------------------------------------------------------------------------------

_SHUFFLE_ERRORS = [
    _error("pixel_shuffle", "2d", (4, 4), (2,), {}, RuntimeError, "pixel_shuffle expects input to have at least 3 "
           "dimensions, but got input with 2 dimension(s)"),
    _error("pixel_shuffle", "channels", (5, 4, 4), (2,), {}, RuntimeError, "pixel_shuffle expects its input's "
           "'channel' dimension to be divisible by the square of upscale_factor, but input.size(-3)=5 is not "
           "divisible by 4"),
    _error("pixel_shuffle", "factor", (4, 4, 4), (0,), {}, RuntimeError,
           "pixel_shuffle expects a positive upscale_factor, but got 0"),
    _error("pixel_unshuffle", "height", (4, 5, 4), (2,), {}, RuntimeError, "pixel_unshuffle expects height to be "
           "divisible by downscale_factor, but input.size(-2)=5 is not divisible by 2"),
    _error("pixel_unshuffle", "width", (4, 4, 5), (2,), {}, RuntimeError, "pixel_unshuffle expects width to be "
           "divisible by downscale_factor, but input.size(-1)=5 is not divisible by 2"),
    _error("pixel_unshuffle", "factor", (4, 4, 4), (-1,), {}, RuntimeError,
           "pixel_unshuffle expects a positive downscale_factor, but got -1"),
]

# ----------------------------------------------------------------------------------------------
# affine_grid, grid_sample
# ----------------------------------------------------------------------------------------------


def _grid_samples(dtype):
    """Grid values reach past [-1, 1] so that every padding mode has points outside the input."""
    out = []
    for mode in ("bilinear", "nearest"):
        for padding in ("zeros", "border", "reflection"):
            for align in (False, True):
                kw = {"mode": mode, "padding_mode": padding, "align_corners": align}
                out.append(S(f"{mode}-{padding}-align{int(align)}", (2, 3, 4, 5), (2, 3, 4, 2), kwargs=kw, low=-1.4,
                             high=1.4, grad=(True, mode == "bilinear")))
    for padding in ("zeros", "border", "reflection"):
        out.append(S(f"bicubic-{padding}", (2, 3, 4, 5), (2, 3, 4, 2), low=-1.4, high=1.4,
                     kwargs={"mode": "bicubic", "padding_mode": padding, "align_corners": padding == "border"}))
    for mode in ("bilinear", "nearest"):
        out.append(S(f"{mode}-5d", (2, 2, 3, 4, 3), (2, 2, 3, 2, 3), low=-1.3, high=1.3,
                     grad=(True, mode == "bilinear"),
                     kwargs={"mode": mode, "padding_mode": "reflection", "align_corners": False}))
    return [*out, S("one-row", (1, 2, 1, 4), (1, 2, 3, 2), kwargs={"align_corners": False}, low=-1.2, high=1.2)]


def _grid_error(name, shapes, kw, exc, match, dtypes=None):
    return ErrorInput(S(name, *shapes, dtypes=dtypes, kwargs={"call": lambda m, x, g: F(m).grid_sample(x, g, **kw)}),
                      exc, match)


_GRID_ERRORS = [
    _grid_error("batch", [(2, 3, 4, 4), (1, 3, 3, 2)], {"align_corners": False}, RuntimeError, "grid_sampler(): "
                "expected grid and input to have same batch size, but got input with sizes [2, 3, 4, 4] and grid "
                "with sizes [1, 3, 3, 2]"),
    _grid_error("last-dim", [(2, 3, 4, 4), (2, 3, 3, 3)], {"align_corners": False}, RuntimeError, "grid_sampler(): "
                "expected grid to have size 2 in last dimension, but got grid with sizes [2, 3, 3, 3]"),
    _grid_error("empty", [(2, 3, 0, 4), (2, 3, 3, 2)], {"align_corners": False}, RuntimeError, "grid_sampler(): "
                "expected input to have non-empty spatial dimensions, but input has sizes [2, 3, 0, 4] with "
                "dimension 2 being empty"),
    _grid_error("mode", [(2, 3, 4, 4), (2, 3, 3, 2)], {"mode": "foo"}, ValueError, "nn.functional.grid_sample(): "
                "expected mode to be 'bilinear', 'nearest' or 'bicubic', but got: 'foo'"),
    _grid_error("padding", [(2, 3, 4, 4), (2, 3, 3, 2)], {"padding_mode": "foo"}, ValueError,
                "nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or 'reflection', but "
                "got: 'foo'"),
    _grid_error("bicubic-5d", [(1, 2, 3, 3, 3), (1, 2, 2, 2, 3)], {"mode": "bicubic", "align_corners": False},
                RuntimeError, "grid_sampler(): bicubic interpolation only supports 4D input"),
    _grid_error("dtype", [(2, 3, 4, 4), (2, 3, 3, 2)], {"align_corners": False}, RuntimeError,
                "expected scalar type Float but found Double", dtypes=("float32", "float64")),
]


def _affine(m, theta, size, align_corners):
    return F(m).affine_grid(theta, size, align_corners=align_corners)


def _affine_samples(dtype):
    return [S(f"{'x'.join(map(str, size))}-align{int(align)}", (size[0], len(size) - 2, len(size) - 1),
              args=(size, align))
            for size in ([2, 3, 4, 5], [1, 1, 3, 2], [2, 1, 2, 3, 4]) for align in (False, True)]


_AFFINE_ERRORS = [
    call_error("theta-shape", lambda m, t: _affine(m, t, [2, 3, 4, 4], False), [(2, 2, 2)], ValueError,
               "Expected a batch of 2D affine matrices of shape Nx2x3 for size [2, 3, 4, 4]. Got torch.Size([2, 2, "
               "2])."),
    call_error("size-length", lambda m, t: _affine(m, t, [2, 3, 4], False), [(2, 2, 3)], NotImplementedError,
               "affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, respectively. Got size "
               "[2, 3, 4]."),
    call_error("zero-size", lambda m, t: _affine(m, t, [2, 3, 0, 4], False), [(2, 2, 3)], ValueError,
               "Expected non-zero, positive output size. Got [2, 3, 0, 4]"),
]

RESAMPLE = [
    OpInfo("max_pool1d", _fn("max_pool1d"), _max1_samples, error_inputs=lambda: _MAX1_ERRORS, supports_gradgrad=True),
    OpInfo("avg_pool1d", _fn("avg_pool1d"), lambda dtype: [S(n, s, args=a, kwargs=k) for n, s, a, k in _AVG1_CASES],
           error_inputs=lambda: _AVG1_ERRORS, supports_gradgrad=True),
    OpInfo("adaptive_avg_pool1d", _fn("adaptive_avg_pool1d"),
           lambda dtype: [S(name, shape, args=(size,)) for name, shape, size in _ADAPTIVE1_CASES],
           error_inputs=lambda: _ADAPTIVE1_ERRORS, supports_gradgrad=True),
    OpInfo("adaptive_max_pool1d", _fn("adaptive_max_pool1d"), _adaptive_max1_samples, supports_gradgrad=True),
    OpInfo("lp_pool1d", _fn("lp_pool1d"), _lp_samples(()), supports_gradgrad=True),
    OpInfo("lp_pool2d", _fn("lp_pool2d"), lambda dtype: [*_lp_samples((6,))(dtype), *_LP2_EXTRA],
           supports_gradgrad=True),
    OpInfo("interpolate", _fn("interpolate"), _interp_samples, error_inputs=lambda: _INTERP_ERRORS,
           supports_gradgrad=True),
    OpInfo("pixel_shuffle", _fn("pixel_shuffle"),
           lambda dtype: [S("r2", (2, 8, 3, 4), args=(2,)), S("r3-unbatched", (9, 2, 3), args=(3,)),
                          S("5d", (2, 2, 4, 2, 3), args=(2,))],
           error_inputs=lambda: _SHUFFLE_ERRORS, supports_gradgrad=True),
    OpInfo("pixel_unshuffle", _fn("pixel_unshuffle"),
           lambda dtype: [S("r2", (2, 3, 4, 6), args=(2,)), S("r3-unbatched", (2, 6, 3), args=(3,))],
           supports_gradgrad=True),
    OpInfo("grid_sample", _fn("grid_sample"), _grid_samples, error_inputs=lambda: _GRID_ERRORS),
    OpInfo("affine_grid", with_call_errors(_affine), _affine_samples, error_inputs=lambda: _AFFINE_ERRORS,
           supports_gradgrad=True),
]

__all__ = ["RESAMPLE"]
