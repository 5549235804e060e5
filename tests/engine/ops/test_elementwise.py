"""Elementwise ops (``engine/ops/elementwise.py``) beyond the op table: ``out=``, the graph a comparison
leaves, and compositions whose gradients meet (mixed dtypes, ``where`` over a comparison)."""

from __future__ import annotations

import numpy as np
import pytest
from optest import check, check_error

# ----------------------------------------------------------------------------------------------
# compositions: each op is in the table; these check gradients that flow through several of them
# ----------------------------------------------------------------------------------------------

COMPOSITIONS = [
    ("where over a comparison", lambda m, a, b: m.where(a > b, a, b), [(3, 4), (3, 4)], "float32"),
    (
        "where at a tie",
        lambda m, a, b: m.where(a > 0, a, -a),
        [np.array([0.0, 1.0, -1.0], np.float32), (3,)],
        "float32",
    ),
    ("float32 and float64 grads meet", lambda m, a, b: a * b + a, [(3, 4), (4,)], ["float32", "float64"]),
]


@pytest.mark.parametrize("name, fn, inputs, dtype", COMPOSITIONS, ids=[c[0] for c in COMPOSITIONS])
def test_composition(name, fn, inputs, dtype):
    check(fn, inputs, dtype=dtype, gradcheck=False)


def test_comparison_on_requires_grad_tensor_gives_no_grad():
    out = check(lambda m, a, b: a > b, [(3, 4), (3, 4)])
    assert out.grad_fn is None


# ----------------------------------------------------------------------------------------------
# out=
# ----------------------------------------------------------------------------------------------


def test_add_out():
    def fn(m, x, y):
        result = m.empty(3, 4)
        returned = m.add(x, y, out=result)
        assert returned is result
        return result

    check(fn, [(3, 4), (4,)], grad=False, np_fn=np.add)


def test_add_out_with_requires_grad_raises():
    def fn(m, x, y):
        x.requires_grad_(True)
        return m.add(x, y, out=m.empty(3, 4))

    check_error(fn, RuntimeError, "don't support automatic differentiation", [(3, 4), (3, 4)])


@pytest.mark.parametrize("name", ["mul", "sub", "div"])
def test_out_other_ops(name):
    def fn(m, x, y):
        result = m.zeros(3, 4)
        getattr(m, name)(x, y, out=result)
        return result

    check(fn, [(3, 4), (3, 4)], grad=False, positive=True)
