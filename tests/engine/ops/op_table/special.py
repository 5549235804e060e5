"""Op table entries: the error function family (engine/ops/special.py, ``torch.special``)."""

from __future__ import annotations

import math

import numpy as np

from .core import FLOATS_AND_INT, OpInfo, S, _a, is_float

_TAILS = _a(-30.0, -6.0, -3.5, -1.0, -1e-20, 0.0, 0.5, 1.0, 3.5, 6.0, 9.0, 26.0, 30.0, np.inf, -np.inf, np.nan)
_EDGES = _a(-1.0, -0.9999999, -0.5, -1e-20, 0.0, 0.25, 0.999, 1.0 - 1e-12, 1.0, 1.5, -2.0, np.nan)


def _samples(*, low, high, specials):
    def samples(dtype):
        out = [S(name, shape, low=low, high=high) for name, shape in (("4x5", (4, 5)), ("3x2", (3, 2)), ("0d", ()))]
        out.append(S("empty", (0, 3), low=low, high=high))
        if is_float(dtype):
            out.append(S("specials", specials, gradcheck=False))
        else:
            out.append(S("ints", np.array([-2, -1, 0, 1, 2]), grad=False))
        if dtype == "float32":  # half precision computes in float32, as PyTorch's CPU kernels do
            half = {"dtypes": ("float16",), "grad": False, "atol": 1e-3, "rtol": 1e-3}
            out += [S("float16", (4, 5), low=low, high=high, **half), S("float16 specials", specials, **half)]
        return out

    return samples


def _entry(name, ref, *, low=-3, high=3, specials=_TAILS):
    return OpInfo(
        name,
        lambda m, x: getattr(m, name)(x),
        _samples(low=low, high=high, specials=specials),
        variants={
            "method": lambda m, x: getattr(x, name)(),
            "special": lambda m, x: getattr(m.special, name)(x),
            "in place": lambda m, x: getattr(x * 1, f"{name}_")(),
        },
        ref=ref,
        dtypes=FLOATS_AND_INT,
        supports_gradgrad=True,
    )


SPECIAL = [
    _entry("erf", np.vectorize(math.erf, otypes=[float])),
    _entry("erfc", np.vectorize(math.erfc, otypes=[float])),
    _entry("erfinv", None, low=-0.95, high=0.95, specials=_EDGES),
]

__all__ = ["SPECIAL"]
