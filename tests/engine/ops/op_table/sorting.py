"""Op table entries: sorting and selection family (engine/ops/sorting.py).

Random floats have no ties, so full results (values and indices) and gradients are compared there. Where
PyTorch leaves the index of a tie to the implementation (topk, kthvalue, median, nanmedian with a dim), the
samples with ties (and the integer dtypes, which tie all the time) go through a ``.values`` entry, without
gradients (they follow the index); ``mode`` too, whose index PyTorch does not document either (its CPU
kernel gives the last occurrence on short lines, not on long ones). ``sort`` compares indices on ties: it is
stable, and PyTorch's is where asked (``stable=True``) and, on the CPU, on short lines. NaN sorts as the
largest value; mode has no NaN samples: PyTorch's CPU kernel sorts with ``<``, which leaves where NaNs land
(and so which value wins) undefined.
"""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, is_float

_R = (3, 4, 5)
_TIES = np.array([[1.0, 3.0, 3.0, -1.0, 3.0], [2.0, 2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, -4.0, 1.0]])
_NAN = np.array([[1.0, np.nan, -2.0, 0.5], [0.5, 3.0, -1.0, 0.5], [np.nan, 2.0, np.nan, -3.0]])


def _dim_error(*args):
    return ErrorInput(S("dim out of range", (2, 3), args=args), IndexError, "Dimension out of range")


_DIM_ERROR = _dim_error(2)
# -0.0 ties with 0.0, a NaN with its sign bit set is still the largest value
_SPECIAL = np.array([[0.0, -0.0, np.inf, -np.nan, -np.inf, 1.0], [np.nan, -0.0, -1.0, -np.inf, 0.0, -np.nan]])


def _name(args, kwargs):
    return ",".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())]) or "()"


def _samples(calls, *, shape=_R, ties=(), nan=(), zero_d=(), empty=(), **options):
    """Random samples for ``calls`` ((args, kwargs) pairs), and samples on ties, NaN (floating dtypes), 0-d
    and empty inputs; ties and NaN without finite differences."""

    def samples(dtype):
        out = [S(_name(a, k), shape, args=a, kwargs=k, **options) for a, k in calls]
        out += [S(f"0d,{_name(a, k)}", (), args=a, kwargs=k, **options) for a, k in zero_d]
        out += [S(f"empty,{_name(a, k)}", (0, 3), args=a, kwargs=k, **options) for a, k in empty]
        out += [S(f"ties,{_name(a, k)}", _TIES, args=a, kwargs=k, gradcheck=False) for a, k in ties]
        if is_float(dtype):
            out += [S(f"nan,{_name(a, k)}", _NAN, args=a, kwargs=k, gradcheck=False) for a, k in nan]
        return out

    return samples


def _method(name):
    return lambda m, x, *args, **kw: getattr(x, name)(*args, **kw)


def _function(name):
    return lambda m, x, *args, **kw: getattr(m, name)(x, *args, **kw)


def _values(name):
    return lambda m, x, *args, **kw: getattr(m, name)(x, *args, **kw).values


def _entry(name, samples, call=None, **options):
    """Called as functions (``m.sort(x, 1)``); the method is the variant. ``call``: the function's name when
    the entry's differs."""
    call = call or name
    return OpInfo(name, _function(call), samples, variants={"method": _method(call)}, **options)


SORT_CALLS = [
    ((), {}),
    ((0,), {}),
    ((-2,), {}),
    ((), {"dim": 1, "descending": True}),
    ((-1, True), {}),
    ((), {"stable": True}),
    ((), {"dim": 0, "descending": True, "stable": True}),
]
_SORT_EDGES = {
    "ties": [((1,), {}), ((), {"dim": 1, "descending": True}), ((), {"dim": 0, "stable": True}), ((0, True), {})],
    "nan": [((1,), {}), ((1, True), {}), ((0,), {})],
    "zero_d": [((), {}), ((0,), {}), ((-1, True), {})],
    "empty": [((0,), {}), ((1, True), {})],
}

TOPK_CALLS = [
    ((2,), {}),
    ((1,), {"dim": 0}),
    ((3, -2), {}),
    ((2,), {"largest": False}),
    ((5, 2, False), {}),
    ((0,), {}),
    ((4,), {"dim": 1, "largest": True, "sorted": True}),
]
_TOPK_EDGES = {
    "ties": [((3,), {}), ((2, 0), {}), ((2,), {"largest": False})],
    "nan": [((2,), {}), ((2, 0, False), {})],
    "zero_d": [((1,), {}), ((1, -1), {})],  # k=0 on a 0-d input: PyTorch returns the element
}
# median with a dim has a compiled path and a partition path; nanmedian one path
_MEDIAN_IMPLEMENTATIONS = {"median": ("compiled", "generic"), "nanmedian": ()}
KTH_CALLS = [
    ((1,), {}),
    ((3,), {}),
    ((2, 0), {}),
    ((4, -2), {}),
    ((5,), {"dim": 2, "keepdim": True}),
    ((2, 1, True), {}),
]
_KTH_EDGES = {
    "ties": [((2,), {}), ((3, 1), {}), ((1, 0, True), {})],
    "nan": [((2,), {}), ((4,), {}), ((2, 0), {})],
    "zero_d": [((1,), {}), ((1, 0, True), {})],
}
MEDIAN_CALLS = [((0,), {}), ((-1,), {}), ((1, True), {}), ((), {"dim": 2, "keepdim": False})]
_MEDIAN_EDGES = {
    "ties": [((1,), {}), ((0, True), {})],
    "nan": [((1,), {}), ((0,), {}), ((-1, True), {})],
    "zero_d": [((0,), {}), ((-1, True), {})],
}
MODE_CALLS = [((), {}), ((0,), {}), ((-2,), {}), ((1, True), {}), ((), {"dim": 2, "keepdim": True})]
_MODE_EDGES = {"ties": [((), {}), ((0,), {}), ((1, True), {})], "zero_d": [((), {}), ((0,), {})]}


def _selection_errors(name, args, k_errors=()):
    """Dim out of range, an empty reduced dim (``args`` reduce dim 0 of a (0, 3) input), and ``k_errors``."""
    return lambda: [
        _dim_error(*args[:-1], 2),
        ErrorInput(
            S("empty dim", (0, 3), args=args), IndexError, f"{name}(): Expected reduction dim 0 to have non-zero size"
        ),
        *k_errors,
    ]


SORTING = [
    _entry("sort", _samples(SORT_CALLS, **_SORT_EDGES), dtypes=FLOATS_AND_INT, error_inputs=lambda: [_DIM_ERROR],
           supports_gradgrad=True),
    _entry(
        "argsort",
        _samples(SORT_CALLS, **_SORT_EDGES),
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
        error_inputs=lambda: [_DIM_ERROR],
    ),
    OpInfo(
        "sort(x.mT)",
        lambda m, x, *args, **kw: m.sort(x.mT, *args, **kw),
        _samples([((), {}), ((0, True), {}), ((), {"dim": -1, "stable": True})], shape=(4, 6)),
        supports_gradgrad=True,
    ),
    OpInfo(
        "sort(special values)",
        _function("sort"),
        lambda dtype: (
            [
                S(f"{_name(a, k)}", _SPECIAL, args=a, kwargs=k, gradcheck=False)
                for a, k in [((), {}), ((1, True), {}), ((0,), {}), ((0, True), {})]
            ]
            + [  # lines of 1200 take the keyed argsort for 32-bit dtypes; PyTorch is stable there only when asked
                S(f"long,{_name(a, k)}", np.tile(_SPECIAL, (1, 200)), args=a, kwargs=k, gradcheck=False)
                for a, k in [
                    ((), {"stable": True}),
                    ((), {"dim": 1, "descending": True, "stable": True}),
                    ((), {"dim": 0, "descending": True, "stable": True}),
                ]
            ]
            + [
                S(
                    f"long {d},{descending}",
                    np.tile(_TIES, (1, 240)),
                    kwargs={"dim": 1, "descending": descending, "stable": True},
                    dtypes=(d,),
                )
                for d in (("int32", "int16", "uint8", "bool") if dtype == "float32" else ())
                for descending in (False, True)
            ]
        ),
        variants={"argsort": _function("argsort")},
        supports_gradgrad=True,
    ),
    _entry(
        "msort", _samples([((), {})], ties=[((), {})], nan=[((), {})]), dtypes=FLOATS_AND_INT, supports_gradgrad=True
    ),
    _entry(
        "topk",
        _samples(TOPK_CALLS, zero_d=_TOPK_EDGES["zero_d"], empty=[((0, 0), {}), ((2,), {})]),
        error_inputs=lambda: [
            _dim_error(1, 2),
            ErrorInput(S("k too large", (2, 3), args=(4,)), RuntimeError, "selected index k out of range"),
            ErrorInput(S("k negative", (2, 3), args=(-1,)), RuntimeError, "selected index k out of range"),
        ],
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
    OpInfo(
        "topk.values",
        _values("topk"),
        _samples(TOPK_CALLS[:5], ties=_TOPK_EDGES["ties"], nan=_TOPK_EDGES["nan"], grad=False),
        dtypes=FLOATS_AND_INT,
        implementations=("compiled", "generic"),
        supports_grad=False,
    ),
    OpInfo(
        "topk(sorted=False)",
        lambda m, x, k, dim=-1, largest=True: m.sort(m.topk(x, k, dim, largest, False).values, dim).values,
        _samples([((2,), {}), ((3, 0, False), {})]),
        supports_gradgrad=True,
    ),
    _entry(
        "kthvalue",
        _samples(KTH_CALLS, zero_d=_KTH_EDGES["zero_d"]),
        error_inputs=_selection_errors(
            "kthvalue",
            (1, 0),
            [
                ErrorInput(
                    S("k too large", (2, 3), args=(4,)),
                    RuntimeError,
                    "kthvalue(): selected number k out of range for dimension 1",
                ),
                ErrorInput(S("k zero", (2, 3), args=(0, 0)), RuntimeError, "selected number k out of range"),
            ],
        ),
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
    OpInfo(
        "kthvalue.values",
        _values("kthvalue"),
        _samples(KTH_CALLS[:4], ties=_KTH_EDGES["ties"], nan=_KTH_EDGES["nan"], grad=False),
        dtypes=FLOATS_AND_INT,
        implementations=("compiled", "generic"),
        supports_grad=False,
    ),
    *(
        _entry(name, _samples(MEDIAN_CALLS, zero_d=_MEDIAN_EDGES["zero_d"], empty=[((1,), {})]),
               implementations=_MEDIAN_IMPLEMENTATIONS[name], supports_gradgrad=True)
        for name in ("median", "nanmedian")
    ),
    *(
        OpInfo(
            f"{name}.values",
            _values(name),
            _samples(MEDIAN_CALLS, ties=_MEDIAN_EDGES["ties"], nan=_MEDIAN_EDGES["nan"], grad=False),
            dtypes=FLOATS_AND_INT,
            implementations=_MEDIAN_IMPLEMENTATIONS[name],
            supports_grad=False,
            error_inputs=_selection_errors("median", (0,)),
        )
        for name in ("median", "nanmedian")
    ),
    *(
        _entry(
            f"{name}()",
            call=name,
            samples=lambda dtype, name=name: [
                S("odd", (3, 5)),
                S("even", (4, 5)),
                S("0d", ()),
                *(
                    [
                        S("ties", _TIES, gradcheck=False),
                        S("nan", _NAN, gradcheck=False),
                        S("all nan", np.full((2, 2), np.nan), gradcheck=False),
                        S("empty", (0, 3), gradcheck=False),
                    ]
                    if is_float(dtype)
                    else [S("ties", _TIES)]
                ),
            ],
            dtypes=FLOATS_AND_INT,
            supports_gradgrad=True,
        )
        for name in ("median", "nanmedian")
    ),
    _entry(
        "mode",
        _samples(MODE_CALLS, zero_d=_MODE_EDGES["zero_d"], empty=[((1,), {})]),
        error_inputs=_selection_errors("mode", (0,)),
        implementations=("compiled", "generic"),
        supports_gradgrad=True,
    ),
    OpInfo(
        "mode.values",
        _values("mode"),
        _samples(MODE_CALLS, ties=_MODE_EDGES["ties"], grad=False),
        dtypes=FLOATS_AND_INT,
        implementations=("compiled", "generic"),
        supports_grad=False,
    ),
]


# ----------------------------------------------------------------------------------------------
# unique, unique_consecutive, searchsorted, bucketize, isin: no gradients
# ----------------------------------------------------------------------------------------------

_REPEATS = np.array([[2.0, 1.0, 1.0, 3.0], [2.0, 1.0, 1.0, 3.0], [0.0, 1.0, 1.0, -1.0], [2.0, 1.0, 1.0, 3.0]])
_NAN_REPEATS = np.array([3.0, np.nan, 1.0, np.nan, 3.0, 1.0, 1.0])
UNIQUE_CALLS = [
    ((), {}),
    ((), {"return_inverse": True}),
    ((), {"return_counts": True}),
    ((), {"sorted": False, "return_inverse": True, "return_counts": True}),
    ((), {"dim": 0, "return_inverse": True, "return_counts": True}),
    ((), {"dim": -1, "return_counts": True}),
    ((), {"dim": 1}),
]


def _unique_samples(calls):
    def samples(dtype):
        out = [S(f"repeats,{_name(a, k)}", _REPEATS, args=a, kwargs=k) for a, k in calls]
        out += [S(f"random,{_name(a, k)}", (4, 3, 2), args=a, kwargs=k) for a, k in calls]
        out += [S(f"0d,{_name(a, k)}", (), args=a, kwargs=k) for a, k in calls[:4]]
        out += [S(f"empty,{_name(a, k)}", (0,), args=a, kwargs=k) for a, k in calls[:4]]
        if is_float(dtype):
            out += [S(f"nan,{_name(a, k)}", _NAN_REPEATS, args=a, kwargs=k) for a, k in calls[:4]]
        return out

    return samples


_UNIQUE_DIM_ERRORS = [
    ErrorInput(S("0d,dim", (), kwargs={"dim": 0}), IndexError, "Dimension specified as 0 but tensor has no dimensions"),
    ErrorInput(
        S("other dim empty", (3, 0, 2), kwargs={"dim": 0}),
        RuntimeError,
        "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied",
    ),
]
_SEQ = np.array([-1.5, -0.5, 0.0, 0.0, 1.0, 2.0])
_SEQ_2D = np.array([[-1.0, 0.0, 0.0, 1.5], [-2.0, -1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 2.0]])
_HITS = np.array([[-1.5, 0.0, 2.0], [1.0, -3.0, 0.0], [0.0, 5.0, -1.0]])  # values equal to boundaries
SEARCH_CALLS = [
    ((), {}),
    ((), {"right": True}),
    ((), {"side": "right"}),
    ((), {"side": "left", "right": False}),
    ((), {"out_int32": True}),
]


def _search_samples(dtype):
    out = []
    for a, k in SEARCH_CALLS:
        out += [
            S(f"1d,{_name(a, k)}", _SEQ, (3, 4), args=a, kwargs=k),
            S(f"1d hits,{_name(a, k)}", _SEQ, _HITS, args=a, kwargs=k),
            S(f"2d hits,{_name(a, k)}", _SEQ_2D, _HITS, args=a, kwargs=k),
            S(f"2d,{_name(a, k)}", _SEQ_2D, (3, 5), args=a, kwargs=k),
        ]
    out += [
        S("empty values", _SEQ, (0,)),
        S("empty sequence", np.zeros(0), (2, 3), kwargs={"right": True}),
        S("0d values", _SEQ, ()),
    ]
    if dtype == "float32":
        out += [
            S("int values", _SEQ, _HITS, dtypes=(None, "int64")),
            S("float64 values", _SEQ, _HITS, dtypes=(None, "float64")),
        ]
    return out


def _search_errors():
    return [
        ErrorInput(
            S("side", (3,), (2,), kwargs={"side": "middle"}),
            RuntimeError,
            "side can only be 'left' or 'right' but got middle",
        ),
        ErrorInput(
            S("side and right", (3,), (2,), kwargs={"side": "left", "right": True}),
            RuntimeError,
            "side and right can't be set to opposites",
        ),
        ErrorInput(
            S("leading dims", (2, 3), (3, 2)),
            RuntimeError,
            "boundaries tensor should be 1 dimension or the "
            "first N-1 dimensions of boundaries tensor and input value tensor must match, but we got "
            "boundaries tensor [2, 3] and input value tensor [3, 2]",
        ),
    ]


_ISIN_TEST = np.array([0.0, 1.0, -2.0, 1.0])


def _isin_samples(dtype):
    calls = [((), {}), ((), {"invert": True}), ((), {"assume_unique": False})]
    out = [S(f"{_name(a, k)}", (3, 4), _ISIN_TEST, args=a, kwargs=k, low=-3, high=3) for a, k in calls]
    out += [
        S("2d test", (3, 4), _SEQ_2D, low=-3, high=3),
        S("unique test", (3, 4), np.array([-1.0, 0.0, 2.0]), kwargs={"assume_unique": True}, low=-3, high=3),
        S("empty", (0, 2), _ISIN_TEST),
        S("empty test", (2, 3), np.zeros(0)),
        S("0d", (), _ISIN_TEST),
    ]
    if is_float(dtype):
        out += [S("nan", _NAN, np.array([np.nan, 0.5, 2.0]))]
    if dtype == "float32":
        out += [S("int elements", _HITS, _SEQ, dtypes=("int64", None))]
    return out


def _scalar_isin(dtype):
    return [
        S("scalar elements", _ISIN_TEST, args=(1,)),
        S("scalar elements,invert", _ISIN_TEST, args=(1.5,), kwargs={"invert": True}),
    ]


SORTING += [
    _entry(
        "unique",
        _unique_samples(UNIQUE_CALLS),
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
        implementations=("counted", "generic"),
        error_inputs=lambda: [
            ErrorInput(S("dim out of range", (2, 3), kwargs={"dim": 2}), IndexError, "Dimension out of range"),
            *_UNIQUE_DIM_ERRORS,
        ],
    ),
    _entry(
        "unique_consecutive",
        _unique_samples([(a, {n: v for n, v in k.items() if n != "sorted"}) for a, k in UNIQUE_CALLS]),
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
        error_inputs=lambda: _UNIQUE_DIM_ERRORS,
    ),
    OpInfo(
        "searchsorted",
        lambda m, seq, values, *args, **kw: m.searchsorted(seq, values, *args, **kw),
        _search_samples,
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
        error_inputs=_search_errors,
    ),
    OpInfo(
        "searchsorted(sorter)",
        lambda m, seq, values, order, **kw: m.searchsorted(seq, values, sorter=order, **kw),
        lambda dtype: [
            S(
                "1d",
                np.array([2.0, -1.0, 0.0, 1.0, 0.0]),
                _HITS,
                np.array([1, 2, 4, 3, 0]),
                dtypes=(None, None, "int64"),
            ),
            S(
                "2d,right",
                np.array([[1.0, -1.0, 0.0], [0.0, 0.0, -2.0], [5.0, 1.0, 2.0]]),
                _HITS,
                np.array([[1, 2, 0], [2, 0, 1], [1, 2, 0]]),
                kwargs={"right": True},
                dtypes=(None, None, "int64"),
            ),
        ],
        supports_grad=False,
        error_inputs=lambda: [
            ErrorInput(
                S("sorter size", (2,), (1,), np.array([1, 0, 2]), dtypes=(None, None, "int64")),
                RuntimeError,
                "boundary and sorter must have the same size, but got boundary tensor [2]and got sorter tensor [3]",
            ),
            ErrorInput(S("float sorter", (2,), (1,), (2,)), RuntimeError, "sorter must be a tensor of long dtype"),
        ],
    ),
    OpInfo(
        "searchsorted(scalar)",
        lambda m, seq, value, **kw: m.searchsorted(seq, value, **kw),
        lambda dtype: [S("0.0", _SEQ, args=(0.0,)), S("1,right", _SEQ, args=(1,), kwargs={"right": True})],
        error_inputs=lambda: [
            ErrorInput(
                S("2d sequence", (1, 2), args=(1.5,)),
                RuntimeError,
                "input value can be a scalar only when "
                "boundaries tensor dimension is 1, but we got boundaries tensor dim(2)",
            )
        ],
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
    ),
    OpInfo(
        "bucketize",
        lambda m, x, boundaries, *args, **kw: m.bucketize(x, boundaries, *args, **kw),
        lambda dtype: [
            S("random", (3, 4), _SEQ),
            S("hits", _HITS, _SEQ),
            S("hits,right", _HITS, _SEQ, kwargs={"right": True}),
            S("out_int32", _HITS, _SEQ, kwargs={"out_int32": True, "right": False}),
            S("0d", (), _SEQ),
            S("empty", (0, 2), _SEQ),
        ],
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
        error_inputs=lambda: [
            ErrorInput(
                S("2d boundaries", (3,), (2, 2)), RuntimeError, "boundaries tensor must be 1 dimension, but got dim(2)"
            )
        ],
    ),
    OpInfo(
        "isin",
        lambda m, e, t, *args, **kw: m.isin(e, t, *args, **kw),
        _isin_samples,
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
    ),
    OpInfo(
        "isin(scalar, t)",
        lambda m, t, e, **kw: m.isin(e, t, **kw),
        _scalar_isin,
        dtypes=FLOATS_AND_INT,
        supports_grad=False,
    ),
]
