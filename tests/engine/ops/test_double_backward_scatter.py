"""Double backward of the scatter/gather family where the op table cannot say it: a product with two zeros of
``src`` at one position has first derivatives, and PyTorch refuses the second with its message, as we do."""

from __future__ import annotations

import numpy as np
import pytest
from op_table import scatter

import engine


def test_scatter_reduce_prod_two_zeros_refuses_double_backward():
    x = engine.tensor(scatter._ZEROS, requires_grad=True)
    src = engine.tensor(scatter._SRC_ZEROS, requires_grad=True)
    index = engine.tensor(np.array([[0, 0, 3], [1, 1, 1], [2, 3, 2]]))
    out = engine.scatter_reduce(x, 1, index, src, "prod")
    gx, gsrc = engine.autograd.grad(out.sum(), (x, src), create_graph=True)
    assert gsrc.requires_grad
    engine.autograd.grad(gx.sum(), (x, src), retain_graph=True, allow_unused=True)
    with pytest.raises(RuntimeError, match="Double backward is unsupported for src when >1 zeros"):
        engine.autograd.grad(gsrc.sum(), (x, src))
