"""Op table entries: cumulative ops (engine/ops/scan.py), NaN-aware and paired reductions
(engine/ops/reduce_extra.py), counting into bins (engine/ops/histogram.py), and the reductions issue 15 lists
that ``reduce.py`` already had (count_nonzero, var_mean, std_mean)."""

from __future__ import annotations

import numpy as np

from .core import FLOATS, FLOATS_AND_INT, DType, ErrorInput, OpInfo, S, is_float
from .reduce import _function, _method, _name

R = (3, 4, 5)
_TIES = np.array([[1.0, 3.0, 3.0, -1.0, 3.0], [2.0, 2.0, 2.0, 2.0, 2.0], [0.5, -4.0, 0.5, -4.0, 7.0]])
_NANS = np.array([[1.0, np.nan, 3.0, np.nan, 2.0], [np.nan, 0.5, -1.0, 4.0, np.nan], [1.0, 2.0, 3.0, 4.0, 5.0]])
_ALL_NAN_COL = np.array([[1.0, np.nan, 3.0], [np.nan, np.nan, 2.0]])
_BIG_NANS = np.where(np.arange(10000).reshape(100, 100) % 7 == 3, np.nan, np.sin(np.arange(10000.0)).reshape(100, 100))
_ZEROS = np.array([[2.0, 0.0, 3.0, 0.0, 1.5], [0.0, 1.2, 0.7, 1.1, 0.9], [1.3, 0.8, 1.1, 0.6, 0.0]])
_DIM_OUT_OF_RANGE = [ErrorInput(S("dim out of range", (2, 3), args=(2,)), IndexError, "Dimension out of range")]


def _both(name, samples, **options):
    """Called as a function (``torch.cumsum(x, 1)``); the method is the variant."""
    return OpInfo(name, _function(name), samples, variants={"method": _method(name)}, **options)


def _dim_samples(*, floats=(), ints=(), **options):
    """One dim at a time, negative and 0-d included; ``floats`` for floating dtypes, ``ints`` (samples with
    their own dtypes) with the float32 run."""

    def samples(dtype):
        out = [S(f"dim={d}", R, args=(d,), **options) for d in (0, 1, 2, -1, -3)]
        out += [S("0d,dim=0", (), args=(0,), **options), S("0d,dim=-1", (), args=(-1,), **options)]
        out += [S("empty,dim=0", (0, 3), args=(0,)), S("empty,dim=1", (0, 3), args=(1,))]
        out.append(S("long row", (2, 37), args=(1,), **options))
        if is_float(dtype):
            out += floats
        if dtype == "float32":
            out += ints
        return out

    return samples


def _own_dtype(in_dtype, *args, low=0, high=3, **kwargs):
    return S(f"{in_dtype},{_name(args, kwargs)}", (3, 4), args=args, kwargs=kwargs, dtypes=(in_dtype,), low=low,
             high=high)


_SCAN_IMPLEMENTATIONS = ("accumulate", "doubling")
_RUNNING_IMPLEMENTATIONS = ("numba", "generic")
# Large enough for the compiled cumsum/cumprod (values about 1, so that products of 80 stay in range).
_COMPILED_SIZE = [S(f"64x80,{d}", (64, 80), args=(d,), low=0.5, high=1.5, gradcheck=False) for d in (1, 0)]
_INT_CASES = [_own_dtype("int32", 1), _own_dtype("uint8", 0), _own_dtype("bool", 1), _own_dtype("int64", -1)]

SCAN = [
    _both(
        "cumsum",
        _dim_samples(
            floats=[S("nan,1", _NANS, args=(1,), gradcheck=False), S("dtype=float64", R, args=(1,),
                                                                    kwargs={"dtype": DType("float64")}),
                    *_COMPILED_SIZE],
            ints=[*_INT_CASES, _own_dtype("int32", 0, dtype=DType("float32")), _own_dtype("int64", 1,
                                                                                        dtype=DType("int32"))],
        ),
        error_inputs=lambda: _DIM_OUT_OF_RANGE,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        implementations=_RUNNING_IMPLEMENTATIONS,
    ),
    _both(
        "cumprod",
        _dim_samples(
            floats=[
                S("zeros,1", _ZEROS, args=(1,)),
                S("zeros,0", _ZEROS, args=(0,)),
                S("zeros,-1", _ZEROS, args=(-1,)),
                S("dtype=float64", R, args=(0,), kwargs={"dtype": DType("float64")}, low=0.5, high=1.5),
                *_COMPILED_SIZE,
                S("zeros 90x100,1", np.tile(_ZEROS, (30, 20)), args=(1,), gradcheck=False),
                S("zeros 90x100,0", np.tile(_ZEROS, (30, 20)), args=(0,), gradcheck=False),
            ],
            ints=_INT_CASES,
            low=0.5,
            high=1.5,
        ),
        error_inputs=lambda: _DIM_OUT_OF_RANGE,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
        implementations=_RUNNING_IMPLEMENTATIONS,
    ),
    *(
        _both(
            name,
            _dim_samples(
                floats=[
                    S("ties,1", _TIES, args=(1,), gradcheck=False),
                    S("ties,0", _TIES, args=(0,), gradcheck=False),
                    S("nan,1", _NANS, args=(1,), gradcheck=False),
                    S("nan,0", _NANS, args=(0,), gradcheck=False),
                ],
                ints=_INT_CASES,
            ),
            error_inputs=lambda: _DIM_OUT_OF_RANGE,
            dtypes=FLOATS_AND_INT,
            implementations=("numba", *_SCAN_IMPLEMENTATIONS),
            supports_gradgrad=True,
        )
        for name in ("cummax", "cummin")
    ),
    _both(
        "logcumsumexp",
        _dim_samples(
            floats=[
                S("large,1", np.array([[1e4, -1e4, 1e4 - 1, 3.0], [-1e4, -1e4 + 2, 0.0, -3e4]]), args=(1,),
                  gradcheck=False, atol=1e-3),
                S("-inf first,0", np.array([-np.inf, 0.0, -1000.0, 2.0]), args=(0,), gradcheck=False),
                S("nan,1", _NANS, args=(1,), gradcheck=False),
                S("infinities,1", np.array([[np.inf, -np.inf, 0.0, np.inf], [-np.inf, -np.inf, 1.0, 2.0]]),
                  args=(1,), gradcheck=False),
                S("rows of 4 and more,0", (9, 5), args=(0,)),
            ],
        ),
        error_inputs=lambda: [
            *_DIM_OUT_OF_RANGE,
            ErrorInput(S("int64", (3,), args=(0,), dtypes=("int64",)), NotImplementedError,
                       "not implemented for 'Long'"),
        ],
        implementations=("numba", *_SCAN_IMPLEMENTATIONS),
        supports_gradgrad=True,
    ),
    *(
        OpInfo(
            name,
            lambda m, x, *args, name=name, **kw: getattr(x * 1, name)(*args, **kw),
            lambda dtype, name=name: [
                S("dim=1", R, args=(1,), low=0.5, high=1.5),
                S("dim=-1", R, args=(-1,), low=0.5, high=1.5),
                S("0d", (), args=(0,)),
                S("empty", (0, 3), args=(1,)),
                S("dtype=own", R, args=(0,), kwargs={"dtype": DType(dtype)}, low=0.5, high=1.5),
                *([_own_dtype("int32", 0)] if dtype == "float32" else []),
            ],
            error_inputs=lambda: [
                *_DIM_OUT_OF_RANGE,
                ErrorInput(S("dtype=float64", (3,), args=(0,), kwargs={"dtype": DType("float64")}), RuntimeError,
                           "Bad in-place call: input tensor dtype float and output tensor dtype double should match"),
            ],
            supports_gradgrad=True,
        )
        for name in ("cumsum_", "cumprod_")
    ),
]



def _on_views(m, x, dim):
    """Each scan of a transposed (non-contiguous) view."""
    v = x.transpose(0, 1)
    return (m.cumsum(v, dim), m.cumprod(v, dim), m.cummax(v, dim).values, m.cummin(v, dim).indices,
            m.logcumsumexp(v, dim), m.nansum(v, dim))


SCAN.append(
    OpInfo(
        "scans of a view",
        _on_views,
        lambda dtype: [S(f"dim={d}", (4, 3, 2), args=(d,), low=0.5, high=1.5) for d in (0, 1, -1)],
        supports_gradgrad=True,
    )
)

_NAN_DIMS = [{}, {"dim": 0}, {"dim": 1}, {"dim": -1}, {"dim": (0, 1)}, {"dim": 1, "keepdim": True}]


def _nan_samples(dtype):
    out = [S(f"random,{_name((), k)}", (3, 4), kwargs=k) for k in _NAN_DIMS]
    out += [S("0d", ()), S("empty,dim=1", (0, 3), kwargs={"dim": 1})]
    if is_float(dtype):
        out += [S(f"nan,{_name((), k)}", _NANS, kwargs=k, gradcheck=False) for k in _NAN_DIMS]
        out.append(S("all-nan column,dim=0", _ALL_NAN_COL, kwargs={"dim": 0}, gradcheck=False))
        out.append(S("dtype=float64", _NANS, kwargs={"dim": 1, "dtype": DType("float64")}, gradcheck=False))
        out += [S(f"nan 100x100,{_name((), k)}", _BIG_NANS, kwargs=k, gradcheck=False)  # numba's size
                for k in ({}, {"dim": 1}, {"dim": 0, "keepdim": True})]
    return out


REDUCE_EXTRA = [
    _both(
        "nansum",
        lambda dtype: [
            *_nan_samples(dtype),
            *([_own_dtype("int32"), _own_dtype("bool", dim=0), _own_dtype("uint8", dim=1, keepdim=True)]
              if dtype == "float32" else []),
        ],
        error_inputs=lambda: [ErrorInput(S("dim out of range", (2, 3), kwargs={"dim": 2}), IndexError,
                                         "Dimension out of range")],
        dtypes=FLOATS_AND_INT,
        implementations=("numba", "sum_first", "masked"),
        supports_gradgrad=True,
    ),
    _both(
        "nanmean",
        _nan_samples,
        error_inputs=lambda: [
            ErrorInput(S("int64", (3,), dtypes=("int64",)), RuntimeError,
                       "nanmean(): expected input to have floating point or complex dtype but got Long"),
        ],
        implementations=("numba", "masked"),
        supports_gradgrad=True,
    ),
    _both(
        "aminmax",
        lambda dtype: [
            *(S(f"random,{_name((), k)}", R, kwargs=k) for k in
              ({}, {"dim": 0}, {"dim": -1}, {"dim": 1, "keepdim": True}, {"keepdim": True})),
            S("0d", ()),
            S("0d,dim=0", (), kwargs={"dim": 0}),
            S("empty rows,dim=1", (0, 3), kwargs={"dim": 1}),
            *([S("ties", _TIES, gradcheck=False), S("ties,dim=1", _TIES, kwargs={"dim": 1}, gradcheck=False),
               S("nan,dim=1", _NANS, kwargs={"dim": 1}, gradcheck=False)] if is_float(dtype) else []),
            *([_own_dtype("bool"), _own_dtype("int32", dim=0)] if dtype == "float32" else []),
        ],
        error_inputs=lambda: [
            ErrorInput(S("empty", (0, 3)), RuntimeError, "aminmax(): cannot compute aminmax over an empty dimension"),
            ErrorInput(S("empty dim", (0, 3), kwargs={"dim": 0}), IndexError,
                       "aminmax: Expected reduction dim 0 to have non-zero size."),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    ),
    _both(
        "count_nonzero",
        lambda dtype: [
            S("all", np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -3.0]])),
            S("dim=1", np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -3.0]]), kwargs={"dim": 1}),
            S("dim=(0,-1)", np.array([[0.0, 1.0, 2.0], [0.0, 0.0, -3.0]]), kwargs={"dim": (0, -1)}),
            S("0d", np.array(0.0)),
            S("empty,dim=0", (0, 3), kwargs={"dim": 0}),
            *([_own_dtype("bool", dim=-1)] if dtype == "float32" else []),
        ],
        error_inputs=lambda: [ErrorInput(S("dim out of range", (2, 3), kwargs={"dim": 2}), IndexError,
                                         "Dimension out of range")],
        supports_grad=False,
        dtypes=FLOATS_AND_INT,
    ),
    *(
        OpInfo(
            name,
            _function(name),
            lambda dtype: [
                S("all", R),
                S("dim=1", R, args=(1,)),
                S("dim=1,keepdim", R, args=(1, True)),
                S("dim=(0,2),unbiased=False", R, kwargs={"dim": (0, 2), "unbiased": False}),
                S("dim=1,correction=0", R, kwargs={"dim": 1, "correction": 0}),
                S("dim=-1,correction=2,keepdim", R, kwargs={"dim": -1, "correction": 2, "keepdim": True}),
                S("unbiased positional", R, args=(False,), gradcheck=False),
            ],
            error_inputs=lambda name=name: [
                ErrorInput(S("dim out of range", (2, 3), kwargs={"dim": 3}), IndexError, "Dimension out of range"),
                ErrorInput(S("int input", (2, 3), dtypes=("int64",)), RuntimeError,
                           f"{name} only support floating point and complex dtypes")],
            supports_gradgrad=True,
        )
        for name in ("var_mean", "std_mean")
    ),
]

_COUNTS = np.array([0, 2, 2, 5, 1, 2, 0])
HISTOGRAM = [
    OpInfo(
        "bincount",
        _function("bincount"),
        lambda dtype: [
            S("plain", _COUNTS),
            S("minlength=10", _COUNTS, kwargs={"minlength": 10}),
            S("minlength=2", _COUNTS, kwargs={"minlength": 2}),
            S("empty", np.zeros(0)),
            S("empty,minlength=3", np.zeros(0), kwargs={"minlength": 3}),
            S("weights", _COUNTS, np.linspace(-1, 2, 7), dtypes=(None, "float32")),
            S("weights float64,minlength=8", _COUNTS, np.linspace(-1, 2, 7), dtypes=(None, "float64"),
              kwargs={"minlength": 8}),
            S("int weights", _COUNTS, np.arange(7), dtypes=(None, "int64")),
            S("int32", _COUNTS, dtypes=("int32",)),
            S("uint8", _COUNTS, dtypes=("uint8",)),
        ],
        variants={"method": _method("bincount")},
        error_inputs=lambda: [
            ErrorInput(S("negative", np.array([-1, 2]), dtypes=("int64",)), RuntimeError,
                       "bincount only supports 1-d non-negative integral inputs."),
            ErrorInput(S("2-d", np.array([[1, 2]]), dtypes=("int64",)), RuntimeError,
                       "bincount only supports 1-d non-negative integral inputs."),
            ErrorInput(S("float", (3,)), NotImplementedError, "not implemented for 'Float'"),
            ErrorInput(S("minlength=-1", np.array([1]), dtypes=("int64",), kwargs={"minlength": -1}),
                       RuntimeError, "minlength should be >= 0"),
            ErrorInput(S("weights length", np.array([1, 2]), np.ones(3), dtypes=("int64", "float32")),
                       RuntimeError, "weights should be 1-d and have the same length as input"),
        ],
        dtypes=("int64",),
        supports_grad=False,
    ),
    _both(
        "histc",
        lambda dtype: [
            S("default", (50,)),
            S("bins=7", (200,), kwargs={"bins": 7}),
            S("bins=10,min=-1,max=1.5", (4, 50), kwargs={"bins": 10, "min": -1, "max": 1.5}),
            S("edges", np.array([0.0, 0.5, 1.0, 1.5, 2.0, 3.0, -0.1]), kwargs={"bins": 4, "min": 0, "max": 2}),
            S("constant", np.array([1.0, 1.0]), kwargs={"bins": 3}),
            S("empty", (0,), kwargs={"bins": 4}),
            S("0d", (), kwargs={"bins": 5}),
            S("nan and inf in range", np.array([np.nan, 1.0, np.inf, 0.2]), kwargs={"bins": 4, "min": 0, "max": 1}),
            S("300x40,bins=37,min=-1.3,max=2.1", (300, 40), kwargs={"bins": 37, "min": -1.3, "max": 2.1}),
        ],
        error_inputs=lambda: [
            ErrorInput(S("int64", np.array([1, 2]), dtypes=("int64",)), NotImplementedError,
                       "not implemented for 'Long'"),
            ErrorInput(S("bins=0", (3,), kwargs={"bins": 0}), RuntimeError, "bins must be > 0"),
            ErrorInput(S("min>max", (3,), kwargs={"min": 3, "max": 1}), RuntimeError,
                       "torch.histc: max must be larger than min"),
            ErrorInput(S("nan range", np.array([1.0, np.nan])), RuntimeError, "is not finite"),
            ErrorInput(S("inf range", np.array([1.0, np.inf])), RuntimeError,
                       "torch.histc: range of [1, inf] is not finite"),
        ],
        dtypes=FLOATS,
        supports_grad=False,
        implementations=("numba", "generic"),
    ),
]
