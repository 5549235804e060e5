"""Op table entries: convert family."""

from __future__ import annotations

import numpy as np

from .core import FLOATS_AND_INT, DType, OpInfo, S, is_float

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
    return OpInfo(
        name, lambda m, x: getattr(x, name)(), _cast_samples(()), supports_gradgrad=True, dtypes=FLOATS_AND_INT
    )


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
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
    OpInfo(
        "clone",
        lambda m, x: m.clone(x),
        lambda dtype: [S("3x4", (3, 4)), S("0d", ()), S("empty", (0, 2))],
        variants={"method": lambda m, x: x.clone()},
        ref=np.copy,
        supports_gradgrad=True,
        dtypes=FLOATS_AND_INT,
    ),
]
