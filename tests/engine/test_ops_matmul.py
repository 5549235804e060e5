"""Matrix products against PyTorch: matmul in every rank combination (with batch broadcasting),
mm, bmm, dot and ``@``, with gradients; shape errors raise torch's exception types."""

from __future__ import annotations

import numpy as np
import pytest
from optest import check, check_error

import engine

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
]

FORMS = [
    ("matmul", lambda m, a, b: m.matmul(a, b)),
    ("@", lambda m, a, b: a @ b),
    ("a.matmul", lambda m, a, b: a.matmul(b)),
]


@pytest.mark.parametrize("form, fn", FORMS, ids=[f[0] for f in FORMS])
@pytest.mark.parametrize("name, sa, sb", MATMUL_SHAPES, ids=[s[0] for s in MATMUL_SHAPES])
def test_matmul(name, sa, sb, form, fn):
    check(fn, [sa, sb], np_fn=np.matmul, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name, sa, sb", MATMUL_SHAPES, ids=[s[0] for s in MATMUL_SHAPES])
def test_matmul_float64(name, sa, sb):
    check(lambda m, a, b: a @ b, [sa, sb], dtype="float64", np_fn=np.matmul)


@pytest.mark.parametrize("name, sa, sb", MATMUL_SHAPES[:6], ids=[s[0] for s in MATMUL_SHAPES[:6]])
def test_matmul_int64(name, sa, sb):
    check(lambda m, a, b: a @ b, [sa, sb], dtype="int64", grad=False, np_fn=np.matmul)


def test_matmul_only_one_side_requires_grad():
    check(lambda m, a, b: a @ b, [(2, 3, 4), (4, 5)], grad=[True, False])
    check(lambda m, a, b: a @ b, [(2, 3, 4), (4, 5)], grad=[False, True])


def test_matmul_larger_sizes():
    check(lambda m, a, b: a @ b, [(16, 64), (64, 32)], low=-1, high=1, atol=1e-4, rtol=1e-4)


def test_matmul_of_views():
    check(lambda m, a, b: a.t() @ b[:, ::2], [(4, 3), (4, 6)])
    check(lambda m, a, b: a.transpose(1, 2) @ b.expand(2, 3, 2), [(2, 3, 4), (3, 2)])


def test_matmul_chain_shares_input():
    check(lambda m, a: (a @ a.t()) @ a, [(3, 4)])


OTHER = [
    ("mm", lambda m, a, b: m.mm(a, b), (3, 4), (4, 2)),
    ("a.mm", lambda m, a, b: a.mm(b), (3, 4), (4, 2)),
    ("bmm", lambda m, a, b: m.bmm(a, b), (2, 3, 4), (2, 4, 5)),
    ("a.bmm", lambda m, a, b: a.bmm(b), (2, 3, 4), (2, 4, 5)),
    ("dot", lambda m, a, b: m.dot(a, b), (5,), (5,)),
    ("a.dot", lambda m, a, b: a.dot(b), (5,), (5,)),
    ("mv", lambda m, a, b: m.mv(a, b), (3, 4), (4,)),
    ("outer", lambda m, a, b: m.outer(a, b), (3,), (4,)),
]


@pytest.mark.parametrize("name, fn, sa, sb", OTHER, ids=[o[0] for o in OTHER])
def test_other_products(name, fn, sa, sb):
    check(fn, [sa, sb])


def test_matmul_dtype_mismatch_raises():
    check_error(lambda m, a, b: a @ b.double(), RuntimeError, "expected", [(3, 4), (4, 2)])
    check_error(lambda m, a, b: m.mm(a, b.long()), RuntimeError, "expected", [(3, 4), (4, 2)])


ERRORS = [
    (
        "2d@2d mismatch",
        lambda m, a, b: a @ b,
        (3, 4),
        (5, 2),
        "mat1 and mat2 shapes cannot be multiplied (3x4 and 5x2)",
    ),
    ("1d@1d mismatch", lambda m, a, b: a @ b, (3,), (4,), "inconsistent tensor size"),
    ("2d@1d mismatch", lambda m, a, b: a @ b, (3, 4), (5,), "size mismatch"),
    ("1d@2d mismatch", lambda m, a, b: a @ b, (3,), (4, 2), "cannot be multiplied"),
    ("batch mismatch", lambda m, a, b: a @ b, (2, 3, 4), (3, 4, 5), "The size of tensor a (2) must match"),
    (
        "batched inner mismatch",
        lambda m, a, b: a @ b,
        (2, 3, 4),
        (2, 5, 5),
        "Expected size for first two dimensions",
    ),
    ("0d", lambda m, a, b: a @ b, (), (3,), "both arguments to matmul need to be at least 1D"),
    ("mm of 1d", lambda m, a, b: m.mm(a, b), (3,), (3, 2), "self must be a matrix"),
    ("mm mismatch", lambda m, a, b: m.mm(a, b), (3, 4), (3, 2), "mat1 and mat2 shapes cannot be multiplied"),
    ("bmm of 2d", lambda m, a, b: m.bmm(a, b), (3, 4), (4, 2), "batch1 must be a 3D tensor"),
    (
        "bmm batch mismatch",
        lambda m, a, b: m.bmm(a, b),
        (2, 3, 4),
        (3, 4, 2),
        "Expected size for first two dimensions of batch2",
    ),
    ("dot of 2d", lambda m, a, b: m.dot(a, b), (3, 4), (3, 4), "1D tensors expected"),
    ("dot mismatch", lambda m, a, b: m.dot(a, b), (3,), (4,), "inconsistent tensor size"),
]


@pytest.mark.parametrize("name, fn, sa, sb, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_matmul_errors(name, fn, sa, sb, match):
    check_error(fn, RuntimeError, match, [sa, sb])


def test_matmul_result_requires_grad_and_grad_fn():
    a = engine.ones(2, 3, requires_grad=True)
    b = engine.ones(3, 2)
    out = a @ b
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    assert b.grad is None
