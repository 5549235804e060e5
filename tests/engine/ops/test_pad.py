"""pad (engine/ops/pad.py) beyond the op table (``op_table/conv_pool.py``): the graph nodes' names per mode."""

from __future__ import annotations

import engine
from engine.ops.pad import pad


def test_pad_grad_fn_names():
    x = engine.randn(1, 2, 4, 4, requires_grad=True)
    assert pad(x, (1, 1)).grad_fn.name() == "ConstantPadNdBackward0"
    assert pad(x, (1, 1, 1, 1), mode="reflect").grad_fn.name() == "ReflectionPad2DBackward0"
    assert pad(x, (1, 1, 1, 1), mode="replicate").grad_fn.name() == "ReplicationPad2DBackward0"
    assert pad(x[0, 0], (1, 1), mode="replicate").grad_fn.name() == "ReplicationPad1DBackward0"
