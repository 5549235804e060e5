"""Indexing against PyTorch: ``__getitem__`` with ints, slices, steps, negative indices, ``...``,
``None``, integer arrays (lists and LongTensors, repeated so gradients must accumulate), boolean
masks and mixtures; ``__setitem__`` with scalars, tensors, broadcasting and masks, and the gradient
flow through it into both the target and the value; view-vs-copy semantics; errors."""

from __future__ import annotations

import numpy as np
import pytest
from optest import check, check_error

import engine

SHAPE = (4, 5, 3)

GETITEM = [
    # basic indexing
    ("x[1]", lambda m, x: x[1]),
    ("x[-1]", lambda m, x: x[-1]),
    ("x[1,2]", lambda m, x: x[1, 2]),
    ("x[1,2,0] 0d", lambda m, x: x[1, 2, 0]),
    ("x[-1,-2,-3]", lambda m, x: x[-1, -2, -3]),
    ("x[1:3]", lambda m, x: x[1:3]),
    ("x[::2]", lambda m, x: x[::2]),
    ("x[1::2,::3]", lambda m, x: x[1::2, ::3]),
    ("x[:,1:4:2]", lambda m, x: x[:, 1:4:2]),
    ("x[-3:-1]", lambda m, x: x[-3:-1]),
    ("x[:-1,-2:]", lambda m, x: x[:-1, -2:]),
    ("x[10:] empty", lambda m, x: x[10:]),
    ("x[2:1] empty", lambda m, x: x[2:1]),
    ("x[-100:100]", lambda m, x: x[-100:100]),
    ("x[...]", lambda m, x: x[...]),
    ("x[...,1]", lambda m, x: x[..., 1]),
    ("x[1,...]", lambda m, x: x[1, ...]),
    ("x[1,...,2]", lambda m, x: x[1, ..., 2]),
    ("x[None]", lambda m, x: x[None]),
    ("x[...,None]", lambda m, x: x[..., None]),
    ("x[:,None,:,None]", lambda m, x: x[:, None, :, None]),
    ("x[None,...,0]", lambda m, x: x[None, ..., 0]),
    ("x[1,None,2:]", lambda m, x: x[1, None, 2:]),
    ("x[0-d LongTensor]", lambda m, x: x[m.tensor(2)]),
    # advanced integer indexing
    ("x[[0,2,2]]", lambda m, x: x[[0, 2, 2]]),
    ("x[LongTensor [0,2,0]]", lambda m, x: x[m.tensor([0, 2, 0])]),
    ("x[LongTensor negative]", lambda m, x: x[m.tensor([-1, 0, -1])]),
    ("x[[0,1],[1,2]]", lambda m, x: x[[0, 1], [1, 2]]),
    ("x[[1,1,1],[2,2,0],[0,0,0]]", lambda m, x: x[[1, 1, 1], [2, 2, 0], [0, 0, 0]]),
    ("x[2d index]", lambda m, x: x[m.tensor([[0, 1], [3, 3]])]),
    ("x[:,[0,0,3]]", lambda m, x: x[:, [0, 0, 3]]),
    ("x[...,[2,0,2]]", lambda m, x: x[..., [2, 0, 2]]),
    ("x[1:,[0,2]]", lambda m, x: x[1:, [0, 2]]),
    ("x[[0,2],:,[1,1]] separated", lambda m, x: x[[0, 2], :, [1, 1]]),
    ("x[:,[[0],[4]],[1,2]] broadcast", lambda m, x: x[:, [[0], [4]], [1, 2]]),
    ("x[[0,3],None]", lambda m, x: x[[0, 3], None]),
    # mixed int / slice / advanced
    ("x[0,[1,2]]", lambda m, x: x[0, [1, 2]]),
    ("x[[0,1],1:3,2]", lambda m, x: x[[0, 1], 1:3, 2]),
    ("x[1,:,[0,0]]", lambda m, x: x[1, :, [0, 0]]),
    ("x[-1,[0,4],1:]", lambda m, x: x[-1, [0, 4], 1:]),
    # boolean masks
    ("x[x>0]", lambda m, x: x[x > 0]),
    ("x[:,x[0,:,0]>0]", lambda m, x: x[:, x[0, :, 0] > 0]),
    ("x[bool list]", lambda m, x: x[[True, False, True, True]]),
    ("x[BoolTensor, 1]", lambda m, x: x[m.tensor([True, False, True, True]), 1]),
    ("x[..., mask3]", lambda m, x: x[..., m.tensor([False, True, True])]),
    ("x[mask2d]", lambda m, x: x[x.sum(-1) > 0]),
    ("x[all-false mask]", lambda m, x: x[x > 100]),
    ("x[True]", lambda m, x: x[True]),
    # chained
    ("x[1][2]", lambda m, x: x[1][2]),
    ("x[:,1][[0,0,2]]", lambda m, x: x[:, 1][[0, 0, 2]]),
    ("x.t()-like then index", lambda m, x: x.transpose(0, 2)[1, ::2]),
]


@pytest.mark.parametrize("name, fn", GETITEM, ids=[o[0] for o in GETITEM])
def test_getitem(name, fn):
    check(fn, [SHAPE])


@pytest.mark.parametrize("name, fn", GETITEM, ids=[o[0] for o in GETITEM])
def test_getitem_int64(name, fn):
    check(fn, [SHAPE], dtype="int64", grad=False)


def test_getitem_with_index_tensor_input():
    idx = np.array([3, 0, 3, 3], dtype=np.int64)
    check(lambda m, x, i: x[i], [SHAPE, idx])
    check(lambda m, x, i: x[:, i], [SHAPE, idx])
    check(lambda m, x, i: x[i, i], [SHAPE, idx])


def test_getitem_with_mask_tensor_input():
    mask = np.array([[True, False, True, False, False]] * 4)
    check(lambda m, x, k: x[k], [SHAPE, mask])
    check(lambda m, x, k: x[k[0]], [(5, 2), mask])


def test_getitem_1d_and_0d():
    check(lambda m, x: x[3], [(6,)])
    check(lambda m, x: x[[5, 5, 0]], [(6,)])
    check(lambda m, x: x[None], [()])
    check(lambda m, x: x[...], [()])
    check(lambda m, x: x[x > 0], [()])


EMPTY_INDEX = [
    ("x[[]]", lambda m, x: x[[]]),
    ("x[:,[]]", lambda m, x: x[:, []]),
    ("x[empty LongTensor]", lambda m, x: x[m.tensor([], dtype=m.int64)]),
    ("x[2:2]", lambda m, x: x[2:2]),
    ("x[False]", lambda m, x: x[False]),
    ("x[x>100] grad", lambda m, x: x[x > 100] * 2),
]


@pytest.mark.parametrize("name, fn", EMPTY_INDEX, ids=[o[0] for o in EMPTY_INDEX])
def test_getitem_empty_results(name, fn):
    check(fn, [SHAPE], gradcheck=False)


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


def _set(index, value):
    """``y = x * 1; y[index] = value(m, w); return y`` as a check-able fn of (m, x, w)."""

    def fn(m, x, w):
        y = x * 1
        y[index] = value(m, w)
        return y

    return fn


SETITEM = [
    # name, fn(m, x, w), shape of w
    ("y[0]=w*2", _set(0, lambda m, w: w * 2), (5, 3)),
    ("y[0]=w bcast", _set(0, lambda m, w: w), (3,)),
    ("y[:,1]=w", _set((slice(None), 1), lambda m, w: w), (4, 3)),
    ("y[1:3,::2]=w bcast", _set((slice(1, 3), slice(None, None, 2)), lambda m, w: w), (3,)),
    ("y[1,2]=w 0d", _set((1, 2), lambda m, w: w), ()),
    ("y[1,2,0]=w 0d", _set((1, 2, 0), lambda m, w: w), ()),
    ("y[...,0]=w", _set((Ellipsis, 0), lambda m, w: w), (4, 5)),
    ("y[...,0]=w bcast col", _set((Ellipsis, 0), lambda m, w: w), (4, 1)),
    ("y[[0,2]]=w", _set([0, 2], lambda m, w: w), (5, 3)),
    ("y[[0,2],[1,4]]=w", _set(([0, 2], [1, 4]), lambda m, w: w), (2, 3)),
    ("y[:,[1,3]]=w", _set((slice(None), [1, 3]), lambda m, w: w), (4, 2, 3)),
    ("y[None,1]=w", _set((None, 1), lambda m, w: w), (1, 5, 3)),
    ("y[-1]=w.exp()", _set(-1, lambda m, w: w.exp()), (5, 3)),
    ("y[1:]=w[None]", _set(slice(1, None), lambda m, w: w[None]), (5, 3)),
]


@pytest.mark.parametrize("name, fn, w_shape", SETITEM, ids=[o[0] for o in SETITEM])
def test_setitem_tensor_value_grads_flow_to_target_and_value(name, fn, w_shape):
    check(fn, [SHAPE, w_shape])


SETITEM_CONST = [
    ("y[0]=0", lambda y: y.__setitem__(0, 0.0)),
    ("y[:,1]=2.5", lambda y: y.__setitem__((slice(None), 1), 2.5)),
    ("y[1,2,0]=-1", lambda y: y.__setitem__((1, 2, 0), -1)),
    ("y[::2]=3", lambda y: y.__setitem__(slice(None, None, 2), 3)),
    ("y[y>0]=0", lambda y: y.__setitem__(y > 0, 0.0)),
    ("y[y<0]=-y[y<0]", lambda y: y.__setitem__(y < 0, -y[y < 0])),
    ("y[[0,3]]=1", lambda y: y.__setitem__([0, 3], 1.0)),
    ("y[...]=1", lambda y: y.__setitem__(Ellipsis, 1.0)),
    ("y[mask row]=2", lambda y: y.__setitem__(y[:, 0, 0] > 0, 2.0)),
]


@pytest.mark.parametrize("name, set_fn", SETITEM_CONST, ids=[o[0] for o in SETITEM_CONST])
def test_setitem_constant(name, set_fn):
    def fn(m, x):
        y = x * 1
        set_fn(y)
        return y

    check(fn, [SHAPE])


@pytest.mark.parametrize("name, set_fn", SETITEM_CONST, ids=[o[0] for o in SETITEM_CONST])
def test_setitem_constant_no_grad(name, set_fn):
    def fn(m, x):
        set_fn(x)
        return x

    check(fn, [SHAPE], grad=False)


def test_setitem_mask_on_plain_tensor():
    x = engine.tensor([[-1.0, 2.0], [3.0, -4.0]])
    x[x > 0] = 0
    np.testing.assert_array_equal(x.numpy(), [[-1.0, 0.0], [0.0, -4.0]])


def test_setitem_mask_with_tensor_value():
    def fn(m, x, w):
        y = x * 1
        y[x > 0] = w
        return y

    check(fn, [SHAPE, ()])


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


def test_setitem_casts_value_to_target_dtype():
    def fn(m, x, w):
        y = x * 1
        y[0] = w
        return y

    out = check(fn, [(3, 4), (4,)], dtype=["float32", "float64"])
    assert out.dtype == engine.float32


def test_setitem_int_tensor_truncates_float():
    def fn(m, x):
        x[0] = 2.7
        x[1, 1] = -1.9
        return x

    check(fn, [(3, 4)], dtype="int64", grad=False)


def test_setitem_bumps_version():
    x = engine.zeros(3)
    v0 = x._version
    x[0] = 1.0
    assert x._version > v0


# ----------------------------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (
        "int out of range",
        lambda m, x: x[4],
        IndexError,
        "index 4 is out of bounds for dimension 0 with size 4",
    ),
    (
        "neg out of range",
        lambda m, x: x[0, -6],
        IndexError,
        "index -6 is out of bounds for dimension 1 with size 5",
    ),
    ("list out of range", lambda m, x: x[[0, 7]], IndexError, "out of bounds"),
    (
        "too many indices",
        lambda m, x: x[0, 0, 0, 0],
        IndexError,
        "too many indices for tensor of dimension 3",
    ),
    ("negative step", lambda m, x: x[::-1], ValueError, "step must be greater than zero"),
    ("float index", lambda m, x: x[1.5], IndexError, "only integers, slices"),
    (
        "mask shape",
        lambda m, x: x[m.tensor([True, False, True])],
        IndexError,
        "The shape of the mask [3] at index 0 does not match the shape of the indexed tensor [4, 5, 3]",
    ),
    (
        "float tensor index",
        lambda m, x: x[m.tensor([0.0, 1.0])],
        IndexError,
        "tensors used as indices must be long, int, byte or bool tensors",
    ),
    (
        "setitem shape mismatch",
        lambda m, x: x.__setitem__(0, m.ones(4)),
        RuntimeError,
        "must match the existing size",
    ),
    (
        "setitem on leaf requiring grad",
        lambda m, x: x.requires_grad_().__setitem__(0, 1.0),
        RuntimeError,
        "a leaf Variable that requires grad is being used in an in-place operation",
    ),
]


@pytest.mark.parametrize("name, fn, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_index_errors(name, fn, exc, match):
    check_error(fn, exc, match, [SHAPE])
