"""Op table entries: the activations added for issue 16 (prelu, threshold, softsign, tanhshrink, softmin, glu in
engine/ops/activation.py) and alpha dropout (engine/ops/dropout.py), called through ``m.nn.functional``."""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, DType, OpInfo, S, call_error, is_float, with_call_errors

_KINKS = np.array([-1e4, -30.0, -1.5, -1.0, -0.5, -1e-8, 0.0, 1e-8, 0.5, 1.0, 1.5, 30.0, 1e4])


def _fn(name):
    return with_call_errors(lambda m, *a, **kw: getattr(m.nn.functional, name)(*a, **kw))


def _unary(name, options, errors=(), **info):
    """An elementwise activation: random inputs for each option set, and the kinks and extremes for floats."""

    def samples(dtype):
        out = [S(f"{kw}", (6, 7), kwargs=kw, low=-5, high=5) for kw in options]
        if is_float(dtype):
            out += [S(f"extremes{kw}", _KINKS, kwargs=kw, gradcheck=False) for kw in options]
        return out

    return OpInfo(name, _fn(name), samples, error_inputs=lambda: errors, **info)


def _inplace_threshold(m, x, threshold, value):
    y = x * 1
    out = m.nn.functional.threshold(y, threshold, value, inplace=True)
    assert out is y
    return out


def _threshold_samples(dtype):
    if not is_float(dtype):
        return [S("int", np.arange(-3, 4), args=(1, 9), grad=False)]
    return [
        S("0.5,-2", (6, 7), args=(0.5, -2.0), low=-3, high=3),
        S("-1,0", (5,), args=(-1.0, 0.0)),
        S("at threshold", np.array([-1.0, 0.5, 0.5000001, 2.0]), args=(0.5, 3.0), gradcheck=False),
    ]


def _prelu_samples(dtype):
    rng = np.random.default_rng(3)
    return [
        S("(N,C) per channel", (4, 3), rng.uniform(0.05, 0.5, 3), low=-3, high=3),
        S("(N,C,H,W) per channel", (2, 3, 4, 4), rng.uniform(0.05, 0.5, 3), low=-3, high=3),
        S("(N,C,L) shared", (2, 3, 5), np.array([0.25]), low=-3, high=3),
        S("1-d shared", (6,), np.array([0.1]), low=-3, high=3),
        S("0-d", np.array(-1.5), np.array([0.3])),
        S("weight only", (2, 3), rng.uniform(0.05, 0.5, 3), grad=(False, True), low=-3, high=3),
        S("empty batch", (0, 3, 2), rng.uniform(0.05, 0.5, 3)),
        S("(N,C,D,H,W) wide", (3, 4, 2, 3, 5), rng.uniform(0.05, 0.5, 4), low=-3, high=3),
    ]


def _softmin_samples(dtype):
    return [
        S("dim=1", (4, 5), kwargs={"dim": 1}),
        S("dim=-1,3d", (2, 3, 4), kwargs={"dim": -1}),
        S("dim=0", (5,), kwargs={"dim": 0}),
        S("float64 out", (3, 4), kwargs={"dim": 1, "dtype": DType("float64")}),
    ]


def _glu_samples(dtype):
    return [
        S("last", (3, 6)),
        S("dim=1", (2, 4, 3), kwargs={"dim": 1}),
        S("dim=0", (4,), kwargs={"dim": 0}),
    ]


def _alpha_dropout_samples(dtype):
    shape = (2, 3, 4)
    return [
        S("p=0", shape, args=(0.0, True)),
        S("p=1", shape, args=(1.0, True), gradcheck=False),
        S("eval", shape, args=(0.5,)),
        S("eval, training=False", shape, kwargs={"p": 0.3, "training": False}),
    ]


ACTIVATION_EXTRA = [
    _unary(
        "hardshrink",
        [{}, {"lambd": 1.5}],
        [call_error("int", lambda m, x: m.nn.functional.hardshrink(x.long()), [(3,)], NotImplementedError,
                    "\"hardshrink_cpu\" not implemented for 'Long'")],
        supports_gradgrad=True,
    ),
    _unary(
        "softshrink",
        [{}, {"lambd": 1.0}],
        [call_error("lambda", lambda m, x: m.nn.functional.softshrink(x, -0.5), [(3,)], RuntimeError,
                    "lambda must be in range [0, 3.40282e+38] for input dtype Float, but found -0.5")],
        supports_gradgrad=True,
    ),
    _unary("softsign", [{}], dtypes=FLOATS_AND_INT, supports_gradgrad=True),
    _unary("tanhshrink", [{}], dtypes=FLOATS_AND_INT, supports_gradgrad=True),
    OpInfo(
        "threshold",
        _fn("threshold"),
        _threshold_samples,
        variants={"inplace": _inplace_threshold},
        dtypes=("float32", "float64", "int64"),
        supports_gradgrad=True,
    ),
    OpInfo(
        "prelu",
        _fn("prelu"),
        _prelu_samples,
        error_inputs=lambda: [
            call_error(
                "channels",
                lambda m, x: m.nn.functional.prelu(x, m.ones(2)),
                [(4, 3)],
                RuntimeError,
                "Mismatch of parameter numbers and input channel size. Found parameter numbers = 2 and channel "
                "size = 3.",
            ),
            call_error(
                "1-d channels",
                lambda m, x: m.nn.functional.prelu(x, m.ones(3)),
                [(4,)],
                RuntimeError,
                "Found parameter numbers = 3 and channel size = 1.",
            ),
            call_error(
                "weight ndim",
                lambda m, x: m.nn.functional.prelu(x, m.ones(1, 3)),
                [(4, 3)],
                RuntimeError,
                "prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = 2",
            ),
        ],
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
    _unary(
        "rrelu",
        [{}, {"lower": 0.2, "upper": 0.6}],
        [
            call_error("bounds", lambda m, x: m.nn.functional.rrelu(x, 0.5, 0.1), [(3,)], RuntimeError,
                       "Lower bound should be less than or equal to the upper bound"),
            call_error("int", lambda m, x: m.nn.functional.rrelu(x.long(), training=True), [(3,)],
                       NotImplementedError, "\"rrelu_with_noise_out_cpu\" not implemented for 'Long'"),
        ],
        supports_gradgrad=True,
    ),
    OpInfo("softmin", _fn("softmin"), _softmin_samples, supports_gradgrad=True),
    OpInfo(
        "glu",
        _fn("glu"),
        _glu_samples,
        error_inputs=lambda: [
            call_error(
                "odd",
                lambda m, x: m.nn.functional.glu(x, 1),
                [(4, 3)],
                RuntimeError,
                "Halving dimension must be even, but dimension 1 is size 3",
            ),
            call_error(
                "int",
                lambda m, x: m.nn.functional.glu(x.long()),
                [(4, 2)],
                NotImplementedError,
                "\"glu_cpu\" not implemented for 'Long'",
            ),
            call_error(
                "scalar",
                lambda m, x: m.nn.functional.glu(x),
                [np.array(1.0)],
                RuntimeError,
                "glu does not support scalars because halving size must be even",
            ),
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "alpha_dropout",
        _fn("alpha_dropout"),
        _alpha_dropout_samples,
        error_inputs=lambda: [
            call_error(
                "p",
                lambda m, x: m.nn.functional.alpha_dropout(x, 1.5, True),
                [(3,)],
                ValueError,
                "dropout probability has to be between 0 and 1, but got 1.5",
            ),
        ],
        supports_gradgrad=True,
    ),
    OpInfo(
        "feature_alpha_dropout",
        _fn("feature_alpha_dropout"),
        _alpha_dropout_samples,
        supports_gradgrad=True,
    ),
]

__all__ = ["ACTIVATION_EXTRA"]
