"""Op table entries: matmul family."""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, ErrorInput, OpInfo, S, is_float

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
        supports_gradgrad=True,
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
            _mismatch("no batches, inner", (0, 2, 3), (1, 4, 5), "to be: [0, 3] but got: [0, 4]."),
            _mismatch("0d", (), (3,), "both arguments to matmul need to be at least 1D"),
            ErrorInput(S("float32@float64", (3, 4), (4, 2), dtypes=("float32", "float64")), RuntimeError, "expected"),
        ],
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
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
