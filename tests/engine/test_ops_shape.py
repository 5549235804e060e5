"""Shape ops against PyTorch: view/reshape/flatten/squeeze/unsqueeze/permute/transpose/t/T,
contiguity, expand/repeat, cat/stack/split/chunk/unbind, their gradients and their errors."""

from __future__ import annotations

import numpy as np
import pytest
from optest import HAVE_TORCH, check, check_error, torch

import engine

# name, fn, input shapes
SHAPE_OPS = [
    # view / reshape
    ("view(12)", lambda m, x: x.view(12), [(3, 4)]),
    ("view(-1)", lambda m, x: x.view(-1), [(3, 4)]),
    ("view(2,-1)", lambda m, x: x.view(2, -1), [(3, 4)]),
    ("view((2,6))", lambda m, x: x.view((2, 6)), [(3, 4)]),
    ("view(-1,2,3)", lambda m, x: x.view(-1, 2, 3), [(3, 4)]),
    ("view(1,12,1)", lambda m, x: x.view(1, 12, 1), [(3, 4)]),
    ("view() of 1 elem", lambda m, x: x.view(()), [(1, 1)]),
    ("view(1) of 0d", lambda m, x: x.view(1), [()]),
    ("view transposed-compatible", lambda m, x: x.transpose(0, 1).view(4, 3, 1), [(3, 4)]),
    ("reshape(-1)", lambda m, x: x.reshape(-1), [(3, 4)]),
    ("reshape(4,3)", lambda m, x: x.reshape(4, 3), [(3, 4)]),
    ("reshape((2,-1,2))", lambda m, x: x.reshape((2, -1, 2)), [(3, 4)]),
    ("m.reshape(x,(6,2))", lambda m, x: m.reshape(x, (6, 2)), [(3, 4)]),
    ("t().reshape(-1)", lambda m, x: x.t().reshape(-1), [(3, 4)]),
    ("permute().reshape", lambda m, x: x.permute(2, 0, 1).reshape(4, 6), [(2, 3, 4)]),
    ("view_as", lambda m, x: x.view_as(m.zeros(4, 3)), [(3, 4)]),
    ("reshape_as", lambda m, x: x.reshape_as(m.zeros(2, 6)), [(3, 4)]),
    # flatten
    ("flatten()", lambda m, x: x.flatten(), [(2, 3, 4)]),
    ("flatten(1)", lambda m, x: x.flatten(1), [(2, 3, 4)]),
    ("flatten(0,1)", lambda m, x: x.flatten(0, 1), [(2, 3, 4)]),
    ("flatten(start_dim=1,end_dim=2)", lambda m, x: x.flatten(start_dim=1, end_dim=2), [(2, 3, 4, 2)]),
    ("flatten(-2,-1)", lambda m, x: x.flatten(-2, -1), [(2, 3, 4)]),
    ("flatten(end_dim=-2)", lambda m, x: x.flatten(end_dim=-2), [(2, 3, 4)]),
    ("m.flatten(x,1)", lambda m, x: m.flatten(x, 1), [(2, 3, 4)]),
    ("flatten() of 0d", lambda m, x: x.flatten(), [()]),
    ("flatten of transposed", lambda m, x: x.transpose(0, 2).flatten(), [(2, 3, 4)]),
    # squeeze / unsqueeze
    ("squeeze()", lambda m, x: x.squeeze(), [(1, 3, 1, 4)]),
    ("squeeze(0)", lambda m, x: x.squeeze(0), [(1, 3, 1, 4)]),
    ("squeeze(-2)", lambda m, x: x.squeeze(-2), [(1, 3, 1, 4)]),
    ("squeeze(1) no-op", lambda m, x: x.squeeze(1), [(1, 3, 1, 4)]),
    ("squeeze(dim=2)", lambda m, x: x.squeeze(dim=2), [(1, 3, 1, 4)]),
    ("squeeze((0,2))", lambda m, x: x.squeeze((0, 2)), [(1, 3, 1, 4)]),
    ("m.squeeze(x)", lambda m, x: m.squeeze(x), [(1, 1)]),
    ("unsqueeze(0)", lambda m, x: x.unsqueeze(0), [(3, 4)]),
    ("unsqueeze(1)", lambda m, x: x.unsqueeze(1), [(3, 4)]),
    ("unsqueeze(2)", lambda m, x: x.unsqueeze(2), [(3, 4)]),
    ("unsqueeze(-1)", lambda m, x: x.unsqueeze(-1), [(3, 4)]),
    ("unsqueeze(-2)", lambda m, x: x.unsqueeze(-2), [(3, 4)]),
    ("unsqueeze(-3)", lambda m, x: x.unsqueeze(-3), [(3, 4)]),
    ("m.unsqueeze(x,dim=1)", lambda m, x: m.unsqueeze(x, dim=1), [(3, 4)]),
    ("unsqueeze(0) of 0d", lambda m, x: x.unsqueeze(0), [()]),
    ("unsqueeze(-1) of 0d", lambda m, x: x.unsqueeze(-1), [()]),
    # permute / transpose / t / T
    ("permute(2,0,1)", lambda m, x: x.permute(2, 0, 1), [(2, 3, 4)]),
    ("permute((1,2,0))", lambda m, x: x.permute((1, 2, 0)), [(2, 3, 4)]),
    ("permute(-1,0,1)", lambda m, x: x.permute(-1, 0, 1), [(2, 3, 4)]),
    ("m.permute(x,(2,1,0))", lambda m, x: m.permute(x, (2, 1, 0)), [(2, 3, 4)]),
    ("transpose(0,1)", lambda m, x: x.transpose(0, 1), [(2, 3, 4)]),
    ("transpose(-1,0)", lambda m, x: x.transpose(-1, 0), [(2, 3, 4)]),
    ("transpose(1,1)", lambda m, x: x.transpose(1, 1), [(2, 3, 4)]),
    ("m.transpose(x,1,2)", lambda m, x: m.transpose(x, 1, 2), [(2, 3, 4)]),
    ("t()", lambda m, x: x.t(), [(3, 4)]),
    ("t() of 1d", lambda m, x: x.t(), [(4,)]),
    ("m.t(x)", lambda m, x: m.t(x), [(3, 4)]),
    (".T", lambda m, x: x.T, [(3, 4)]),
    (".mT", lambda m, x: x.mT, [(2, 3, 4)]),
    ("t().t()", lambda m, x: x.t().t(), [(3, 4)]),
    ("contiguous()", lambda m, x: x.t().contiguous(), [(3, 4)]),
    # expand / repeat
    ("expand(3,4)", lambda m, x: x.expand(3, 4), [(1, 4)]),
    ("expand(-1,4)", lambda m, x: x.expand(-1, 4), [(3, 1)]),
    ("expand(2,3,4)", lambda m, x: x.expand(2, 3, 4), [(3, 1)]),
    ("expand((2,-1,-1))", lambda m, x: x.expand((2, -1, -1)), [(3, 4)]),
    ("expand(5) of 0d", lambda m, x: x.expand(5), [()]),
    ("expand_as", lambda m, x: x.expand_as(m.zeros(2, 3, 4)), [(4,)]),
    ("expand then sum", lambda m, x: x.expand(3, 4) * m.arange(12.0).view(3, 4), [(1, 4)]),
    ("repeat(2,3)", lambda m, x: x.repeat(2, 3), [(2, 3)]),
    ("repeat(2,1,1)", lambda m, x: x.repeat(2, 1, 1), [(3, 4)]),
    ("repeat((1,2))", lambda m, x: x.repeat((1, 2)), [(3, 4)]),
    ("repeat(3) of 1d", lambda m, x: x.repeat(3), [(4,)]),
    ("repeat(2,2) of 0d", lambda m, x: x.repeat(2, 2), [()]),
    # cat / stack
    ("cat dim0", lambda m, a, b: m.cat([a, b]), [(2, 3), (4, 3)]),
    ("cat dim1", lambda m, a, b: m.cat([a, b], dim=1), [(2, 3), (2, 1)]),
    ("cat dim-1 tuple", lambda m, a, b, c: m.cat((a, b, c), -1), [(2, 3), (2, 2), (2, 1)]),
    ("cat single", lambda m, a: m.cat([a], 0), [(2, 3)]),
    ("cat same tensor twice", lambda m, a: m.cat([a, a * 2], 0), [(2, 3)]),
    ("cat 3d dim1", lambda m, a, b: m.cat([a, b], 1), [(2, 1, 3), (2, 2, 3)]),
    ("concat", lambda m, a, b: m.concat([a, b], 0), [(1, 3), (2, 3)]),
    ("stack dim0", lambda m, a, b: m.stack([a, b]), [(2, 3), (2, 3)]),
    ("stack dim1", lambda m, a, b: m.stack((a, b), dim=1), [(2, 3), (2, 3)]),
    ("stack dim-1", lambda m, a, b, c: m.stack([a, b, c], -1), [(2, 3), (2, 3), (2, 3)]),
    ("stack 0d", lambda m, a, b: m.stack([a, b]), [(), ()]),
    # split / chunk / unbind
    ("split(2)", lambda m, x: x.split(2), [(5, 3)]),
    ("split(2,dim=1)", lambda m, x: x.split(2, dim=1), [(3, 5)]),
    ("split([1,3],1)", lambda m, x: x.split([1, 3], 1), [(3, 4)]),
    ("split([2,0,3])", lambda m, x: x.split([2, 0, 3]), [(5, 2)]),
    ("m.split(x,3,-1)", lambda m, x: m.split(x, 3, -1), [(2, 7)]),
    ("split_size_or_sections kw", lambda m, x: m.split(x, split_size_or_sections=[2, 2], dim=0), [(4, 2)]),
    ("split bigger than dim", lambda m, x: x.split(10), [(3, 2)]),
    ("split only one used", lambda m, x: x.split(2)[1], [(5, 3)]),
    ("chunk(3)", lambda m, x: x.chunk(3), [(5, 3)]),
    ("chunk(2,dim=1)", lambda m, x: x.chunk(2, dim=1), [(3, 4)]),
    ("chunk(4) of 6", lambda m, x: x.chunk(4), [(6,)]),
    ("m.chunk(x,2,-1)", lambda m, x: m.chunk(x, 2, -1), [(2, 5)]),
    ("unbind()", lambda m, x: x.unbind(), [(3, 4)]),
    ("unbind(1)", lambda m, x: x.unbind(1), [(3, 4)]),
    ("m.unbind(x,dim=-1)", lambda m, x: m.unbind(x, dim=-1), [(2, 3)]),
    ("unbind one used", lambda m, x: x.unbind(0)[2] * 3, [(3, 4)]),
    # compositions
    ("view.permute.reshape", lambda m, x: x.view(2, 3, 2).permute(2, 0, 1).reshape(2, -1), [(3, 4)]),
    ("unsqueeze.expand.sum", lambda m, x: x.unsqueeze(1).expand(3, 2, 4).sum(1), [(3, 4)]),
    ("cat of views", lambda m, x: m.cat([x.t(), x[:, 1:].t()], 0), [(3, 4)]),
]


@pytest.mark.parametrize("name, fn, shapes", SHAPE_OPS, ids=[o[0] for o in SHAPE_OPS])
def test_shape_op(name, fn, shapes):
    check(fn, shapes)


@pytest.mark.parametrize("name, fn, shapes", SHAPE_OPS, ids=[o[0] for o in SHAPE_OPS])
def test_shape_op_int64(name, fn, shapes):
    check(fn, shapes, dtype="int64", grad=False)


PROMOTING = [
    ("cat f32+f64", lambda m, a, b: m.cat([a, b]), ["float32", "float64"]),
    ("cat i64+f32", lambda m, a, b: m.cat([a, b]), ["int64", "float32"]),
    ("cat bool+i32", lambda m, a, b: m.cat([a, b], 1), ["bool", "int32"]),
    ("stack f16+f32", lambda m, a, b: m.stack([a, b]), ["float16", "float32"]),
]


@pytest.mark.parametrize("name, fn, dtypes", PROMOTING, ids=[o[0] for o in PROMOTING])
def test_cat_stack_promote_dtypes(name, fn, dtypes):
    check(fn, [(2, 3), (2, 3)], dtype=dtypes, atol=1e-3, rtol=1e-3)


EMPTY = [
    ("view(0,3)", lambda m, x: x.view(0, 3), [(3, 0)]),
    ("reshape(-1,2)", lambda m, x: x.reshape(-1, 2), [(0, 4)]),
    ("cat with empty", lambda m, a, b: m.cat([a, b]), [(0, 3), (2, 3)]),
    ("split empty", lambda m, x: x.split(2, 1), [(0, 3)]),
    ("expand empty", lambda m, x: x.expand(0, 3), [(1, 3)]),
    ("repeat(0,2)", lambda m, x: x.repeat(0, 2), [(3, 4)]),
    ("permute empty", lambda m, x: x.permute(1, 0), [(0, 3)]),
]


@pytest.mark.parametrize("name, fn, shapes", EMPTY, ids=[o[0] for o in EMPTY])
def test_empty_tensors(name, fn, shapes):
    check(fn, shapes, gradcheck=False)


VIEW_DTYPE = [
    ("float32->int32", "float32", "int32"),
    ("int32->float32", "int32", "float32"),
    ("float64->int64", "float64", "int64"),
    ("float32->float32", "float32", "float32"),
]


@pytest.mark.parametrize("name, src, dst", VIEW_DTYPE, ids=[o[0] for o in VIEW_DTYPE])
def test_view_dtype_reinterprets_bits(name, src, dst):
    """``x.view(dtype)`` of the same element size reinterprets the bytes (it is not a cast)."""
    x = np.array([[1.0, -2.5], [0.5, 3.0]]).astype(src)
    check(lambda m, x: x.view(getattr(m, dst)), [x], grad=False, np_fn=lambda x: x.view(dst))


def test_split_returns_tuple_of_sizes():
    x = engine.zeros(5, 3)
    parts = x.split(2)
    assert isinstance(parts, tuple)
    assert [tuple(p.shape) for p in parts] == [(2, 3), (2, 3), (1, 3)]
    assert [tuple(p.shape) for p in x.chunk(3)] == [(2, 3), (2, 3), (1, 3)]
    assert [tuple(p.shape) for p in x.unbind(1)] == [(5,)] * 3


# ----------------------------------------------------------------------------------------------
# contiguity and strides, compared with torch
# ----------------------------------------------------------------------------------------------

LAYOUTS = [
    ("plain", lambda m, x: x),
    ("t()", lambda m, x: x.t()),
    ("t().contiguous()", lambda m, x: x.t().contiguous()),
    ("permute", lambda m, x: x.view(2, 3, 2).permute(2, 0, 1)),
    ("transpose", lambda m, x: x.view(2, 3, 2).transpose(0, 1)),
    ("view", lambda m, x: x.view(4, 3)),
    ("unsqueeze", lambda m, x: x.unsqueeze(1)),
    ("expand", lambda m, x: x[:1].expand(5, 4)),
    ("slice rows", lambda m, x: x[1:]),
    ("slice cols", lambda m, x: x[:, 1:3]),
    ("step", lambda m, x: x[::2]),
    ("t().t()", lambda m, x: x.t().t()),
    ("reshape of t()", lambda m, x: x.t().reshape(12)),
]


@pytest.mark.parametrize("name, fn", LAYOUTS, ids=[o[0] for o in LAYOUTS])
def test_is_contiguous_and_stride_match_torch(name, fn):
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    e = fn(engine, engine.tensor(x))
    if not HAVE_TORCH:
        pytest.skip("torch is not installed")
    t = fn(torch, torch.tensor(x))
    assert e.is_contiguous() == t.is_contiguous()
    assert tuple(e.stride()) == tuple(t.stride())
    np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_contiguous_of_contiguous_is_self():
    x = engine.ones(3, 4)
    assert x.is_contiguous()
    assert x.contiguous() is x
    y = x.t()
    assert not y.is_contiguous()
    z = y.contiguous()
    assert z is not y and z.is_contiguous()
    np.testing.assert_array_equal(z.numpy(), y.numpy())


# ----------------------------------------------------------------------------------------------
# views share storage with their base (writes through a view show in the base, and vice versa)
# ----------------------------------------------------------------------------------------------

VIEW_WRITES = [
    ("view", lambda m, y: y.view(-1), (0,)),
    ("t", lambda m, y: y.t(), (1, 0)),
    ("permute", lambda m, y: y.permute(1, 0), (2, 1)),
    ("unsqueeze", lambda m, y: y.unsqueeze(0), (0, 1, 2)),
    ("squeeze", lambda m, y: y.unsqueeze(1).squeeze(1), (2, 3)),
    ("flatten", lambda m, y: y.flatten(), (5,)),
    ("reshape contiguous", lambda m, y: y.reshape(4, 3), (3, 2)),
    ("select", lambda m, y: y.select(0, 1), (2,)),
    ("narrow", lambda m, y: y.narrow(0, 2, 1), (0, 3)),
]


@pytest.mark.parametrize("name, view_fn, index", VIEW_WRITES, ids=[o[0] for o in VIEW_WRITES])
def test_write_through_view_reaches_base_with_grad(name, view_fn, index):
    def fn(m, x, w):
        y = x * 1
        v = view_fn(m, y)
        v[index] = w * 3
        return y

    check(fn, [(3, 4), ()])


def test_base_write_visible_in_view():
    x = engine.zeros(3, 4)
    v = x.view(-1)
    t = x.t()
    x[1, 2] = 7.0
    assert v[6].item() == 7.0
    assert t[2, 1].item() == 7.0


# ----------------------------------------------------------------------------------------------
# errors: same exception types (and messages) as torch
# ----------------------------------------------------------------------------------------------

ERRORS = [
    (
        "view non-contiguous",
        lambda m, x: x.t().view(-1),
        RuntimeError,
        "view size is not compatible",
        [(3, 4)],
    ),
    (
        "view of permuted",
        lambda m, x: x.permute(1, 0, 2).view(6, 2),
        RuntimeError,
        "view size is not compatible",
        [(2, 3, 2)],
    ),
    (
        "view bad size",
        lambda m, x: x.view(5),
        RuntimeError,
        "shape '[5]' is invalid for input of size 12",
        [(3, 4)],
    ),
    (
        "view two -1",
        lambda m, x: x.view(-1, -1),
        RuntimeError,
        "only one dimension can be inferred",
        [(3, 4)],
    ),
    (
        "reshape bad size",
        lambda m, x: x.reshape(5, -1),
        RuntimeError,
        "shape '[5, -1]' is invalid for input of size 12",
        [(3, 4)],
    ),
    (
        "cat mismatch",
        lambda m, a, b: m.cat([a, b], 0),
        RuntimeError,
        "Sizes of tensors must match",
        [(2, 3), (2, 4)],
    ),
    ("cat empty list", lambda m: m.cat([]), ValueError, "expected a non-empty list of Tensors", []),
    (
        "stack mismatch",
        lambda m, a, b: m.stack([a, b]),
        RuntimeError,
        "stack expects each tensor to be equal size",
        [(2, 3), (3, 2)],
    ),
    (
        "expand bad",
        lambda m, x: x.expand(3, 5),
        RuntimeError,
        "The expanded size of the tensor (5) must match",
        [(3, 4)],
    ),
    (
        "expand fewer dims",
        lambda m, x: x.expand(4),
        RuntimeError,
        "the number of sizes provided (1) must be greater",
        [(3, 4)],
    ),
    (
        "permute wrong len",
        lambda m, x: x.permute(1, 0, 2),
        RuntimeError,
        "number of dimensions in the tensor input",
        [(3, 4)],
    ),
    (
        "permute repeated",
        lambda m, x: x.permute(0, 0),
        RuntimeError,
        "duplicate dims are not allowed",
        [(3, 4)],
    ),
    (
        "transpose out of range",
        lambda m, x: x.transpose(0, 2),
        IndexError,
        "Dimension out of range",
        [(3, 4)],
    ),
    ("squeeze out of range", lambda m, x: x.squeeze(3), IndexError, "Dimension out of range", [(3, 4)]),
    ("unsqueeze out of range", lambda m, x: x.unsqueeze(3), IndexError, "Dimension out of range", [(3, 4)]),
    ("t of 3d", lambda m, x: x.t(), RuntimeError, "expects a tensor with <= 2 dimensions", [(2, 3, 4)]),
    (
        "split sizes wrong sum",
        lambda m, x: x.split([1, 1]),
        RuntimeError,
        "split_with_sizes expects split_sizes",
        [(3, 4)],
    ),
    (
        "chunk zero",
        lambda m, x: x.chunk(0),
        RuntimeError,
        "chunk expects `chunks` to be greater than 0",
        [(3, 4)],
    ),
    (
        "repeat fewer dims",
        lambda m, x: x.repeat(2),
        RuntimeError,
        "Number of dimensions of repeat dims can not be smaller",
        [(3, 4)],
    ),
    (
        "write into unbind output",
        lambda m, x: x.requires_grad_().mul(1).unbind(0)[1].__setitem__(0, 1.0),
        RuntimeError,
        "This view is the output of a function that returns multiple views",
        [(3, 4)],
    ),
    (
        "write into split output",
        lambda m, x: x.requires_grad_().mul(1).split(1)[0].__setitem__(0, 1.0),
        RuntimeError,
        "This view is the output of a function that returns multiple views",
        [(3, 4)],
    ),
    (
        "flatten start>end",
        lambda m, x: x.flatten(2, 1),
        RuntimeError,
        "flatten() has invalid args",
        [(2, 3, 4)],
    ),
]


@pytest.mark.parametrize("name, fn, exc, match, shapes", ERRORS, ids=[e[0] for e in ERRORS])
def test_shape_errors(name, fn, exc, match, shapes):
    check_error(fn, exc, match, shapes)
