"""Op table entries: elementwise family."""

from __future__ import annotations

import numpy as np

from engine import threads

from .core import FLOATS, FLOATS_AND_INT, ErrorInput, OpInfo, S, _a, is_float

# ----------------------------------------------------------------------------------------------
# elementwise (engine/ops/elementwise.py)
# ----------------------------------------------------------------------------------------------

BROADCAST = [
    S("same", (3, 4), (3, 4)),
    S("(3,4)&(4,)", (3, 4), (4,)),
    S("(4,)&(3,4)", (4,), (3, 4)),
    S("(2,1,4)&(3,1)", (2, 1, 4), (3, 1)),
    S("0d&(5,)", (), (5,)),
    S("(5,)&0d", (5,), ()),
    S("0d&0d", (), ()),
    S("empty", (0, 3), (3,)),
]

_NAN = _a(1.0, np.nan, -2.0, 3.0)


def _binary_samples(*, positive=False, scalars=(), specials=(), promotions=()):
    def samples(dtype):
        out = [
            S(s.name, *s.inputs, positive=positive, low=0 if positive and not is_float(dtype) else -2)
            for s in BROADCAST
        ]
        # integers to negative integer powers raise (an error input of pow)
        scalars_here = [v for v in scalars if is_float(dtype) or not (isinstance(v, int) and v < 0)]
        out += [S(f"x,{v!r}", (3, 4), args=(v,), positive=positive) for v in scalars_here]
        out += [S(f"0d,{v!r}", (), args=(v,), positive=positive) for v in scalars[:1]]
        if is_float(dtype):
            out += specials
        if dtype == "float32":
            out += promotions
        return out

    return samples


def _promote(name, dtypes, shapes=None, args=()):
    shapes = shapes or [(3,)] * len(dtypes)
    return S(name, *shapes, dtypes=tuple(dtypes), args=args, positive=True, grad=False, atol=1e-3, rtol=1e-3)


def _broadcast_error(fn_shapes, match="must match the size of tensor"):
    return ErrorInput(S("broadcast", *fn_shapes), RuntimeError, match)


ELEMENTWISE = [
    OpInfo(
        "add",
        lambda m, a, b, **kw: m.add(a, b, **kw),
        _binary_samples(
            scalars=(2, 2.5),
            specials=[
                S("alpha=2", (3, 4), (4,), kwargs={"alpha": 2}),
                S("alpha=-0.5", (3, 4), (4,), kwargs={"alpha": -0.5}),
            ],
            promotions=[
                _promote("int64+2.5", ["int64"], args=(2.5,)),
                _promote("int32+2", ["int32"], args=(2,)),
                _promote("int32+True", ["int32"], args=(True,)),
                _promote("float32+float64", ["float32", "float64"]),
                _promote("float32+0d float64", ["float32", "float64"], [(3,), ()]),
                _promote("int64+0d float64", ["int64", "float64"], [(3,), ()]),
                _promote("int32+0d int64", ["int32", "int64"], [(3,), ()]),
                _promote("0d int32+0d int64", ["int32", "int64"], [(), ()]),
                _promote("float16+float32", ["float16", "float32"]),
                _promote("float16+0d float32", ["float16", "float32"], [(3,), ()]),
                _promote("uint8+int8", ["uint8", "int8"]),
                _promote("bool+1", ["bool"], args=(1,)),
                _promote("bool+int32", ["bool", "int32"]),
                S("float32*float64 grads", (3, 4), (4,), dtypes=("float32", "float64")),
                S("float32*0d float64 grads", (3, 4), (), dtypes=("float32", "float64")),
            ],
        ),
        variants={"method": lambda m, a, b, **kw: a.add(b, **kw), "operator": lambda m, a, b: a + b},
        ref=lambda a, b, alpha=1: a + alpha * b,
        supports_gradgrad=True,
        error_inputs=lambda: [
            _broadcast_error(
                [(3, 4), (3,)],
                "The size of tensor a (4) must match the size of tensor b (3) at non-singleton dimension 1",
            ),
            ErrorInput(
                S("float alpha, int tensors", (3,), (3,), dtypes=("int64", "int64"), kwargs={"alpha": 0.5}),
                RuntimeError,
                "alpha",
            ),
        ],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "sub",
        lambda m, a, b, **kw: m.sub(a, b, **kw),
        _binary_samples(
            scalars=(2,),
            specials=[S("alpha=3", (3, 4), (4,), kwargs={"alpha": 3}), S("alpha=2", (3, 4), (4,), kwargs={"alpha": 2})],
            promotions=[_promote("int64-float32", ["int64", "float32"])],
        ),
        variants={"method": lambda m, a, b, **kw: a.sub(b, **kw), "operator": lambda m, a, b: a - b},
        ref=lambda a, b, alpha=1: a - alpha * b,
        error_inputs=lambda: [
            ErrorInput(
                S("bool-bool", (3,), (3,), dtypes=("bool", "bool")),
                RuntimeError,
                "Subtraction, the `-` operator, with two bool tensors is not supported",
            )
        ],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "mul",
        lambda m, a, b: m.mul(a, b),
        _binary_samples(
            scalars=(3, -0.5),
            promotions=[
                _promote("int64*2", ["int64"], args=(2,)),
                _promote("float16*2.5", ["float16"], args=(2.5,)),
                _promote("bool*1.5", ["bool"], args=(1.5,)),
            ],
        ),
        variants={"method": lambda m, a, b: a.mul(b), "operator": lambda m, a, b: a * b},
        ref=np.multiply,
        supports_gradgrad=True,
        error_inputs=lambda: [_broadcast_error([(2, 3), (2, 1, 2)], "must match the size of tensor b")],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "div",
        lambda m, a, b: m.div(a, b),
        _binary_samples(
            positive=True,
            scalars=(2,),
            specials=[
                S("negative numerator", (3, 4), _a(0.5, -1.5, 2.0, -0.75)),
                S("by zero", _a(1.0, 0.0, -1.0), _a(0.0, 0.0, 0.0), gradcheck=False),
                S("x/0", _a(1.0, -1.0, 0.0), args=(0,), grad=False),
            ],
            promotions=[
                _promote("int64/int64", ["int64", "int64"]),
                _promote("int64/2", ["int64"], args=(2,)),
            ],
        ),
        variants={"method": lambda m, a, b: a.div(b), "operator": lambda m, a, b: a / b},
        ref=np.divide,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "pow",
        lambda m, a, b: m.pow(a, b),
        _binary_samples(
            positive=True,
            scalars=(2, 3, 0.5, -1, -1.5, 0, 1, 2.5),
            specials=[
                S("negative base, integer exponent", (3, 4), _a(2.0, 3.0, 1.0, 0.0), grad=(True, False)),
                S("0**b", _a(0.0, 0.0, 1.0), _a(2.0, 0.0, 0.5), gradcheck=False),
                S("x**0.5 at 0", _a(0.0, 1.0), args=(0.5,), gradcheck=False),
                S("x**2 at 0", _a(0.0, 1.0), args=(2,), gradcheck=False),
                S("x**0 at 0", _a(0.0, 1.0), args=(0,), gradcheck=False),
                S("x**-1 at 0", _a(0.0, 2.0), args=(-1,), grad=False),
            ],
            promotions=[
                _promote("int64**2", ["int64"], args=(2,)),
                _promote("int64**0.5", ["int64"], args=(0.5,)),
            ],
        ),
        variants={"method": lambda m, a, b: a.pow(b), "operator": lambda m, a, b: a**b},
        ref=np.power,
        error_inputs=lambda: [
            ErrorInput(
                S("int**-1", (3,), dtypes=("int64",), args=(-1,)),
                RuntimeError,
                "Integers to negative integer powers are not allowed",
            )
        ],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
]


ELEMENTWISE += [
    OpInfo(
        "remainder",
        lambda m, a, b: m.remainder(a, b),
        _binary_samples(
            positive=True,
            scalars=(2, 0.75),
            specials=[S("negative operands", _a(1.5, -2.5, 3.2, -0.7), _a(2.0, 1.5, -1.25, -0.5))],
            promotions=[_promote("int64%2.5", ["int64"], args=(2.5,)), _promote("int64%int32", ["int64", "int32"])],
        ),
        variants={"method": lambda m, a, b: a.remainder(b), "operator": lambda m, a, b: a % b},
        ref=np.mod,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
]


def _rounding_div_samples(dtype):
    out = []
    for mode in ("floor", "trunc"):
        mode_kw = {"rounding_mode": mode}
        out += [S(f"{s.name},{mode}", *s.inputs, kwargs=mode_kw, positive=not is_float(dtype)) for s in BROADCAST]
        out.append(S(f"x,2,{mode}", (3, 4), args=(2,), kwargs=mode_kw))
        out.append(S(f"signs,{mode}", _a(7.0, -7.0, 7.5, -7.5), _a(2.0, 2.0, -2.0, -2.0), kwargs=mode_kw))
    return out


ELEMENTWISE += [
    OpInfo(
        "div rounding_mode",
        lambda m, a, b, **kw: m.div(a, b, **kw),
        _rounding_div_samples,
        variants={"method": lambda m, a, b, **kw: a.div(b, **kw)},
        supports_gradgrad=True,
        error_inputs=lambda: [
            ErrorInput(
                S("round", (3,), (3,), kwargs={"rounding_mode": "round"}),
                RuntimeError,
                "div expected rounding_mode to be one of None, 'trunc', or 'floor' but found 'round'",
            )
        ],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "floor_divide",
        lambda m, a, b: m.floor_divide(a, b),
        lambda dtype: [S(s.name, *s.inputs, positive=True) for s in BROADCAST] + [S("x,2", (3, 4), args=(2,))],
        variants={"method": lambda m, a, b: a.floor_divide(b), "operator": lambda m, a, b: a // b},
        supports_grad=False,  # PyTorch has no derivative for it
        dtypes=FLOATS_AND_INT,
    ),
]


def _reflected_samples(*values, positive=False, promotions=()):
    def samples(dtype):
        out = [S(f"{v!r},x", (3, 4), args=(v,), positive=positive) for v in values]
        out.append(S(f"{values[0]!r},0d", (), args=(values[0],), positive=positive))
        return out + (list(promotions) if dtype == "float32" else [])

    return samples


# Python scalars on the left: ``2 - x`` is ``x.__rsub__(2)``.
ELEMENTWISE += [
    OpInfo(
        "__radd__",
        lambda m, x, s: s + x,
        _reflected_samples(2),
        ref=lambda x, s: s + x,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__rsub__",
        lambda m, x, s: s - x,
        _reflected_samples(2),
        ref=lambda x, s: s - x,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__rmul__",
        lambda m, x, s: s * x,
        _reflected_samples(3, promotions=[_promote("2.5*int64", ["int64"], args=(2.5,))]),
        ref=lambda x, s: s * x,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__rtruediv__",
        lambda m, x, s: s / x,
        _reflected_samples(2, positive=True, promotions=[_promote("2/int64", ["int64"], args=(2,))]),
        ref=lambda x, s: s / x,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__rpow__",
        lambda m, x, s: s**x,
        _reflected_samples(
            2,
            0.5,
            promotions=[_promote("2**int64", ["int64"], args=(2,)), _promote("2.0**int64", ["int64"], args=(2.0,))],
        ),
        variants={"m.pow": lambda m, x, s: m.pow(s, x)},
        ref=lambda x, s: s**x,
        supports_gradgrad=True,
    ),
]

_EXTREME = _a(-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4)


def _unary_samples(*, positive=False, specials=(), low=-2, high=2):
    def samples(dtype):
        lo = 0 if positive and not is_float(dtype) else low
        shapes = {"4x5": (4, 5), "3x2": (3, 2), "0d": ()}
        out = [S(name, shape, positive=positive, low=lo, high=high) for name, shape in shapes.items()]
        out += [S("empty", (0, 3), positive=positive)]
        if is_float(dtype):
            out += [S("nan", _NAN, gradcheck=False)]
            out += specials
        return out

    return samples


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _unary(name, ref, *, positive=False, specials=(), low=-2, high=2, dtypes=FLOATS_AND_INT, **options):
    return OpInfo(
        name,
        lambda m, x: getattr(m, name)(x),
        _unary_samples(positive=positive, specials=specials, low=low, high=high),
        variants={"method": lambda m, x: getattr(x, name)()},
        ref=ref,
        dtypes=dtypes,
        **options,
    )


def _relu_threaded_sample():
    """Large enough to be split over the engine's threads, with NaN, ±0 and ±inf among the values."""
    x = np.random.default_rng(0).standard_normal(3 * threads.PARALLEL_MIN_SIZE)
    x[:6] = [np.nan, -0.0, 0.0, np.inf, -np.inf, 1.0]
    return S("threaded, nan, inf, ±0", x, gradcheck=False)


_EXTREMES = S("extremes", _EXTREME, gradcheck=False)
_KINK = S("at 0", _a(0.0, 1.0, -1.0), gradcheck=False)

ELEMENTWISE += [
    OpInfo(
        "neg",
        lambda m, x: m.neg(x),
        _unary_samples(),
        variants={"method": lambda m, x: x.neg(), "operator": lambda m, x: -x},
        ref=np.negative,
        error_inputs=lambda: [
            ErrorInput(
                S("-bool", (3,), dtypes=("bool",)),
                RuntimeError,
                "Negation, the `-` operator, on a bool tensor is not supported",
            )
        ],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "positive", lambda m, x: +x, _unary_samples(), ref=np.positive, supports_gradgrad=True, dtypes=FLOATS_AND_INT
    ),
    OpInfo(
        "abs",
        lambda m, x: m.abs(x),
        _unary_samples(specials=[_KINK]),
        variants={"method": lambda m, x: x.abs(), "builtin": lambda m, x: abs(x)},
        ref=np.abs,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    _unary("exp", np.exp, positive=False, specials=[_EXTREMES], supports_gradgrad=True),
    _unary(
        "log",
        np.log,
        positive=True,
        specials=[S("at 0 and -1", _a(0.0, 1.0, -1.0), grad=False), S("kink at 0", _a(0.0, 1.0), gradcheck=False)],
        supports_gradgrad=True,
    ),
    _unary(
        "sqrt",
        np.sqrt,
        positive=True,
        specials=[S("at -1", _a(-1.0, 4.0), grad=False), S("kink at 0", _a(0.0, 1.0), gradcheck=False)],
        supports_gradgrad=True,
    ),
    _unary("sin", np.sin, supports_gradgrad=True),
    _unary("cos", np.cos, supports_gradgrad=True),
    _unary("tanh", np.tanh, specials=[_EXTREMES], supports_gradgrad=True),
    _unary("sigmoid", _sigmoid, specials=[_EXTREMES], supports_gradgrad=True),
    _unary(
        "relu",
        lambda x: np.maximum(x, 0),
        specials=[_EXTREMES, _KINK, _relu_threaded_sample()],
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
]

_POSITIVE = {"positive": True}
_INSIDE_1 = {"low": -0.9, "high": 0.9, "dtypes": FLOATS}  # asin, acos: |x| < 1, away from the poles
_PIECEWISE_REF = {
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
    "trunc": np.trunc,
    "sign": lambda x: np.nan_to_num(np.sign(x)),  # sign(NaN) is 0 in PyTorch
}

ELEMENTWISE += [
    _unary("log2", np.log2, supports_gradgrad=True, **_POSITIVE),
    _unary("log10", np.log10, supports_gradgrad=True, **_POSITIVE),
    _unary("log1p", np.log1p, supports_gradgrad=True, **_POSITIVE),
    _unary("expm1", np.expm1, supports_gradgrad=True),
    _unary("rsqrt", lambda x: 1 / np.sqrt(x), supports_gradgrad=True, **_POSITIVE),
    _unary("tan", np.tan, low=-1.2, high=1.2, supports_gradgrad=True),
    _unary("reciprocal", lambda x: 1 / x, supports_gradgrad=True, **_POSITIVE),
    _unary("square", np.square, supports_gradgrad=True),
    _unary("atan", np.arctan, supports_gradgrad=True),
    _unary("asin", np.arcsin, supports_gradgrad=True, **_INSIDE_1),
    _unary("acos", np.arccos, supports_gradgrad=True, **_INSIDE_1),
    _unary("sinh", np.sinh, supports_gradgrad=True),
    _unary("cosh", np.cosh, supports_gradgrad=True),
    *(_unary(name, ref, supports_gradgrad=True) for name, ref in _PIECEWISE_REF.items()),
]


def _clamp_samples(dtype):
    bounds = [
        ((-0.5, 0.5), {}),
        ((), {"min": -0.5, "max": 0.5}),
        ((), {"min": 0.3}),
        ((), {"max": 0.3}),
        ((-1,), {}),
        ((), {"max": 1}),
        ((1, -1), {}),  # min > max: max wins
    ]
    out = [S(f"{args},{kwargs}", (4, 6), args=args, kwargs=kwargs) for args, kwargs in bounds]
    out.append(S("0d", (), args=(-0.5, 0.5)))
    if is_float(dtype):
        out += [
            S("at bounds", _a(0.0, 1.0, 0.5, 2.0, -1.0), args=(0, 1), gradcheck=False),
            S("min at bound", _a(0.5, 1.0, 0.0), kwargs={"min": 0.5}, gradcheck=False),
            S("nan", _NAN, args=(-1, 1), gradcheck=False),
        ]
    else:
        out.append(S("float bound promotes", (4, 6), kwargs={"min": 0.5}))
    return out


def _max_min_samples(dtype):
    out = list(BROADCAST)
    if is_float(dtype):
        out += [
            S("ties split the gradient", _a(1.0, 2.0, -1.0, 0.5), _a(1.0, 1.0, -1.0, 3.0), gradcheck=False),
            S("with 0 at 0", _a(0.0, 1.0, -1.0), _a(0.0, 0.0, 0.0), grad=(True, False), gradcheck=False),
            S("nan", _NAN, (4,), gradcheck=False),
        ]
    if dtype == "float32":
        out.append(S("int64&float32 promotes", (3, 4), (4,), dtypes=("int64", "float32")))
    return out


def _where_samples(dtype):
    c = "bool"
    out = [
        S("same", (3, 4), (3, 4), (3, 4), dtypes=(c, None, None)),
        S("broadcast", (3, 1), (1, 4), (), dtypes=(c, None, None)),
        S("broadcast2", (4,), (3, 4), (3, 1), dtypes=(c, None, None)),
        S("scalar other", (3, 4), (3, 4), args=(0.0,), dtypes=(c, None)),
        S("condition only: nonzero", np.array([[0.0, 1.0], [2.0, 0.0]]), grad=False),
    ]
    if is_float(dtype):
        out.append(S("nan", np.array([True, False, True, False]), _NAN, (4,), dtypes=(c, None, None), gradcheck=False))
    if dtype == "float32":
        out.append(S("float32&float64 promote", (3, 4), (3, 4), (3, 4), dtypes=(c, "float32", "float64")))
    return out


ELEMENTWISE += [
    OpInfo(
        "clamp",
        lambda m, x, *args, **kw: m.clamp(x, *args, **kw),
        _clamp_samples,
        variants={
            "method": lambda m, x, *args, **kw: x.clamp(*args, **kw),
            "clip": lambda m, x, *args, **kw: m.clip(x, *args, **kw),
        },
        error_inputs=lambda: [
            ErrorInput(S("no bounds", (2, 3)), RuntimeError, "At least one of 'min' or 'max' must not be None")
        ],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "maximum",
        lambda m, a, b: m.maximum(a, b),
        _max_min_samples,
        ref=np.maximum,
        error_inputs=lambda: [_broadcast_error([(3, 4), (5,)])],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "minimum",
        lambda m, a, b: m.minimum(a, b),
        _max_min_samples,
        ref=np.minimum,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "where",
        lambda m, *args: m.where(*args),
        _where_samples,
        variants={"method": lambda m, c, a, b: a.where(c, b)},
        error_inputs=lambda: [
            ErrorInput(
                S("broadcast", (3, 4), (3, 4), (2, 4), dtypes=("bool", "float32", "float32")),
                RuntimeError,
                "must match the size of tensor",
            )
        ],
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
]

_CMP_A = np.array([[0.0, 1.0, -1.0, 2.0], [1.0, 1.0, 0.5, -2.0], [3.0, -0.5, 0.0, 1.0]])
_CMP_B = np.array([1.0, 1.0, 0.5, -2.0])


def _comparison_samples(dtype):
    out = [S("ties", _CMP_A, _CMP_B), S("scalar", _CMP_A, args=(1.0,)), S("int scalar", _CMP_A, args=(1,))]
    out += [S(s.name, *s.inputs) for s in BROADCAST[3:]]
    if dtype == "float32":
        out.append(S("int64&float32", (3, 4), (4,), dtypes=("int64", "float32")))
    return out


def _comparison(name, operator, ref, dtypes=FLOATS_AND_INT, **options):
    return OpInfo(
        name,
        lambda m, a, b: getattr(m, name)(a, b),
        _comparison_samples,
        variants={"method": lambda m, a, b: getattr(a, name)(b), "operator": operator},
        ref=ref,
        dtypes=dtypes,
        **options,
    )


ELEMENTWISE += [
    _comparison("eq", lambda m, a, b: a == b, np.equal, dtypes=(*FLOATS_AND_INT, "bool")),
    _comparison("ne", lambda m, a, b: a != b, np.not_equal, dtypes=(*FLOATS_AND_INT, "bool")),
    _comparison(
        "lt",
        lambda m, a, b: a < b,
        np.less,
        error_inputs=lambda: [_broadcast_error([(3, 4), (2,)])],
    ),
    _comparison("le", lambda m, a, b: a <= b, np.less_equal),
    _comparison("gt", lambda m, a, b: a > b, np.greater),
    _comparison("ge", lambda m, a, b: a >= b, np.greater_equal),
]
