"""The engine's ops, each described once as data (PyTorch's OpInfo idea); a helper module, not a test file.

An ``OpInfo`` names an op, says how to call it (``op(m, *tensors, *args, **kwargs)`` with ``m`` the
``engine`` or ``torch`` module, so one lambda serves both; ``torch_op`` where torch spells it differently),
gives its sample inputs and error inputs, the dtypes and devices it takes, whether gradients apply, its
tolerances and the known mismatches with PyTorch (``xfails``). ``test_op_table.py`` expands the table over
op × dtype × device × sample and compares with PyTorch through ``optest``.

Sample functions take the dtype under test and return ``SampleInput``s: shapes (random values) or NumPy
arrays (cast to the dtype under test), Python values as ``args``/``kwargs``. A sample that names its own
``dtypes`` (type promotion) is given with the float32 run only. Special values (NaN, ±inf, kinks, extreme
logits) are given for floating dtypes and skip finite differences (``gradcheck=False``).

Double backward: the engine has no ``create_graph`` yet (``engine.autograd.grad`` raises
``NotImplementedError``), so no entry claims ``supports_gradgrad``; the generic tests run it for the entries
that do, once ``engine.autograd`` offers ``gradgradcheck``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np

from engine import threads

FLOATS = ("float32", "float64")
FLOATS_AND_INT = (*FLOATS, "int64")
DEVICES = ("cpu", "cuda")


def is_float(dtype: str) -> bool:
    return dtype.startswith("float")


@dataclass(frozen=True)
class DType:
    """A dtype argument (``x.to(DType("float64"))``), resolved to ``m.float64`` on each side."""

    name: str

    def resolve(self, m):
        return getattr(m, self.name)


@dataclass(frozen=True)
class Tensor:
    """A constant tensor argument (an index tensor: ``x[Tensor([0, 2])]``), made with ``m.tensor`` on each side."""

    values: object
    dtype: str | None = None

    def resolve(self, m):
        return m.tensor(self.values, dtype=None if self.dtype is None else getattr(m, self.dtype))


def resolve(arg, m):
    """A sample's Python argument for module ``m``: ``DType``/``Tensor`` resolved, also inside tuples."""
    if isinstance(arg, (DType, Tensor)):
        return arg.resolve(m)
    if isinstance(arg, tuple):
        return tuple(resolve(a, m) for a in arg)
    return arg


@dataclass(frozen=True)
class SampleInput:
    """One call: ``inputs`` become tensors (a shape gives random values, an array is used as is)."""

    name: str
    inputs: tuple
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple | None = None  # per input, None: the dtype under test
    grad: bool | tuple = True
    low: float = -2
    high: float = 2
    positive: bool = False
    gradcheck: bool = True  # False at kinks, NaN and extremes, where finite differences mean nothing
    atol: float | None = None
    rtol: float | None = None

    def input_dtypes(self, dtype: str) -> list[str]:
        if self.dtypes is None:
            return [dtype] * len(self.inputs)
        return [dtype if d is None else d for d in self.dtypes]

    def arrays_or_shapes(self, dtype: str) -> list:
        return [
            spec.astype(d) if isinstance(spec, np.ndarray) else spec
            for spec, d in zip(self.inputs, self.input_dtypes(dtype), strict=True)
        ]


def S(name: str, *inputs, **options) -> SampleInput:
    return SampleInput(name, tuple(inputs), **options)


@dataclass(frozen=True)
class ErrorInput:
    """A call that must raise ``exc`` with ``match`` in its message, as torch does."""

    sample: SampleInput
    exc: type[BaseException]
    match: str


@dataclass(frozen=True)
class XFail:
    """A known mismatch with PyTorch; ``None`` fields match anything."""

    reason: str
    dtype: str | None = None
    device: str | None = None
    sample: str | None = None

    def applies(self, dtype: str, device: str, sample: str) -> bool:
        return all(
            want in (None, got) for want, got in ((self.dtype, dtype), (self.device, device), (self.sample, sample))
        )


@dataclass(frozen=True)
class OpInfo:
    name: str
    op: Callable
    sample_inputs: Callable[[str], Iterable[SampleInput]]
    torch_op: Callable | None = None
    variants: dict[str, Callable] = field(default_factory=dict)  # method/operator spellings, same signature
    ref: Callable | None = None  # NumPy reference, for runs without torch
    error_inputs: Callable[[], Iterable[ErrorInput]] = lambda: ()
    dtypes: tuple[str, ...] = FLOATS
    devices: tuple[str, ...] = DEVICES
    supports_grad: bool = True
    supports_gradgrad: bool = False
    tolerances: dict[str, tuple[float, float]] = field(default_factory=dict)  # dtype -> (atol, rtol)
    implementations: tuple[str, ...] = ()  # names the forward test prefers in turn (engine.backend.prefer)
    xfails: tuple[XFail, ...] = ()

    def samples(self, dtype: str) -> list[SampleInput]:
        samples = list(self.sample_inputs(dtype))
        names = [s.name for s in samples]
        assert len(set(names)) == len(names), f"{self.name}: sample names repeat: {names}"
        return samples

    def call(self, fn: Callable, sample: SampleInput) -> Callable:
        """``fn`` as ``optest.check`` calls it: ``(m, *tensors)``, the sample's Python arguments bound."""

        def bound(m, *tensors):
            args = [resolve(a, m) for a in sample.args]
            kwargs = {k: resolve(v, m) for k, v in sample.kwargs.items()}
            return fn(m, *tensors, *args, **kwargs)

        return bound


def _a(*values) -> np.ndarray:
    return np.array(values, dtype=np.float64)


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
    OpInfo("__radd__", lambda m, x, s: s + x, _reflected_samples(2), ref=lambda x, s: s + x, dtypes=FLOATS_AND_INT),
    OpInfo("__rsub__", lambda m, x, s: s - x, _reflected_samples(2), ref=lambda x, s: s - x, dtypes=FLOATS_AND_INT),
    OpInfo(
        "__rmul__",
        lambda m, x, s: s * x,
        _reflected_samples(3, promotions=[_promote("2.5*int64", ["int64"], args=(2.5,))]),
        ref=lambda x, s: s * x,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__rtruediv__",
        lambda m, x, s: s / x,
        _reflected_samples(2, positive=True, promotions=[_promote("2/int64", ["int64"], args=(2,))]),
        ref=lambda x, s: s / x,
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
    ),
]

_EXTREME = _a(-1e4, -100.0, -1.0, 0.0, 1.0, 100.0, 1e4)


def _unary_samples(*, positive=False, specials=()):
    def samples(dtype):
        lo = 0 if positive and not is_float(dtype) else -2
        out = [S("4x5", (4, 5), positive=positive, low=lo), S("3x2", (3, 2), positive=positive, low=lo)]
        out += [S("0d", (), positive=positive, low=lo), S("empty", (0, 3), positive=positive)]
        if is_float(dtype):
            out += [S("nan", _NAN, gradcheck=False)]
            out += specials
        return out

    return samples


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _unary(name, ref, *, positive=False, specials=(), dtypes=FLOATS_AND_INT, **options):
    return OpInfo(
        name,
        lambda m, x: getattr(m, name)(x),
        _unary_samples(positive=positive, specials=specials),
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
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo("positive", lambda m, x: +x, _unary_samples(), ref=np.positive, dtypes=FLOATS_AND_INT),
    OpInfo(
        "abs",
        lambda m, x: m.abs(x),
        _unary_samples(specials=[_KINK]),
        variants={"method": lambda m, x: x.abs(), "builtin": lambda m, x: abs(x)},
        ref=np.abs,
        dtypes=FLOATS_AND_INT,
    ),
    _unary("exp", np.exp, positive=False, specials=[_EXTREMES]),
    _unary(
        "log",
        np.log,
        positive=True,
        specials=[S("at 0 and -1", _a(0.0, 1.0, -1.0), grad=False), S("kink at 0", _a(0.0, 1.0), gradcheck=False)],
    ),
    _unary(
        "sqrt",
        np.sqrt,
        positive=True,
        specials=[S("at -1", _a(-1.0, 4.0), grad=False), S("kink at 0", _a(0.0, 1.0), gradcheck=False)],
    ),
    _unary("sin", np.sin),
    _unary("cos", np.cos),
    _unary("tanh", np.tanh, specials=[_EXTREMES]),
    _unary("sigmoid", _sigmoid, specials=[_EXTREMES]),
    _unary(
        "relu",
        lambda x: np.maximum(x, 0),
        specials=[_EXTREMES, _KINK, _relu_threaded_sample()],
        implementations=("compiled", "generic"),
    ),
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
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "maximum",
        lambda m, a, b: m.maximum(a, b),
        _max_min_samples,
        ref=np.maximum,
        error_inputs=lambda: [_broadcast_error([(3, 4), (5,)])],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "minimum",
        lambda m, a, b: m.minimum(a, b),
        _max_min_samples,
        ref=np.minimum,
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

# ----------------------------------------------------------------------------------------------
# casts (engine/ops/convert.py)
# ----------------------------------------------------------------------------------------------

_CAST_X = np.array([[-1.7, -0.5, 0.0, 0.4], [1.5, 2.9, -2.2, 1.0]])


def _cast_samples(*args_list):
    def samples(dtype):
        x = _CAST_X if is_float(dtype) else (3, 4)
        return [S(f"{args}" if args else "x", x, args=args, atol=1e-3, rtol=1e-3) for args in args_list]

    return samples


def _cast(name):
    return OpInfo(name, lambda m, x: getattr(x, name)(), _cast_samples(()), dtypes=FLOATS_AND_INT)


CASTS = [
    *(_cast(name) for name in ("float", "double", "half", "long", "int", "bool")),
    OpInfo(
        "to",
        lambda m, x, *args, **kw: x.to(*args, **kw),
        lambda dtype: [
            *_cast_samples((DType("float64"),), (DType("int64"),), (DType("float32"),))(dtype),
            S(
                "dtype=float16",
                _CAST_X if is_float(dtype) else (3, 4),
                kwargs={"dtype": DType("float16")},
                atol=1e-3,
                rtol=1e-3,
            ),
        ],
        variants={"type": lambda m, x, d: x.type(d)},
        dtypes=FLOATS_AND_INT,
    ),
]

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
REDUCE += [_reduction(name, _reduce_samples(VAR_CALLS, zero_d=[((), {"unbiased": False})])) for name in ("var", "std")]

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
    )
    for name in ("softmax", "log_softmax")
]
REDUCE.append(
    OpInfo(
        "logsumexp",
        _function("logsumexp"),
        _softmax_samples([((0,), {}), ((), {"dim": 1}), ((-1,), {"keepdim": True}), (((0, 2),), {})]),
        variants={"method": _method("logsumexp")},
    )
)

# ----------------------------------------------------------------------------------------------
# matrix products (engine/ops/matmul.py)
# ----------------------------------------------------------------------------------------------

MATMUL_SHAPES = [
    ("1d@1d", (4,), (4,)),
    ("2d@1d", (3, 4), (4,)),
    ("1d@2d", (4,), (4, 2)),
    ("2d@2d", (3, 4), (4, 2)),
    ("3d@3d", (2, 3, 4), (2, 4, 5)),
    ("3d@2d", (2, 3, 4), (4, 5)),
    ("2d@3d", (3, 4), (2, 4, 5)),
    ("3d@1d", (2, 3, 4), (4,)),
    ("1d@3d", (4,), (2, 4, 5)),
    ("(2,1,3,4)@(5,4,2)", (2, 1, 3, 4), (5, 4, 2)),
    ("(1,3,4)@(2,4,2)", (1, 3, 4), (2, 4, 2)),
    ("(2,1,3,4)@(1,3,4,2)", (2, 1, 3, 4), (1, 3, 4, 2)),
    ("4d@1d", (2, 2, 3, 4), (4,)),
    ("1x1@1x1", (1, 1), (1, 1)),
    ("(3,1)@(1,4) outer", (3, 1), (1, 4)),
    ("empty", (0, 4), (4, 2)),
]


def _matmul_samples(dtype):
    out = [S(name, a, b) for name, a, b in MATMUL_SHAPES]
    if is_float(dtype):
        out += [
            S("only a requires grad", (2, 3, 4), (4, 5), grad=(True, False)),
            S("only b requires grad", (2, 3, 4), (4, 5), grad=(False, True)),
            S("16x64@64x32", (16, 64), (64, 32), low=-1, high=1, atol=1e-4, rtol=1e-4, gradcheck=False),
        ]
    return out


def _mismatch(name, a, b, match):
    return ErrorInput(S(name, a, b), RuntimeError, match)


def _product(name, a, b, errors=()):
    return OpInfo(
        name,
        lambda m, x, y: getattr(m, name)(x, y),
        lambda dtype: [S(f"{a}&{b}", a, b)],
        variants={"method": lambda m, x, y: getattr(x, name)(y)},
        ref=getattr(np, name, None),
        error_inputs=lambda: errors,
        dtypes=FLOATS_AND_INT,
    )


MATMUL = [
    OpInfo(
        "matmul",
        lambda m, a, b: m.matmul(a, b),
        _matmul_samples,
        variants={"method": lambda m, a, b: a.matmul(b), "operator": lambda m, a, b: a @ b},
        ref=np.matmul,
        error_inputs=lambda: [
            _mismatch("2d@2d", (3, 4), (5, 2), "mat1 and mat2 shapes cannot be multiplied (3x4 and 5x2)"),
            _mismatch("1d@1d", (3,), (4,), "inconsistent tensor size"),
            _mismatch("2d@1d", (3, 4), (5,), "size mismatch"),
            _mismatch("1d@2d", (3,), (4, 2), "cannot be multiplied"),
            _mismatch("batch", (2, 3, 4), (3, 4, 5), "The size of tensor a (2) must match"),
            _mismatch("batched inner", (2, 3, 4), (2, 5, 5), "Expected size for first two dimensions"),
            _mismatch("0d", (), (3,), "both arguments to matmul need to be at least 1D"),
            ErrorInput(S("float32@float64", (3, 4), (4, 2), dtypes=("float32", "float64")), RuntimeError, "expected"),
        ],
        dtypes=FLOATS_AND_INT,
    ),
    _product(
        "mm",
        (3, 4),
        (4, 2),
        [
            _mismatch("1d", (3,), (3, 2), "self must be a matrix"),
            _mismatch("inner", (3, 4), (3, 2), "mat1 and mat2 shapes cannot be multiplied"),
            ErrorInput(S("float32,int64", (3, 4), (4, 2), dtypes=("float32", "int64")), RuntimeError, "expected"),
        ],
    ),
    _product(
        "bmm",
        (2, 3, 4),
        (2, 4, 5),
        [
            _mismatch("2d", (3, 4), (4, 2), "batch1 must be a 3D tensor"),
            _mismatch("batch", (2, 3, 4), (3, 4, 2), "Expected size for first two dimensions of batch2"),
        ],
    ),
    _product(
        "dot",
        (5,),
        (5,),
        [
            _mismatch("2d", (3, 4), (3, 4), "1D tensors expected"),
            _mismatch("sizes", (3,), (4,), "inconsistent tensor size"),
        ],
    ),
    _product("mv", (3, 4), (4,)),
    _product("outer", (3,), (4,)),
]

# ----------------------------------------------------------------------------------------------
# shape ops (engine/ops/shape.py): views, copies, joins and splits
# ----------------------------------------------------------------------------------------------


def _method_op(name):
    return lambda m, x, *args, **kwargs: getattr(x, name)(*args, **kwargs)


def _function_op(name):
    return lambda m, x, *args, **kwargs: getattr(m, name)(x, *args, **kwargs)


def _shape_samples(*samples, float32_only=()):
    """Fixed samples for every dtype; ``float32_only`` ones name their own dtypes (type promotion)."""
    return lambda dtype: [*samples, *(float32_only if dtype == "float32" else ())]


def _shape_op(name, samples, errors=(), function=True, **options):
    """An op spelled ``x.name(...)``, with the ``m.name(x, ...)`` spelling as a variant where torch has one
    (``function="one arg"``: the function takes the shape or dims as one sequence, as ``m.reshape`` does)."""
    variants = {}
    if function == "one arg":
        variants["function"] = lambda m, x, arg: getattr(m, name)(x, arg)
    elif function:
        variants["function"] = _function_op(name)
    return OpInfo(
        name,
        _method_op(name),
        samples,
        variants=variants,
        error_inputs=lambda: errors,
        dtypes=FLOATS_AND_INT,
        **options,
    )


def _shape_error(name, shapes, args, exc, match, **kwargs):
    return ErrorInput(S(name, *shapes, args=args, **kwargs), exc, match)


def _joined(fn):
    """``m.cat``/``m.stack`` over the tensors: a list, ``dim`` by keyword; the variant a tuple, ``dim`` positional."""
    return (
        lambda m, *xs, **kw: fn(m)(list(xs), **kw),
        {"tuple, positional dim": lambda m, *xs, **kw: fn(m)(tuple(xs), *kw.values())},
    )


_CAT, _CAT_TUPLE = _joined(lambda m: m.cat)
_STACK, _STACK_TUPLE = _joined(lambda m: m.stack)
_P = (3, 4)  # the plain matrix most shape samples start from
_SQ = (1, 3, 1, 4)
_X3 = (2, 3, 4)

SHAPE = [
    _shape_op(
        "view",
        _shape_samples(
            *[S(f"{a}", _P, args=a) for a in [(12,), (-1,), (2, -1), ((2, 6),), (-1, 2, 3), (1, 12, 1)]],
            S("() of 1 elem", (1, 1), args=((),)),
            S("1 of 0d", (), args=(1,)),
            S("empty (0,3)", (3, 0), args=(0, 3)),
        ),
        [
            _shape_error("bad size", [_P], (5,), RuntimeError, "shape '[5]' is invalid for input of size 12"),
            _shape_error("two -1", [_P], (-1, -1), RuntimeError, "only one dimension can be inferred"),
        ],
        function=False,
    ),
    OpInfo(
        "view(dtype)",
        lambda m, x, d: x.view(d),
        _shape_samples(
            float32_only=[
                S(f"{src}->{dst}", _a(1.0, -2.5, 0.5, 3.0).reshape(2, 2), dtypes=(src,), args=(DType(dst),))
                for src, dst in [
                    ("float32", "int32"),
                    ("int32", "float32"),
                    ("float64", "int64"),
                    ("float32", "float32"),
                ]
            ]
        ),
        ref=lambda x, d: x.view(d.name),  # the same bytes read as another dtype, not a cast
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
    ),
    _shape_op(
        "reshape",
        _shape_samples(
            *[S(f"{a}", _P, args=a) for a in [((-1,),), (4, 3), ((2, -1, 2),), ((6, 2),)]],
            S("empty (-1,2)", (0, 4), args=(-1, 2)),
        ),
        [_shape_error("bad size", [_P], (5, -1), RuntimeError, "shape '[5, -1]' is invalid for input of size 12")],
        function="one arg",
    ),
    *[
        OpInfo(
            name,
            lambda m, x, other, name=name: getattr(x, name)(other),
            _shape_samples(S(f"{a}&{b}", a, b, grad=(True, False))),
            dtypes=FLOATS_AND_INT,
        )
        for name, a, b in [("view_as", _P, (4, 3)), ("reshape_as", _P, (2, 6)), ("expand_as", (4,), _X3)]
    ],
    _shape_op(
        "flatten",
        _shape_samples(
            *[S(f"{a}", _X3, args=a) for a in [(), (1,), (0, 1), (-2, -1)]],
            S("start_dim=1,end_dim=2", (2, 3, 4, 2), kwargs={"start_dim": 1, "end_dim": 2}),
            S("end_dim=-2", _X3, kwargs={"end_dim": -2}),
            S("0d", ()),
        ),
        [_shape_error("start>end", [_X3], (2, 1), RuntimeError, "flatten() has invalid args")],
    ),
    _shape_op(
        "squeeze",
        _shape_samples(
            *[S(f"{a}", _SQ, args=a) for a in [(), (0,), (-2,), (1,), ((0, 2),)]],
            S("dim=2", _SQ, kwargs={"dim": 2}),
            S("(1,1)", (1, 1)),
        ),
        [_shape_error("dim out of range", [_P], (3,), IndexError, "Dimension out of range")],
    ),
    _shape_op(
        "unsqueeze",
        _shape_samples(
            *[S(f"{d}", _P, args=(d,)) for d in (0, 1, 2, -1, -2, -3)],
            S("dim=1", _P, kwargs={"dim": 1}),
            S("0 of 0d", (), args=(0,)),
            S("-1 of 0d", (), args=(-1,)),
        ),
        [_shape_error("dim out of range", [_P], (3,), IndexError, "Dimension out of range")],
    ),
    _shape_op(
        "permute",
        _shape_samples(
            *[S(f"{a}", _X3, args=a) for a in [(2, 0, 1), ((1, 2, 0),), (-1, 0, 1), ((2, 1, 0),)]],
            S("empty", (0, 3), args=(1, 0)),
        ),
        [
            _shape_error("wrong length", [_P], (1, 0, 2), RuntimeError, "number of dimensions in the tensor input"),
            _shape_error("repeated", [_P], (0, 0), RuntimeError, "duplicate dims are not allowed"),
        ],
        function="one arg",
    ),
    _shape_op(
        "transpose",
        _shape_samples(*[S(f"{a}", _X3, args=a) for a in [(0, 1), (-1, 0), (1, 1), (1, 2)]]),
        [_shape_error("dim out of range", [_P], (0, 2), IndexError, "Dimension out of range")],
    ),
    _shape_op(
        "t",
        _shape_samples(S("2d", _P), S("1d", (4,))),
        [_shape_error("3d", [_X3], (), RuntimeError, "expects a tensor with <= 2 dimensions")],
    ),
    OpInfo("T", lambda m, x: x.T, _shape_samples(S("2d", _P)), dtypes=FLOATS_AND_INT),
    OpInfo("mT", lambda m, x: x.mT, _shape_samples(S("3d", _X3)), dtypes=FLOATS_AND_INT),
    _shape_op("contiguous", _shape_samples(S("2d", _P)), function=False),
    _shape_op(
        "expand",
        _shape_samples(
            *[S(f"{a} of {s}", s, args=a) for s, a in [((1, 4), (3, 4)), ((3, 1), (-1, 4)), ((3, 1), (2, 3, 4))]],
            S("(2,-1,-1)", _P, args=((2, -1, -1),)),
            S("5 of 0d", (), args=(5,)),
            S("empty", (1, 3), args=(0, 3)),
        ),
        [
            _shape_error("bad size", [_P], (3, 5), RuntimeError, "The expanded size of the tensor (5) must match"),
            _shape_error("fewer dims", [_P], (4,), RuntimeError, "the number of sizes provided (1) must be greater"),
        ],
        function=False,
    ),
    _shape_op(
        "repeat",
        _shape_samples(
            *[S(f"{a} of {s}", s, args=a) for s, a in [((2, 3), (2, 3)), (_P, (2, 1, 1)), (_P, ((1, 2),))]],
            S("3 of 1d", (4,), args=(3,)),
            S("2,2 of 0d", (), args=(2, 2)),
            S("0,2", _P, args=(0, 2)),
        ),
        [
            _shape_error(
                "fewer dims", [_P], (2,), RuntimeError, "Number of dimensions of repeat dims can not be smaller"
            )
        ],
        function=False,
    ),
    OpInfo(
        "cat",
        _CAT,
        _shape_samples(
            S("dim0", (2, 3), (4, 3)),
            S("dim1", (2, 3), (2, 1), kwargs={"dim": 1}),
            S("dim-1 three", (2, 3), (2, 2), (2, 1), kwargs={"dim": -1}),
            S("single", (2, 3), kwargs={"dim": 0}),
            S("3d dim1", (2, 1, 3), (2, 2, 3), kwargs={"dim": 1}),
            S("with empty", (0, 3), (2, 3)),
            float32_only=[
                S(f"{a}+{b}", (2, 3), (2, 3), dtypes=(a, b), kwargs={"dim": 1}, atol=1e-3, rtol=1e-3)
                for a, b in [("float32", "float64"), ("int64", "float32"), ("bool", "int32")]
            ],
        ),
        variants=_CAT_TUPLE,
        error_inputs=lambda: [
            ErrorInput(S("mismatch", (2, 3), (2, 4), kwargs={"dim": 0}), RuntimeError, "Sizes of tensors must match"),
            ErrorInput(S("empty list"), ValueError, "expected a non-empty list of Tensors"),
        ],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "concat", lambda m, *xs: m.concat(list(xs), 0), _shape_samples(S("dim0", (1, 3), (2, 3))), dtypes=FLOATS_AND_INT
    ),
    OpInfo(
        "stack",
        _STACK,
        _shape_samples(
            S("dim0", (2, 3), (2, 3)),
            S("dim1", (2, 3), (2, 3), kwargs={"dim": 1}),
            S("dim-1 three", (2, 3), (2, 3), (2, 3), kwargs={"dim": -1}),
            S("0d", (), ()),
            float32_only=[S("float16+float32", (2, 3), (2, 3), dtypes=("float16", "float32"), atol=1e-3, rtol=1e-3)],
        ),
        variants=_STACK_TUPLE,
        error_inputs=lambda: [
            ErrorInput(S("mismatch", (2, 3), (3, 2)), RuntimeError, "stack expects each tensor to be equal size")
        ],
        dtypes=FLOATS_AND_INT,
    ),
    _shape_op(
        "split",
        _shape_samples(
            S("2", (5, 3), args=(2,)),
            S("2,dim=1", (3, 5), args=(2,), kwargs={"dim": 1}),
            S("[1,3],1", _P, args=([1, 3], 1)),
            S("[2,0,3]", (5, 2), args=([2, 0, 3],)),
            S("3,-1", (2, 7), args=(3, -1)),
            S("bigger than dim", (3, 2), args=(10,)),
            S("empty", (0, 3), args=(2, 1)),
        ),
        [_shape_error("sizes wrong sum", [_P], ([1, 1],), RuntimeError, "split_with_sizes expects split_sizes")],
    ),
    _shape_op(
        "chunk",
        _shape_samples(
            S("3", (5, 3), args=(3,)),
            S("2,dim=1", _P, args=(2,), kwargs={"dim": 1}),
            S("4 of 6", (6,), args=(4,)),
            S("2,-1", (2, 5), args=(2, -1)),
        ),
        [_shape_error("zero", [_P], (0,), RuntimeError, "chunk expects `chunks` to be greater than 0")],
    ),
    _shape_op(
        "unbind",
        _shape_samples(S("()", _P), S("1", _P, args=(1,)), S("dim=-1", (2, 3), kwargs={"dim": -1})),
    ),
]

# ----------------------------------------------------------------------------------------------
# indexing (engine/ops/index.py): x[index] and y[index] = value
# ----------------------------------------------------------------------------------------------

_IX = (4, 5, 3)
_ALL = slice(None)


def _ix_name(index) -> str:
    def one(i):
        if isinstance(i, slice):
            parts = ["" if v is None else str(v) for v in (i.start, i.stop, i.step)]
            return ":".join(parts[:2] if i.step is None else parts)
        if i is Ellipsis:
            return "..."
        if isinstance(i, Tensor):
            return f"T{i.values}"
        return str(i)

    return ",".join(one(i) for i in (index if isinstance(index, tuple) else (index,)))


_GETITEM = [
    # basic
    *[1, -1, (1, 2), (1, 2, 0), (-1, -2, -3), slice(1, 3), slice(None, None, 2)],
    *[(slice(1, None, 2), slice(None, None, 3)), (_ALL, slice(1, 4, 2)), slice(-3, -1), (slice(-1), slice(-2, None))],
    *[slice(10, None), slice(2, 1), slice(-100, 100), slice(2, 2), Ellipsis, (Ellipsis, 1), (1, Ellipsis)],
    *[
        (1, Ellipsis, 2),
        None,
        (Ellipsis, None),
        (_ALL, None, _ALL, None),
        (None, Ellipsis, 0),
        (1, None, slice(2, None)),
    ],
    Tensor(2),
    # advanced: lists and index tensors, repeated so gradients accumulate
    *[[0, 2, 2], Tensor([0, 2, 0]), Tensor([-1, 0, -1]), ([0, 1], [1, 2]), ([1, 1, 1], [2, 2, 0], [0, 0, 0])],
    *[Tensor([[0, 1], [3, 3]]), (_ALL, [0, 0, 3]), (Ellipsis, [2, 0, 2]), (slice(1, None), [0, 2])],
    *[([0, 2], _ALL, [1, 1]), (_ALL, [[0], [4]], [1, 2]), ([0, 3], None)],
    *[(0, [1, 2]), ([0, 1], slice(1, 3), 2), (1, _ALL, [0, 0]), (-1, [0, 4], slice(1, None))],
    *[[], (_ALL, []), Tensor([], "int64")],
    # boolean masks
    *[[True, False, True, True], (Tensor([True, False, True, True]), 1), (Ellipsis, Tensor([False, True, True]))],
    *[True, False],
]


def _getitem_samples(dtype):
    out = [S(f"x[{_ix_name(i)}]", _IX, args=(i,)) for i in _GETITEM]
    return (
        out
        + [S("1d x[3]", (6,), args=(3,)), S("1d x[[5,5,0]]", (6,), args=([5, 5, 0],))]
        + [S(f"0d x[{_ix_name(i)}]", (), args=(i,)) for i in (None, Ellipsis)]
    )


def _setitem(m, x, *value, index, const=None):
    """``y = x * 1; y[index] = value; return y``: the value a tensor input or the Python ``const``."""
    y = x * 1
    y[index] = value[0] if value else const
    return y


def _setitem_samples(dtype):
    tensor_values = [
        (0, (5, 3)),
        (0, (3,)),
        ((_ALL, 1), (4, 3)),
        ((slice(1, 3), slice(None, None, 2)), (3,)),
        ((1, 2), ()),
        ((1, 2, 0), ()),
        ((Ellipsis, 0), (4, 5)),
        ((Ellipsis, 0), (4, 1)),
        ([0, 2], (5, 3)),
        (([0, 2], [1, 4]), (2, 3)),
        ((_ALL, [1, 3]), (4, 2, 3)),
        ((None, 1), (1, 5, 3)),
        (slice(1, None), (1, 5, 3)),
    ]
    constants = [(0, 0.0), ((_ALL, 1), 2.5), ((1, 2, 0), -1), (slice(None, None, 2), 3), ([0, 3], 1.0), (Ellipsis, 1.0)]
    out = [S(f"y[{_ix_name(i)}]=w{w}", _IX, w, kwargs={"index": i}) for i, w in tensor_values]
    out += [S(f"y[{_ix_name(i)}]={c}", _IX, kwargs={"index": i, "const": c}) for i, c in constants]
    if dtype == "float32":  # the value is cast to the target's dtype
        out.append(S("float64 value", (3, 4), (4,), dtypes=("float32", "float64"), kwargs={"index": 0}))
    if dtype == "int64":  # a float constant truncates
        out += [
            S(f"y[{_ix_name(i)}]={c}", (3, 4), kwargs={"index": i, "const": c}) for i, c in [(0, 2.7), ((1, 1), -1.9)]
        ]
    return out


def _getitem_error(name, index, exc, match):
    return ErrorInput(S(name, _IX, args=(index,)), exc, match)


INDEX = [
    OpInfo(
        "__getitem__",
        lambda m, x, index: x[index],
        _getitem_samples,
        error_inputs=lambda: [
            _getitem_error("int out of range", 4, IndexError, "index 4 is out of bounds for dimension 0 with size 4"),
            _getitem_error(
                "neg out of range", (0, -6), IndexError, "index -6 is out of bounds for dimension 1 with size 5"
            ),
            _getitem_error("list out of range", [0, 7], IndexError, "out of bounds"),
            _getitem_error("too many indices", (0, 0, 0, 0), IndexError, "too many indices for tensor of dimension 3"),
            _getitem_error("negative step", slice(None, None, -1), ValueError, "step must be greater than zero"),
            _getitem_error("float index", 1.5, IndexError, "only integers, slices"),
            _getitem_error(
                "mask shape",
                Tensor([True, False, True]),
                IndexError,
                "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [4, 5, 3]",
            ),
            _getitem_error(
                "float tensor index",
                Tensor([0.0, 1.0]),
                IndexError,
                "tensors used as indices must be long, int, byte or bool tensors",
            ),
        ],
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "__setitem__",
        _setitem,
        _setitem_samples,
        error_inputs=lambda: [
            ErrorInput(
                S("shape mismatch", _IX, (4,), kwargs={"index": 0}), RuntimeError, "must match the existing size"
            )
        ],
        dtypes=FLOATS_AND_INT,
    ),
]

OPS: list[OpInfo] = [*ELEMENTWISE, *CASTS, *REDUCE, *SOFTMAX, *MATMUL, *SHAPE, *INDEX]
