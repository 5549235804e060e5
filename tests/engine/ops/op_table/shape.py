"""Op table entries: shape family."""

from __future__ import annotations

from .core import FLOATS_AND_INT, DType, ErrorInput, OpInfo, S, _a

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
        supports_gradgrad=True,
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
            supports_gradgrad=True,
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
    OpInfo("T", lambda m, x: x.T, _shape_samples(S("2d", _P)), dtypes=FLOATS_AND_INT, supports_gradgrad=True),
    OpInfo("mT", lambda m, x: x.mT, _shape_samples(S("3d", _X3)), dtypes=FLOATS_AND_INT, supports_gradgrad=True),
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
        supports_gradgrad=True,
    ),
    OpInfo(
        "concat",
        lambda m, *xs: m.concat(list(xs), 0),
        _shape_samples(S("dim0", (1, 3), (2, 3))),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
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
        supports_gradgrad=True,
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
