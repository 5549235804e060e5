"""Shape ops (``engine/ops/shape.py``) beyond the op table: compositions, contiguity and strides, views
that share storage with their base (writes either way), and the errors that need a view as input."""

from __future__ import annotations

import numpy as np
import pytest
from optest import HAVE_TORCH, check, check_error, torch

import engine

# Each op is one entry of the op table (``op_table/``); these chain several, or spell one differently.
COMPOSITIONS = [
    ("view transposed-compatible", lambda m, x: x.transpose(0, 1).view(4, 3, 1), [(3, 4)]),
    ("t().reshape(-1)", lambda m, x: x.t().reshape(-1), [(3, 4)]),
    ("permute().reshape", lambda m, x: x.permute(2, 0, 1).reshape(4, 6), [(2, 3, 4)]),
    ("flatten of transposed", lambda m, x: x.transpose(0, 2).flatten(), [(2, 3, 4)]),
    ("t().t()", lambda m, x: x.t().t(), [(3, 4)]),
    ("t().contiguous()", lambda m, x: x.t().contiguous(), [(3, 4)]),
    ("expand then multiply", lambda m, x: x.expand(3, 4) * m.arange(12.0).view(3, 4), [(1, 4)]),
    ("cat same tensor twice", lambda m, a: m.cat([a, a * 2], 0), [(2, 3)]),
    ("split_size_or_sections keyword", lambda m, x: m.split(x, split_size_or_sections=[2, 2], dim=0), [(4, 2)]),
    ("split only one used", lambda m, x: x.split(2)[1], [(5, 3)]),
    ("unbind one used", lambda m, x: x.unbind(0)[2] * 3, [(3, 4)]),
    ("view.permute.reshape", lambda m, x: x.view(2, 3, 2).permute(2, 0, 1).reshape(2, -1), [(3, 4)]),
    ("unsqueeze.expand.sum", lambda m, x: x.unsqueeze(1).expand(3, 2, 4).sum(1), [(3, 4)]),
    ("cat of views", lambda m, x: m.cat([x.t(), x[:, 1:].t()], 0), [(3, 4)]),
]


@pytest.mark.parametrize("name, fn, shapes", COMPOSITIONS, ids=[o[0] for o in COMPOSITIONS])
@pytest.mark.parametrize("dtype", ["float32", "int64"])
def test_composition(name, fn, shapes, dtype):
    check(fn, shapes, dtype=dtype, grad=dtype == "float32")


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
# errors that need a non-contiguous input or a view: same exception types and messages as torch
# ----------------------------------------------------------------------------------------------

ERRORS = [
    ("view non-contiguous", lambda m, x: x.t().view(-1), "view size is not compatible", [(3, 4)]),
    ("view of permuted", lambda m, x: x.permute(1, 0, 2).view(6, 2), "view size is not compatible", [(2, 3, 2)]),
    (
        "write into unbind output",
        lambda m, x: x.requires_grad_().mul(1).unbind(0)[1].__setitem__(0, 1.0),
        "This view is the output of a function that returns multiple views",
        [(3, 4)],
    ),
    (
        "write into split output",
        lambda m, x: x.requires_grad_().mul(1).split(1)[0].__setitem__(0, 1.0),
        "This view is the output of a function that returns multiple views",
        [(3, 4)],
    ),
]


@pytest.mark.parametrize("name, fn, match, shapes", ERRORS, ids=[e[0] for e in ERRORS])
def test_view_errors(name, fn, match, shapes):
    check_error(fn, RuntimeError, match, shapes)
