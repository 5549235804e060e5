"""Double backward of ``linear`` (one ``AddmmBackward0`` node, outside the op table): gradgradcheck and one
direction compared with torch, for 1-D, 2-D and batched inputs and each subset of inputs requiring grad."""

from __future__ import annotations

import numpy as np
import pytest
from optest import run_double_backward


def _linear(m, x, w, b=None):
    return m.nn.functional.linear(x, w, b)


@pytest.mark.parametrize("x_shape", [(5,), (3, 5), (2, 3, 5)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_double_backward(x_shape, bias):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(x_shape), rng.standard_normal((4, 5))] + ([rng.standard_normal(4)] if bias else [])
    run_double_backward(_linear, arrays, [True] * len(arrays))


@pytest.mark.parametrize("mask", [(True, False, False), (False, True, False), (False, True, True)])
def test_linear_double_backward_partial(mask):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((3, 5)), rng.standard_normal((4, 5)), rng.standard_normal(4)]
    run_double_backward(_linear, arrays, list(mask))
