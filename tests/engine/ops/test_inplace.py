"""In-place ops (``engine/ops/inplace.py``): leaves that require grad refuse them, they return ``self``,
an integer tensor cannot hold a float result, and gradients through them match PyTorch."""

import numpy as np
import pytest
from optest import check

import engine


def test_inplace_on_leaf_requiring_grad_raises_outside_no_grad():
    w = engine.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        w.add_(1)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w[0] = 2
    with engine.no_grad():
        w.sub_(0.5)
        w[0] = 3
    np.testing.assert_allclose(w.detach().numpy(), [3, 0.5, 0.5])


def test_inplace_returns_self_and_mutates():
    a = engine.ones(3)
    for name, args, expected in [
        ("add_", (2,), 3),
        ("sub_", (1,), 2),
        ("mul_", (4,), 8),
        ("div_", (2,), 4),
        ("clamp_", (0, 3), 3),
        ("fill_", (7,), 7),
        ("zero_", (), 0),
    ]:
        assert getattr(a, name)(*args) is a
        np.testing.assert_allclose(a.numpy(), [expected] * 3)
    b = engine.zeros(2, 3)
    b.copy_(engine.ones(3))
    np.testing.assert_allclose(b.numpy(), np.ones((2, 3)))
    c = engine.ones(2, 3)
    assert c.t_() is c and tuple(c.shape) == (3, 2)
    u = engine.empty(1000).uniform_(-1, 2)
    assert u.min().item() >= -1 and u.max().item() < 2
    n = engine.empty(10000).normal_(3, 0.5)
    assert abs(n.mean().item() - 3) < 0.05 and abs(n.std().item() - 0.5) < 0.05


def test_inplace_int_cannot_hold_float_result():
    a = engine.ones(3, dtype=engine.long)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        a.add_(0.5)


@pytest.mark.parametrize(
    "case",
    [
        lambda m, x, w: (lambda y: (y.mul_(w), y.add_(1), (y * y).sum())[-1])(x * 1),
        lambda m, x, w: (lambda y: (y.relu_(), y.sum())[-1])(x * w),
        lambda m, x, w: (lambda y: (y.__setitem__(0, w[1] * 5), (y * 2).sum())[-1])(x * 1),
        lambda m, x, w: (lambda y: (y.__setitem__(y > 0, 0.0), (y * w).sum())[-1])(x * 3),
        lambda m, x, w: (lambda y: (y[1:].mul_(w[1:]), (y * y).sum())[-1])(x * 2),
        lambda m, x, w: (lambda y: (y[::2].copy_(w[::2] * 3), (y * y).sum())[-1])(x * 2),
        lambda m, x, w: (lambda z: (z.__setitem__(slice(0, 2), w[:2] + x[:2]), z.sum())[-1])(m.zeros(4)),
        lambda m, x, w: (lambda y: (y.view(2, 2)[0].mul_(3), (y * w).sum())[-1])(x * 1),
    ],
)
def test_inplace_gradients_match_pytorch(case):
    check(case, [(4,), (4,)])
