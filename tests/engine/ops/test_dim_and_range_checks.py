"""The shared argument checks' fast paths give what their general paths give: ``wrap_dim`` for a plain int
(against its ``numbers.Integral`` path for NumPy integers and bools), and ``out_of_range``'s one unsigned pass
from 0 (against the two-pass search for the offending index, over every signed and unsigned dtype)."""

import re

import numpy as np
import pytest

from engine.ops.reduce import normalize_dims
from engine.ops.scatter import out_of_range
from engine.tensor import wrap_dim


@pytest.mark.parametrize("ndim", [0, 1, 3])
def test_wrap_dim_plain_int_as_numpy_int(ndim):
    n = max(ndim, 1)
    for dim in range(-n - 2, n + 2):
        try:
            expected = wrap_dim(np.int64(dim), ndim)
        except IndexError as e:
            with pytest.raises(IndexError, match=re.escape(str(e))):
                wrap_dim(dim, ndim)
        else:
            assert wrap_dim(dim, ndim) == expected == (dim % n if ndim else 0)
            assert normalize_dims(dim, ndim) == (expected,)
    assert wrap_dim(True, 2) == 1
    with pytest.raises(IndexError, match="Dimension out of range"):
        wrap_dim(1.0, 2)


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"])
def test_out_of_range_finds_the_offending_index(dtype):
    rng = np.random.default_rng(0)
    signed = np.dtype(dtype).kind == "i"
    for _ in range(200):
        values = rng.integers(-3 if signed else 0, 12, int(rng.integers(1, 6)))
        index = values.astype(dtype)
        for low, high in ((0, 10), (0, 0), (-10, 10)):
            bad = [int(v) for v in values if not low <= v < high]
            expected = None if not bad else min(bad) if min(bad) < low else max(bad)
            assert out_of_range(index, low, high) == expected
    assert out_of_range(np.empty(0, dtype), 0, 0) is None
