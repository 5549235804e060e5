"""Op table entries: the normalisations composed of other ops (engine/ops/norm_composite.py): instance_norm,
local_response_norm, rms_norm, called through ``F(m)``: the engine's functions or ``torch.nn.functional``.
(batch_norm, layer_norm and group_norm sit with the losses in loss.py.)"""

from __future__ import annotations

import numpy as np

import engine
from engine.ops import norm_composite

from .core import OpInfo, S, call_error, with_call_errors


def F(m):
    """The engine's composed normalisations or ``torch.nn.functional``."""
    return norm_composite if m is engine else m.nn.functional

_TOL = {"float32": (5e-5, 1e-4)}


def _instance_norm(m, x, *tensors, stats=False, affine=False, **kw):
    """``instance_norm`` with the running statistics (when ``stats``) and then the weight and bias (when
    ``affine``) taken from ``tensors``."""
    rm, rv = tensors[:2] if stats else (None, None)
    w, b = tensors[-2:] if affine else (None, None)
    return F(m).instance_norm(x, rm, rv, w, b, **kw)


def _instance_samples(dtype):
    rng = np.random.default_rng(3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)
    out = []
    for shape in [(2, 3, 5), (2, 3, 4, 3)]:
        out.append(S(f"{shape}", shape, kwargs={"eps": 1e-4}))
        out.append(S(f"{shape},affine", shape, (3,), (3,), kwargs={"affine": True}))
        kw = {"stats": True, "affine": True, "momentum": 0.3}
        out.append(S(f"{shape},stats", shape, rm, rv, (3,), (3,), kwargs=kw, grad=(True, False, False, True, True)))
        out.append(S(f"{shape},eval", shape, rm, rv, kwargs={"stats": True, "use_input_stats": False},
                     grad=(True, False, False)))
    return out


_INSTANCE_ERRORS = [
    call_error("one spatial element", lambda m, x: F(m).instance_norm(x), [(2, 3, 1)], ValueError,
               "Expected more than 1 spatial element when training, got input size torch.Size([2, 3, 1])"),
    call_error("eval without stats", lambda m, x: F(m).instance_norm(x, use_input_stats=False), [(2, 3, 4)],
               RuntimeError, "Expected running_mean and running_var to be defined when use_input_stats is false"),
    call_error("weight size", lambda m, x: F(m).instance_norm(x, weight=m.ones(4)), [(2, 3, 4)], RuntimeError,
               "weight should contain 6 elements not 8"),
]


def _lrn_samples(dtype):
    return [
        S("(N,C,L),size=3", (2, 5, 4), args=(3,)),
        S("(N,C,H,W),options", (2, 6, 3, 2), args=(2,), kwargs={"alpha": 0.5, "beta": 0.6, "k": 2.0}),
        S("size=1", (2, 3, 4), args=(1,), kwargs={"alpha": 0.3}),
        S("window wider than channels", (2, 3, 2, 2), args=(7,), kwargs={"alpha": 0.2}),
        S("5d", (1, 4, 2, 2, 2), args=(3,), kwargs={"alpha": 0.4, "beta": 1.0}),
    ]


_LRN_ERRORS = [
    call_error("2d", lambda m, x: F(m).local_response_norm(x, 2), [(2, 3)], ValueError,
               "Expected 3D or higher dimensionality                          input (got 2 dimensions)"),
    call_error("size 0 in 4d", lambda m, x: F(m).local_response_norm(x, 0), [(2, 3, 4, 5)], RuntimeError,
               "kernel size should be greater than zero, but got kT: 0 kH: 1 kW: 1"),
    call_error("size 0 in 3d", lambda m, x: F(m).local_response_norm(x, 0), [(2, 3, 4)], RuntimeError,
               "kernel size should be greater than zero, but got kH: 0 kW: 1"),
]


def _rms(m, x, *w, normalized_shape, **kw):
    return F(m).rms_norm(x, normalized_shape, *w, **kw)


def _rms_samples(dtype):
    return [
        S("last dim", (4, 3, 5), kwargs={"normalized_shape": (5,)}),
        S("two dims,weight", (4, 3, 5), (3, 5), kwargs={"normalized_shape": (3, 5)}),
        S("eps", (6, 4), (4,), kwargs={"normalized_shape": (4,), "eps": 1e-3}),
        S("whole input", (3, 2), kwargs={"normalized_shape": [3, 2]}),
    ]


_RMS_ERRORS = [
    call_error("float size", lambda m, x: F(m).rms_norm(x, (4.0,)), [(3, 4)], TypeError,
               "rms_norm(): argument 'normalized_shape' (position 2) must be tuple of ints, but found element of "
               "type float at pos 0"),
    call_error("empty shape", lambda m, x: F(m).rms_norm(x, []), [(3, 4)], RuntimeError,
               "Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one element, but "
               "got normalized_shape = []"),
    call_error("shape", lambda m, x: F(m).rms_norm(x, (3, 4)), [(3, 5)], RuntimeError,
               "Given normalized_shape=[3, 4], expected input with shape [*3, 4], but got input of size[3, 5]"),
    call_error("weight", lambda m, x: F(m).rms_norm(x, (4,), m.ones(3)), [(3, 4)], RuntimeError,
               "Expected weight to be of same shape as normalized_shape, but got weight of shape [3] and "
               "normalized_shape = [4]"),
]

NORM_LAYERS = [
    OpInfo("instance_norm", with_call_errors(_instance_norm), _instance_samples, error_inputs=lambda: _INSTANCE_ERRORS,
           tolerances=_TOL, supports_gradgrad=True),
    OpInfo("local_response_norm", with_call_errors(lambda m, x, *args, **kw: F(m).local_response_norm(x, *args, **kw)),
           _lrn_samples, error_inputs=lambda: _LRN_ERRORS, tolerances=_TOL, supports_gradgrad=True),
    OpInfo("rms_norm", with_call_errors(_rms), _rms_samples, error_inputs=lambda: _RMS_ERRORS, tolerances=_TOL,
           supports_gradgrad=True),
]

__all__ = ["NORM_LAYERS"]
