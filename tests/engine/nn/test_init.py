"""engine.nn.init: each initialiser fills in place with PyTorch's distribution (bounds and moments) or
values, and raises PyTorch's errors."""

import math

import numpy as np
import pytest

import engine
from engine.nn import init


def stats(t):
    a = t.detach().numpy()
    return a.min(), a.max(), a.mean(), a.std()


def test_uniform_normal_constant_eye():
    t = engine.empty(200, 300)
    assert init.uniform_(t, -2, 3) is t
    lo, hi, mean, _ = stats(t)
    assert lo >= -2 and hi < 3 and abs(mean - 0.5) < 0.05
    _, _, mean, std = stats(init.normal_(t, 1.0, 0.5))
    assert abs(mean - 1.0) < 0.01 and abs(std - 0.5) < 0.01
    assert set(np.unique(init.constant_(t, 0.25).numpy())) == {0.25}
    assert init.ones_(t).numpy().min() == 1 and init.zeros_(t).numpy().max() == 0
    np.testing.assert_array_equal(init.eye_(engine.empty(3, 4)).numpy(), np.eye(3, 4))
    lo, hi, mean, _ = stats(init.trunc_normal_(t, 0.0, 1.0, -0.5, 0.5))
    assert lo >= -0.5 and hi <= 0.5


def test_fan_based_initialisers():
    w = engine.empty(64, 32, 3, 3)  # fan_in 288, fan_out 576
    bound = math.sqrt(6.0 / (288 + 576))
    lo, hi, _, _ = stats(init.xavier_uniform_(w))
    assert -bound <= lo and hi <= bound and hi > 0.9 * bound
    _, _, _, std = stats(init.xavier_normal_(w, gain=2.0))
    assert abs(std - 2.0 * math.sqrt(2.0 / (288 + 576))) < 0.01
    _, _, _, std = stats(init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"))
    assert abs(std - math.sqrt(2.0 / 576)) < 0.005
    lo, hi, _, _ = stats(init.kaiming_uniform_(w, a=math.sqrt(5)))
    assert hi <= 1 / math.sqrt(288) and hi > 0.9 / math.sqrt(288)


def test_gains_and_errors():
    assert init.calculate_gain("relu") == math.sqrt(2.0)
    assert init.calculate_gain("tanh") == 5.0 / 3
    assert init.calculate_gain("leaky_relu", 0.2) == math.sqrt(2.0 / (1 + 0.2**2))
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(engine.empty(5))
    with pytest.raises(ValueError, match="Mode fan_up not supported"):
        init.kaiming_uniform_(engine.empty(3, 3), mode="fan_up")


def test_initialisers_do_not_enter_the_graph():
    p = engine.nn.Parameter(engine.empty(4, 4))
    init.kaiming_uniform_(p)
    assert p.is_leaf and p.grad_fn is None and p._version == 1


def test_creation_extras():
    a = np.arange(6, dtype=np.float32)
    shared = engine.as_tensor(a)
    a[0] = 9
    assert shared[0].item() == 9
    assert engine.as_tensor([1, 2]).dtype is engine.int64
    assert engine.as_tensor(a, dtype=engine.float64).dtype is engine.float64
    engine.manual_seed(0)
    n = engine.normal(2.0, 0.5, (10000,))
    assert abs(n.mean().item() - 2.0) < 0.02 and abs(n.std().item() - 0.5) < 0.02
    m = engine.normal(engine.zeros(3), engine.ones(3))
    assert m.shape == (3,)
    assert engine.full_like(engine.ones(2, dtype=engine.int32), 7).tolist() == [7, 7]
    r = engine.randint_like(engine.zeros(50), 3, 5)
    assert r.min().item() >= 3 and r.max().item() < 5
    assert engine.hstack([engine.ones(2), engine.zeros(1)]).tolist() == [1.0, 1.0, 0.0]
    assert engine.vstack([engine.ones(2), engine.zeros(2)]).shape == (2, 2)
    v, mu = engine.var_mean(engine.tensor([1.0, 2.0, 3.0]))
    assert v.item() == 1.0 and mu.item() == 2.0
