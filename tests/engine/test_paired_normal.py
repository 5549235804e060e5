"""``normal`` with tensor parameters draws by Box-Muller from the generator's uniforms in float32 (NumPy's
ziggurat in float64): the distribution (moments and a Kolmogorov-Smirnov statistic over a million draws),
reproducibility under ``manual_seed``, and the parameters' dtypes, shapes, checks and zero gradients."""

import math

import numpy as np
import pytest
import torch

import engine

N = 1_000_000


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_million_draws_are_standard_normal(dtype):
    engine.manual_seed(3)
    z = engine.normal(engine.zeros(N, dtype=getattr(engine, dtype)), 1.0).numpy()
    assert z.dtype == dtype and np.isfinite(z).all()
    x = z.astype(np.float64)
    mean, var = x.mean(), x.var()
    skew, kurt = ((x - mean) ** 3).mean() / var ** 1.5, ((x - mean) ** 4).mean() / var ** 2
    assert abs(mean) < 5 / math.sqrt(N) and abs(var - 1) < 0.01 and abs(skew) < 0.02 and abs(kurt - 3) < 0.05
    cdf = torch.special.ndtr(torch.from_numpy(np.sort(x))).numpy()
    ks = max((np.arange(1, N + 1) / N - cdf).max(), (cdf - np.arange(N) / N).max())
    assert ks < 1.63 / math.sqrt(N)  # the 1% critical value
    # The two coordinates of one pair are independent normals: their product has mean 0 and variance 1.
    pairs = x[: N // 2] * x[N // 2:]
    assert abs(pairs.mean()) < 5 / math.sqrt(N / 2) and abs(pairs.var() - 1) < 0.02


def test_mean_and_std_scale_the_draws_and_broadcast():
    engine.manual_seed(0)
    mean = engine.tensor([[-5.0], [5.0]])
    std = engine.tensor([0.5, 2.0, 4.0])
    z = engine.normal(mean, std.expand(50_000, 3)[:, None, :].expand(50_000, 2, 3)).numpy()
    assert z.shape == (50_000, 2, 3) and z.dtype == np.float32
    np.testing.assert_allclose(z.mean(0), np.broadcast_to([[-5.0], [5.0]], (2, 3)), atol=0.05)
    np.testing.assert_allclose(z.std(0), np.broadcast_to([0.5, 2.0, 4.0], (2, 3)), rtol=0.02)


@pytest.mark.parametrize("shape", [(), (1,), (7,), (3, 5), (0, 4)])
def test_a_seed_reproduces_the_draws_of_any_size(shape):
    draws = []
    for _ in range(2):
        engine.manual_seed(11)
        draws.append(engine.normal(engine.zeros(shape), engine.ones(shape)).numpy())
    assert draws[0].shape == shape
    np.testing.assert_array_equal(draws[0], draws[1])
    g = engine.Generator().manual_seed(11)
    np.testing.assert_array_equal(engine.normal(engine.zeros(shape), 1.0, generator=g).numpy(), draws[0])


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float64"])
def test_dtypes_follow_the_parameters(dtype):
    ours = engine.normal(engine.zeros(4, dtype=getattr(engine, dtype)), engine.ones(4, dtype=getattr(engine, dtype)))
    ref = torch.normal(torch.zeros(4, dtype=getattr(torch, dtype)), torch.ones(4, dtype=getattr(torch, dtype)))
    assert str(ours.dtype) == str(ref.dtype)


def test_checks_and_zero_gradients_match_torch():
    for m in (engine, torch):
        with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
            m.normal(m.zeros(3), m.tensor([1.0, float("nan"), 1.0]))
        with pytest.raises(RuntimeError, match="normal expects all elements of std >= 0.0"):
            m.normal(m.zeros(3), m.tensor([1.0, -1.0, 1.0]))
    mean = engine.zeros(3, requires_grad=True)
    std = engine.ones(3)
    z = engine.normal(mean, std)
    assert z.requires_grad and z.grad_fn.name() == "NormalBackward0"
    z.sum().backward()
    np.testing.assert_array_equal(mean.grad.numpy(), np.zeros(3, np.float32))
    assert not engine.normal(engine.zeros(3), std).requires_grad
    with engine.no_grad():
        assert not engine.normal(mean, std).requires_grad
