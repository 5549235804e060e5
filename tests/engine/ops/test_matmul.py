"""Matrix products (``engine/ops/matmul.py``) beyond the op table: products of views and of a shared input,
and the graph a product leaves."""

from __future__ import annotations

import numpy as np
from optest import check

import engine


def test_matmul_of_views():
    check(lambda m, a, b: a.t() @ b[:, ::2], [(4, 3), (4, 6)])
    check(lambda m, a, b: a.transpose(1, 2) @ b.expand(2, 3, 2), [(2, 3, 4), (3, 2)])


def test_matmul_chain_shares_input():
    check(lambda m, a: (a @ a.t()) @ a, [(3, 4)])


def test_matmul_result_requires_grad_and_grad_fn():
    a = engine.ones(2, 3, requires_grad=True)
    b = engine.ones(3, 2)
    out = a @ b
    assert out.requires_grad and out.grad_fn is not None
    out.sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), np.full((2, 3), 2.0))
    assert b.grad is None


def test_matmul_out_as_the_tensors_tutorial_writes_it():
    """``torch.matmul(tensor, tensor.T, out=y3)``: ``out`` is resized to the result, written and returned."""

    def fn(m, x):
        result = m.zeros(1)
        assert m.matmul(x, x.T, out=result) is result
        return result

    check(fn, [(4, 3)], grad=False)
