"""The double backward of matmul, linear, conv2d, pooling and padding on the CuPy stand-in (``fake_cuda``):
the same second derivatives as on the CPU, every one on the device."""

from __future__ import annotations

import numpy as np
import pytest

import engine
from engine.ops import pool

F = engine.nn.functional

_CASES = {
    "matmul": (lambda x, w: x @ w.transpose(0, 1), (2, 3, 5), (4, 5)),
    "linear": (lambda x, w: F.linear(x, w), (3, 5), (4, 5)),
    "conv2d": (lambda x, w: F.conv2d(x, w, stride=2, padding=1), (2, 3, 7, 6), (4, 3, 3, 3)),
    "max_pool2d": (lambda x, w: F.max_pool2d(x * w, 3, 1, 1), (2, 3, 5, 6), (3, 1, 1)),
    "adaptive_max_pool2d": (lambda x, w: pool.adaptive_max_pool2d(x * w, (2, 4)), (2, 3, 5, 6), (3, 1, 1)),
    "avg_pool2d": (lambda x, w: F.avg_pool2d(x * w, 3, 2, 1), (2, 3, 5, 6), (3, 1, 1)),
    "adaptive_avg_pool2d": (lambda x, w: F.adaptive_avg_pool2d(x * w, (4, 3)), (2, 3, 5, 6), (3, 1, 1)),
    "pad-replicate": (lambda x, w: F.pad(x * w, (1, 2, 2, 1), mode="replicate"), (2, 3, 5, 6), (3, 1, 1)),
    "pad-constant": (lambda x, w: F.pad(x * w, (1, -2, 2, 1)), (2, 3, 5, 6), (3, 1, 1)),
}


def _second_derivatives(f, arrays, device):
    x, w, up, rx, rw = (engine.tensor(a, device=device, requires_grad=k < 3) for k, a in enumerate(arrays))
    gx, gw = engine.autograd.grad(f(x, w), (x, w), up, create_graph=True)
    out = engine.autograd.grad((gx * rx).sum() + (gw * rw).sum(), (x, w, up))
    assert all(g.device.type == device for g in out)
    return [g.cpu().numpy() for g in out]


@pytest.mark.parametrize("name", list(_CASES))
def test_double_backward_on_device(fake_cuda, name):
    f, x_shape, w_shape = _CASES[name]
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)
    y_shape = tuple(f(engine.tensor(x), engine.tensor(w)).shape)
    arrays = [x, w, rng.standard_normal(y_shape), rng.standard_normal(x_shape), rng.standard_normal(w_shape)]
    for a, b in zip(_second_derivatives(f, arrays, "cuda"), _second_derivatives(f, arrays, "cpu"), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-12, rtol=1e-10)
