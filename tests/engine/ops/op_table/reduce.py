"""Op table entries: reduce family."""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, DType, ErrorInput, OpInfo, S, is_float
from .elementwise import _EXTREME

# ----------------------------------------------------------------------------------------------
# reductions (engine/ops/reduce.py) and softmax (engine/ops/softmax.py)
# ----------------------------------------------------------------------------------------------

R = (3, 4, 5)
DIMS = [
    {},
    {"dim": None},
    {"dim": 1},
    {"dim": 0},
    {"dim": -1},
    {"dim": (0, 2)},
    {"dim": (-1, 0)},
    {"dim": [1]},
    {"dim": 1, "keepdim": True},
    {"dim": (0, 2), "keepdim": True},
    {"dim": -2, "keepdim": False},
]
_TIES = np.array([[1.0, 3.0, 3.0, -1.0], [2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, -4.0]])
_NAN2 = np.array([[1.0, np.nan, -2.0], [0.5, 3.0, -1.0]])
_ZEROS = np.array([[1.5, 0.0, 2.0, -1.0], [0.0, 0.0, 3.0, 0.5], [2.0, -0.5, 1.0, 1.5]])


def _name(args, kwargs):
    return ",".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())]) or "()"


def _reduce_samples(calls, *, shape=R, floats=(), own_dtypes=(), empty=(), zero_d=(), **options):
    """``calls``: (args, kwargs) pairs on ``shape``; the rest are whole samples for some dtypes."""

    def samples(dtype):
        out = [S(_name(a, k), shape, args=a, kwargs=k, **options) for a, k in calls]
        out += [S(f"0d,{_name(a, k)}", (), args=a, kwargs=k, **options) for a, k in zero_d]
        out += [S(f"empty,{_name(a, k)}", (0, 3), args=a, kwargs=k) for a, k in empty]
        if is_float(dtype):
            out += floats
        if dtype == "float32":
            out += own_dtypes
        return out

    return samples


def _int_reduce(name, in_dtype, args=(), kwargs=None):
    kwargs = kwargs or {}
    return S(f"{in_dtype},{_name(args, kwargs)}", (3, 4), args=args, kwargs=kwargs, dtypes=(in_dtype,), low=0, high=3)


def _method(name):
    return lambda m, x, *args, **kw: getattr(x, name)(*args, **kw)


def _function(name):
    return lambda m, x, *args, **kw: getattr(m, name)(x, *args, **kw)


def _reduction(name, samples, **options):
    """Reductions are called as methods (``x.sum(dim=1)``); the function form is the variant."""
    return OpInfo(name, _method(name), samples, variants={"function": _function(name)}, **options)


_DIM_OUT_OF_RANGE = [ErrorInput(S("dim out of range", (2, 3), args=(3,)), IndexError, "Dimension out of range")]
_NAN_SAMPLE = S("nan,1", _NAN2, args=(1,), gradcheck=False)

REDUCE = [
    _reduction(
        "sum",
        _reduce_samples(
            [((), k) for k in DIMS] + [((1, True), {}), ((), {"dtype": DType("float64")})],
            zero_d=[((), {}), ((), {"dim": 0}), ((), {"dim": -1, "keepdim": True})],
            empty=[((), {}), ((0,), {})],
            floats=[S("40x50", (40, 50), atol=1e-3), _NAN_SAMPLE],
            own_dtypes=[
                _int_reduce("sum", "int32"),
                _int_reduce("sum", "int32", (1,)),
                _int_reduce("sum", "uint8"),
                _int_reduce("sum", "bool"),
                _int_reduce("sum", "bool", kwargs={"dim": 0}),
                _int_reduce("sum", "int64", kwargs={"dtype": DType("float32")}),
            ],
        ),
        error_inputs=lambda: _DIM_OUT_OF_RANGE,
        dtypes=FLOATS_AND_INT,
    ),
    _reduction(
        "mean",
        _reduce_samples(
            [((), k) for k in DIMS],
            zero_d=[((), {}), ((), {"dim": 0}), ((), {"dim": -1, "keepdim": True})],
            floats=[S("200x3,0", (200, 3), args=(0,)), S("empty,0", (0, 3), args=(0,), gradcheck=False)],
        ),
        error_inputs=lambda: [
            ErrorInput(S("int64", (3,), dtypes=("int64",)), RuntimeError, "mean(): could not infer output dtype")
        ],
    ),
    *(
        _reduction(
            name,
            _reduce_samples(
                [((), k) for k in DIMS],
                zero_d=[((), {}), ((), {"dim": 0}), ((), {"dim": -1, "keepdim": True})],
                floats=[
                    S("ties", _TIES, gradcheck=False),
                    S("ties,1", _TIES, args=(1,), gradcheck=False),
                    S("ties,dim=1,keepdim", _TIES, kwargs={"dim": 1, "keepdim": True}, gradcheck=False),
                    S("ties,(0,1)", _TIES, args=((0, 1),), gradcheck=False),
                    _NAN_SAMPLE,
                ],
                own_dtypes=[_int_reduce(name, "int32", (1,))],
            ),
            error_inputs=lambda: [
                ErrorInput(S("dim out of range", (2, 3), args=(-3,)), IndexError, "Dimension out of range"),
                ErrorInput(S("empty", (0, 3), args=(0,)), IndexError, "Expected reduction dim 0 to have non-zero size"),
            ],
            dtypes=FLOATS_AND_INT,
            supports_gradgrad=True,
        )
        for name in ("amax", "amin")
    ),
    _reduction(
        "prod",
        _reduce_samples(
            [((), {}), ((), {"dim": 1}), ((), {"dim": -1, "keepdim": True}), ((), {"dim": 0})],
            shape=(3, 4),
            zero_d=[((), {}), ((), {"dim": 0}), ((), {"dim": -1, "keepdim": True})],
            empty=[((1,), {})],
            floats=[
                S("zeros", _ZEROS),
                S("zeros,dim=1", _ZEROS, kwargs={"dim": 1}),
                S("zeros,dim=-1,keepdim", _ZEROS, kwargs={"dim": -1, "keepdim": True}),
                S("zeros,dim=0", _ZEROS, kwargs={"dim": 0}),
            ],
            own_dtypes=[_int_reduce("prod", "int32", (1,))],
            low=0.5,
            high=1.5,
        ),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
]

VAR_CALLS = [
    ((), {}),
    ((), {"dim": 1}),
    ((), {"dim": -1, "keepdim": True}),
    ((), {"dim": (0, 2)}),
    ((), {"unbiased": False}),
    ((), {"dim": 1, "unbiased": False}),
    ((), {"dim": 1, "unbiased": True}),
    ((), {"dim": 1, "correction": 0}),
    ((), {"dim": 1, "correction": 2}),
    ((), {"correction": 1}),
    ((), {"dim": (0, 2), "correction": 0, "keepdim": True}),
    ((1,), {}),
    ((), {"dim": 0, "unbiased": False, "keepdim": True}),
]
REDUCE += [
    _reduction(name, _reduce_samples(VAR_CALLS, zero_d=[((), {"unbiased": False})]), supports_gradgrad=True)
    for name in ("var", "std")
]

MAX_CALLS = [
    ((), {}),
    ((1,), {}),
    ((), {"dim": -1}),
    ((), {"dim": 0, "keepdim": True}),
    ((), {"dim": -2, "keepdim": True}),
    ((), {"dim": 2}),
]
REDUCE += [
    _reduction(
        name,
        lambda dtype, name=name: [
            *_reduce_samples(
                MAX_CALLS,
                floats=[S("ties", _TIES, gradcheck=False), _NAN_SAMPLE, S("nan", _NAN2, gradcheck=False)],
                own_dtypes=[_int_reduce(name, "int32")],
            )(dtype),
            S("binary", (3, 4), (3, 4)),
        ],
        error_inputs=lambda: [ErrorInput(S("empty", (0, 3)), RuntimeError, "numel() == 0")],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    )
    for name in ("max", "min")
]
ARG_CALLS = [((), {}), ((1,), {}), ((), {"dim": -1}), ((), {"dim": 0}), ((), {"dim": 1, "keepdim": True}), ((2,), {})]
REDUCE += [
    _reduction(
        name,
        _reduce_samples(
            ARG_CALLS,
            floats=[S("ties,1", _TIES, args=(1,)), S("nan,1", _NAN2, args=(1,))],
            own_dtypes=[_int_reduce(name, "int32")],
        ),
        supports_grad=False,
        dtypes=FLOATS_AND_INT,
    )
    for name in ("argmax", "argmin")
]
REDUCE.append(
    _reduction(
        "norm",
        _reduce_samples(
            [
                ((), {}),
                ((), {"p": 1}),
                ((), {"p": 2}),
                ((1,), {}),
                ((), {"dim": 1}),
                ((), {"p": 1, "dim": 0}),
                ((), {"dim": -1, "keepdim": True}),
                ((), {"p": 3, "dim": 1}),
                ((2, (0, 1)), {}),
            ],
            shape=(4, 5),
            floats=[
                S("zeros", np.zeros((2, 3)), gradcheck=False),
                S("zero row,dim=1", np.array([[0.0, 0.0], [3.0, 4.0]]), kwargs={"dim": 1}, gradcheck=False),
            ],
        ),
        supports_gradgrad=True,
    )
)


def _large_logits():
    rng = np.random.default_rng(0)
    return rng.choice(np.array([-1e4, 1e4]), size=R) + rng.uniform(-3, 3, size=R)


def _softmax_samples(calls):
    return _reduce_samples(
        calls,
        floats=[
            *(
                S(f"large logits,{_name(a, k)}", _large_logits(), args=a, kwargs=k, gradcheck=False, atol=1e-3)
                for a, k in calls
            ),
            S("all -1e4", np.full((2, 4), -1e4), args=(1,), gradcheck=False, atol=1e-3),
            S("extremes", _EXTREME, args=(0,), gradcheck=False),
            S("huge rows", np.array([[1e4, 1e4 - 1.0], [-1e4, -1e4 + 2.0]]), args=(1,), gradcheck=False),
            _NAN_SAMPLE,
        ],
    )


SOFTMAX_CALLS = [((0,), {}), ((), {"dim": 1}), ((), {"dim": -1})]
_INT_SOFTMAX = [ErrorInput(S("int64", (3,), dtypes=("int64",), args=(0,)), RuntimeError, "not implemented for 'Long'")]
SOFTMAX = [
    OpInfo(
        name,
        _function(name),
        lambda dtype, name=name: [
            *_softmax_samples(SOFTMAX_CALLS)(dtype),
            S("dim=1,dtype=float64", R, kwargs={"dim": 1, "dtype": DType("float64")}),
        ],
        variants={"method": _method(name)},
        error_inputs=lambda: _INT_SOFTMAX,
        supports_gradgrad=True,
    )
    for name in ("softmax", "log_softmax")
]
REDUCE.append(
    OpInfo(
        "logsumexp",
        _function("logsumexp"),
        _softmax_samples([((0,), {}), ((), {"dim": 1}), ((-1,), {"keepdim": True}), (((0, 2),), {})]),
        variants={"method": _method("logsumexp")},
        supports_gradgrad=True,
    )
)
