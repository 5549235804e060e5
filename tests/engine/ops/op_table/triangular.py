"""Op table entries: triangles and diagonals (engine/ops/triangular.py)."""

from __future__ import annotations

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S


def _samples(*samples):
    return lambda dtype: list(samples)


def _op(name, samples, errors=(), method=True):
    """``m.name(x, ...)``, with the ``x.name(...)`` spelling as a variant."""
    variants = {"method": lambda m, x, *a, **k: getattr(x, name)(*a, **k)} if method else {}
    return OpInfo(
        name,
        lambda m, x, *a, **k: getattr(m, name)(x, *a, **k),
        samples,
        variants=variants,
        error_inputs=lambda: errors,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    )


def _inplace(name):
    """``x.name_(...)`` on a copy (a leaf cannot change in place), returned."""
    return OpInfo(
        name + "_",
        lambda m, x, *a, **k: getattr(x.clone(), name + "_")(*a, **k),
        _samples(
            S("3x4", (3, 4)), S("k=-1 batch", (2, 3, 3), args=(-1,)), S("diagonal=2", (4, 3), kwargs={"diagonal": 2})
        ),
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    )


def _err(name, shape, args, exc, match, **kwargs):
    return ErrorInput(S(name, shape, args=args, **kwargs), exc, match)


_TRI_SAMPLES = _samples(
    S("3x4", (3, 4)),
    S("4x3 k=1", (4, 3), args=(1,)),
    S("k=-2", (4, 4), args=(-2,)),
    S("k beyond", (3, 4), args=(7,)),
    S("k below", (3, 4), args=(-9,)),
    S("batched", (2, 3, 4), kwargs={"diagonal": -1}),
    S("empty", (0, 3)),
    S("empty batch", (0, 2, 2)),
)

TRIANGULAR = [
    _op("tril", _TRI_SAMPLES, [_err("1d", (3,), (), RuntimeError, "tril: input tensor must have at least 2")]),
    _op("triu", _TRI_SAMPLES, [_err("0d", (), (), RuntimeError, "triu: input tensor must have at least 2")]),
    _inplace("tril"),
    _inplace("triu"),
    _op(
        "diagonal",
        _samples(
            S("3x4", (3, 4)),
            S("offset 1", (3, 4), args=(1,)),
            S("offset -2", (4, 3), args=(-2,)),
            S("offset beyond", (3, 4), args=(5,)),
            S("offset below", (3, 4), args=(-5,)),
            S("3d dims 0,2", (3, 2, 4), kwargs={"offset": 1, "dim1": 0, "dim2": 2}),
            S("3d dims -1,-3", (3, 2, 4), kwargs={"dim1": -1, "dim2": -3}),
            S("4d dims 1,3", (2, 3, 2, 3), args=(0, 1, 3)),
            S("empty", (0, 3)),
        ),
        [
            _err("same dims", (3, 3), (0, 1, 1), RuntimeError, "diagonal dimensions cannot be identical 1, 1"),
            _err("1d", (3,), (), IndexError, "Dimension out of range"),
        ],
    ),
    _op(
        "diag_embed",
        _samples(
            S("1d", (3,)),
            S("2d", (2, 3)),
            S("offset 1", (2, 3), args=(1,)),
            S("offset -2 dims 0,2", (2, 3), kwargs={"offset": -2, "dim1": 0, "dim2": 2}),
            S("dims 2,0", (2, 3), kwargs={"dim1": 2, "dim2": 0}),
            S("empty", (0, 2)),
        ),
        [
            _err("0d", (), (), IndexError, "Dimension out of range"),
            _err("same dims", (2, 3), (0, 1, 1), RuntimeError, "diagonal dimensions cannot be identical"),
        ],
    ),
    _op(
        "diag",
        _samples(
            S("1d", (3,)),
            S("1d offset 2", (3,), args=(2,)),
            S("1d offset -1", (3,), args=(-1,)),
            S("2d", (3, 4)),
            S("2d offset 1", (3, 4), kwargs={"diagonal": 1}),
            S("2d offset -2", (4, 3), args=(-2,)),
            S("empty 1d", (0,)),
        ),
        [
            _err("3d", (2, 2, 2), (), RuntimeError, "diag(): Supports 1D or 2D tensors. Got 3D"),
            _err("0d", (), (), RuntimeError, "diag(): Supports 1D or 2D tensors. Got 0D"),
        ],
    ),
    _op(
        "diagflat",
        _samples(
            S("1d", (3,)),
            S("2d offset 1", (2, 2), args=(1,)),
            S("offset -2", (3,), kwargs={"offset": -2}),
            S("0d", ()),
            S("empty", (0,)),
        ),
    ),
    _op(
        "trace",
        _samples(S("3x3", (3, 3)), S("2x4", (2, 4)), S("4x2", (4, 2)), S("empty", (0, 3))),
        [_err("1d", (3,), (), RuntimeError, "trace: expected a matrix, but got tensor with dim 1")],
    ),
]
