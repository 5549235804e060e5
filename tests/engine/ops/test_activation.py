"""Activations (engine/ops/activation.py) beyond the op table: graph node names, erf's accuracy in ulps and
the in-place error on a leaf."""

from __future__ import annotations

import math
import types

import numpy as np
import pytest
from optest import check_error, torch

import engine
from engine.ops import activation, dropout, loss, norm

# The engine's functions under PyTorch's names, so one lambda runs on both frameworks.
EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (loss, norm, activation, dropout) for name in mod.__all__}
)


def F(m):
    return EF if m is engine else torch.nn.functional


ACTIVATIONS = [
    ("leaky_relu", {}),
    ("leaky_relu", {"negative_slope": 0.2}),
    ("gelu", {}),
    ("gelu", {"approximate": "tanh"}),
    ("elu", {}),
    ("elu", {"alpha": 0.5}),
    ("selu", {}),
    ("celu", {"alpha": 2.0}),
    ("silu", {}),
    ("mish", {}),
    ("softplus", {}),
    ("softplus", {"beta": 2.0, "threshold": 3.0}),
    ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}),
    ("relu6", {}),
    ("hardsigmoid", {}),
    ("hardswish", {}),
    ("logsigmoid", {}),
]
NODE_NAMES = {
    "leaky_relu": "LeakyReluBackward0",
    "gelu": "GeluBackward0",
    "elu": "EluBackward0",
    "selu": "EluBackward0",
    "celu": "CeluBackward0",
    "silu": "SiluBackward0",
    "mish": "MishBackward0",
    "softplus": "SoftplusBackward0",
    "hardtanh": "HardtanhBackward0",
    "relu6": "HardtanhBackward0",
    "hardsigmoid": "HardsigmoidBackward0",
    "hardswish": "HardswishBackward0",
    "logsigmoid": "LogSigmoidBackward0",
}


@pytest.mark.parametrize("name, kw", ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_activation_node_names(name, kw):
    out = getattr(EF, name)(engine.randn(3, 4, requires_grad=True), **kw)
    assert out.grad_fn.name() == NODE_NAMES[name]


def test_erf_accuracy():
    x = np.concatenate([np.linspace(-7, 7, 200_001), np.linspace(-1e-3, 1e-3, 2001), [1e-30, -1.0, 1.0]])
    ref = np.array([math.erf(v) for v in x])
    for dt, max_ulps in ((np.float64, 4), (np.float32, 1.5)):
        y = activation.erf(x.astype(dt))
        assert y.dtype == dt
        ulp = np.spacing(np.abs(ref).astype(dt)).astype(np.float64)
        assert (np.abs(y.astype(np.float64) - ref) / ulp).max() <= max_ulps
    y = activation.erf(np.array([np.inf, -np.inf, np.nan, 0.0], np.float32))
    np.testing.assert_array_equal(y[[0, 1, 3]], [1, -1, 0])
    assert np.isnan(y[2])


def test_leaf_inplace_activation_error():
    check_error(
        lambda m, x: F(m).leaky_relu(x.requires_grad_(), inplace=True),
        RuntimeError,
        "a leaf Variable that requires grad is being used in an in-place operation.",
        [(3,)],
    )
