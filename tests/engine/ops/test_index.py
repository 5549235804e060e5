"""Indexing (``engine/ops/index.py``) beyond the op table (``__getitem__``/``__setitem__`` entries): masks
computed from the values, chained indexing, index and mask tensors as inputs, view-vs-copy semantics,
writes into tensors that need no grad, and the gradient flow of writes that chain views or repeat."""

from __future__ import annotations

import numpy as np
import pytest
from op_table import OPS
from optest import check, check_error

import engine

SHAPE = (4, 5, 3)

# Indices are in the op table (``__getitem__``); these depend on the values of x or chain two indexings.
GETITEM = [
    ("x[x>0]", lambda m, x: x[x > 0]),
    ("x[:,x[0,:,0]>0]", lambda m, x: x[:, x[0, :, 0] > 0]),
    ("x[mask2d]", lambda m, x: x[x.sum(-1) > 0]),
    ("x[all-false mask]", lambda m, x: x[x > 100]),
    ("x[x>100] grad", lambda m, x: x[x > 100] * 2),
    ("x[1][2]", lambda m, x: x[1][2]),
    ("x[:,1][[0,0,2]]", lambda m, x: x[:, 1][[0, 0, 2]]),
    ("x.t()-like then index", lambda m, x: x.transpose(0, 2)[1, ::2]),
]


@pytest.mark.parametrize("name, fn", GETITEM, ids=[o[0] for o in GETITEM])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_getitem(name, fn, dtype):
    check(fn, [SHAPE], dtype=dtype, grad=dtype == "float32", gradcheck=False)


def test_getitem_0d_mask():
    check(lambda m, x: x[x > 0], [()])


def test_getitem_with_index_tensor_input():
    idx = np.array([3, 0, 3, 3], dtype=np.int64)
    check(lambda m, x, i: x[i], [SHAPE, idx])
    check(lambda m, x, i: x[:, i], [SHAPE, idx])
    check(lambda m, x, i: x[i, i], [SHAPE, idx])


def test_getitem_with_mask_tensor_input():
    mask = np.array([[True, False, True, False, False]] * 4)
    check(lambda m, x, k: x[k], [SHAPE, mask])
    check(lambda m, x, k: x[k[0]], [(5, 2), mask])


def test_basic_index_is_view_advanced_is_copy():
    def fn(m, x):
        x = x.clone()
        v = x[1:3]
        v[0, 0] = 100.0
        c = x[[1, 2]]
        c[1, 1] = -100.0
        b = x[x > 50]
        b[0] = 7.0
        return x

    check(fn, [SHAPE], grad=False)


# ----------------------------------------------------------------------------------------------
# __setitem__
# ----------------------------------------------------------------------------------------------


def _setitem_table_samples(keep):
    op = next(op for op in OPS if op.name == "__setitem__")
    return [pytest.param(s, id=s.name) for s in op.samples("float32") if keep(s)]


@pytest.mark.parametrize("sample", _setitem_table_samples(lambda s: "const" in s.kwargs))
def test_setitem_constant_into_input_without_grad(sample):
    """The table's constant writes, made in place on the input itself (a leaf that needs no grad)."""

    def fn(m, x):
        x[sample.kwargs["index"]] = sample.kwargs["const"]
        return x

    check(fn, [SHAPE], grad=False)


# writes whose index or value depends on the values (masks) or transforms the value on the way in
SETITEM = [
    ("y[0]=w*2", lambda m, y, w: y.__setitem__(0, w * 2), (5, 3)),
    ("y[-1]=w.exp()", lambda m, y, w: y.__setitem__(-1, w.exp()), (5, 3)),
    ("y[x>0]=w", lambda m, y, w: y.__setitem__(y > 0, w), ()),
    ("y[y>0]=0", lambda m, y, w: y.__setitem__(y > 0, 0.0), None),
    ("y[y<0]=-y[y<0]", lambda m, y, w: y.__setitem__(y < 0, -y[y < 0]), None),
    ("y[mask row]=2", lambda m, y, w: y.__setitem__(y[:, 0, 0] > 0, 2.0), None),
]


@pytest.mark.parametrize("name, set_fn, w_shape", SETITEM, ids=[o[0] for o in SETITEM])
def test_setitem_composition(name, set_fn, w_shape):
    def fn(m, x, w=None):
        y = x * 1
        set_fn(m, y, w)
        return y

    check(fn, [SHAPE] if w_shape is None else [SHAPE, w_shape])


def test_setitem_mask_on_plain_tensor():
    x = engine.tensor([[-1.0, 2.0], [3.0, -4.0]])
    x[x > 0] = 0
    np.testing.assert_array_equal(x.numpy(), [[-1.0, 0.0], [0.0, -4.0]])


def test_setitem_value_into_no_grad_tensor_makes_it_require_grad():
    def fn(m, w):
        y = m.zeros(4, 3)
        y[1] = w * 2
        y[2:, 0] = w[0]
        return y

    out = check(fn, [(3,)])
    assert out.requires_grad


def test_setitem_twice_same_place_only_last_value_gets_grad():
    def fn(m, x, a, b):
        y = x * 1
        y[0] = a
        y[0] = b
        return y

    check(fn, [(3, 4), (4,), (4,)])


def test_setitem_through_chained_views():
    def fn(m, x, w):
        y = x * 1
        y[1][2] = w
        y[:, 0][3] = w * 2
        return y * y

    check(fn, [SHAPE, (3,)])


def test_setitem_then_use_old_value_saved_by_op():
    def fn(m, x, w):
        y = x * 1
        z = y * 2  # saves nothing from y that setitem breaks
        y[0] = w
        return z + y

    check(fn, [(3, 4), (4,)])


def test_setitem_bumps_version():
    x = engine.zeros(3)
    v0 = x._version
    x[0] = 1.0
    assert x._version > v0


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------


def test_setitem_on_leaf_requiring_grad_raises():
    check_error(
        lambda m, x: x.requires_grad_().__setitem__(0, 1.0),
        RuntimeError,
        "a leaf Variable that requires grad is being used in an in-place operation",
        [SHAPE],
    )
