"""Casts (``engine/ops/convert.py``) beyond the op table: a cast to the same dtype is the tensor itself, and
a gradient comes back through a chain of casts in the input's dtype."""

from __future__ import annotations

from optest import check

import engine


def test_cast_to_same_dtype_returns_self():
    x = engine.tensor([1.0, 2.0])
    assert x.to(engine.float32) is x
    assert x.float() is x


def test_cast_gradient_comes_back_in_input_dtype():
    out = check(lambda m, x: (x.double() * 2).half(), [(3, 4)], atol=1e-2, rtol=1e-2)
    assert out.dtype == engine.float16
