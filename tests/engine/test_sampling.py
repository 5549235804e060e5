"""Random sampling (``engine.ops.sampling``): statistics of the draws, shapes, dtypes and errors against PyTorch.

PyTorch's random streams cannot be matched, so draws are checked statistically with fixed seeds: sample
means and variances within a few standard errors, chi-square for the categorical draws.
"""

import numpy as np
import pytest
import torch
from optest import check_error

import engine

N = 40_000


def chi_square_ok(counts, probs):
    """Pearson's statistic below the 0.999 quantile of chi-square with len(probs) - 1 degrees of freedom."""
    counts = np.asarray(counts, dtype=np.float64)
    expected = counts.sum() * np.asarray(probs) / np.sum(probs)
    stat = ((counts - expected) ** 2 / expected).sum()
    dof = len(probs) - 1
    bound = dof + 3.1 * np.sqrt(2 * dof) + 6  # generous 0.999-ish bound for small dof
    return stat < bound


def close_in_mean(x, mean, var, k=5):
    x = np.asarray(x, dtype=np.float64)
    return abs(x.mean() - mean) < k * np.sqrt(var / x.size)


@pytest.fixture(autouse=True)
def _seed():
    engine.manual_seed(1234)


def test_multinomial_with_replacement_follows_the_weights():
    probs = [1.0, 2.0, 3.0, 4.0, 0.0]
    draws = engine.multinomial(engine.tensor(probs), N, replacement=True).numpy()
    assert draws.dtype == np.int64 and draws.shape == (N,)
    counts = np.bincount(draws, minlength=5)
    assert counts[4] == 0 and chi_square_ok(counts[:4], probs[:4])


def test_multinomial_rows_without_replacement():
    weights = engine.tensor([[1.0, 2.0, 3.0, 4.0]]).repeat(N // 4, 1)
    draws = engine.multinomial(weights, 4).numpy()
    assert draws.shape == (N // 4, 4)
    assert (np.sort(draws, axis=1) == np.arange(4)).all()  # each row a permutation
    assert chi_square_ok(np.bincount(draws[:, 0], minlength=4), [1, 2, 3, 4])
    # the second draw of weighted sampling without replacement: P(j) = sum_i p_i p_j / (1 - p_i)
    p = np.array([1, 2, 3, 4]) / 10
    second = np.array([sum(p[i] * p[j] / (1 - p[i]) for i in range(4) if i != j) for j in range(4)])
    assert chi_square_ok(np.bincount(draws[:, 1], minlength=4), second)


def test_multinomial_zero_weights_come_last_without_replacement():
    draws = engine.multinomial(engine.tensor([0.0, 5.0, 0.0]), 3).tolist()
    assert draws[0] == 1 and sorted(draws) == [0, 1, 2]


def test_multinomial_shapes_and_generator():
    g = engine.Generator().manual_seed(7)
    a = engine.multinomial(engine.ones(3, 5), 2, generator=g)
    g.manual_seed(7)
    b = engine.ones(3, 5).multinomial(2, generator=g)
    assert a.shape == torch.multinomial(torch.ones(3, 5), 2).shape and a.tolist() == b.tolist()
    assert engine.multinomial(engine.ones(0, 3), 1).shape == (0, 1)


@pytest.mark.parametrize("fn, match", [
    (lambda m: m.multinomial(m.ones(2, 2, 2), 1), "prob_dist must be 1 or 2 dim"),
    (lambda m: m.multinomial(m.ones(2), 0), "cannot sample n_sample <= 0 samples"),
    (lambda m: m.multinomial(m.ones(2), 3), "cannot sample n_sample > prob_dist.size(-1) samples without"),
    (lambda m: m.multinomial(m.tensor([-1.0, 1.0]), 1), "probability tensor contains either `inf`, `nan` or"),
    (lambda m: m.multinomial(m.tensor([1.0, float("nan")]), 1), "probability tensor contains either"),
    (lambda m: m.multinomial(m.zeros(2), 1), "invalid multinomial distribution (sum of probabilities <= 0)"),
    (lambda m: m.multinomial(m.ones(2, dtype=m.long), 1), "multinomial only supports floating-point dtypes"),
])
def test_multinomial_errors(fn, match):
    check_error(fn, RuntimeError, match)


def test_bernoulli_draws_and_dtypes():
    p = engine.tensor([0.0, 0.25, 1.0], dtype=engine.float64).repeat(N, 1)
    draws = engine.bernoulli(p).numpy()
    assert draws.dtype == np.float64
    assert (draws[:, 0] == 0).all() and (draws[:, 2] == 1).all()
    assert close_in_mean(draws[:, 1], 0.25, 0.25 * 0.75)
    half = engine.bernoulli(engine.zeros(N, dtype=engine.float32), p=0.5)
    assert half.dtype == engine.float32 and close_in_mean(half.numpy(), 0.5, 0.25)
    assert set(engine.full((100,), 0.5).bernoulli().unique().tolist()) <= {0.0, 1.0}


def test_normal_overloads_match_torch_in_shape_and_dtype():
    cases = [
        lambda m: m.normal(m.zeros(2, 3), 2.0),
        lambda m: m.normal(1.0, m.ones(3, dtype=m.float64)),
        lambda m: m.normal(m.zeros(2, 1), m.ones(3)),
        lambda m: m.normal(0.0, 1.0, (4, 2)),
        lambda m: m.normal(0.0, 1.0, size=(3,), dtype=m.float64),
    ]
    for case in cases:
        ours, theirs = case(engine), case(torch)
        assert tuple(ours.shape) == tuple(theirs.shape) and str(ours.dtype) == str(theirs.dtype)


def test_normal_statistics_and_zero_gradients():
    mean = engine.full((N,), 3.0, requires_grad=True)
    std = engine.full((N,), 2.0, requires_grad=True)
    x = engine.normal(mean, std)
    assert close_in_mean(x.detach().numpy(), 3.0, 4.0)
    assert abs(x.detach().numpy().std() - 2.0) < 0.05
    x.sum().backward()  # PyTorch's normal passes zero gradients to its parameters
    assert (mean.grad.numpy() == 0).all() and (std.grad.numpy() == 0).all()


@pytest.mark.parametrize("fn, match", [
    (lambda m: m.normal(m.zeros(2), -1.0), "normal expects std >= 0.0, but found std -1"),
    (lambda m: m.normal(0.0, -1.0, (2,)), "normal expects std >= 0.0, but found std -1"),
    (lambda m: m.normal(m.zeros(2), -m.ones(2)), "normal expects all elements of std >= 0.0"),
    (lambda m: m.normal(m.zeros(2), m.ones(3)), "The size of tensor a (2) must match the size of tensor b (3)"),
    (lambda m: m.bernoulli(m.tensor([2.0])), "Expected p_in >= 0 && p_in <= 1 to be true, but got false."),
    (lambda m: m.bernoulli(m.ones(2), p=1.5), "bernoulli_ expects p to be in [0, 1], but got p=1.5"),
    (lambda m: m.poisson(m.tensor([-1.0])), "invalid Poisson rate, expected rate to be non-negative"),
    (lambda m: m.empty(2).exponential_(-1), "exponential_ expects lambda > 0.0, but found lambda=-1"),
    (lambda m: m.empty(2, dtype=m.long).exponential_(), "dtype must be a floating point but you specified Long"),
    (lambda m: m.empty(2).geometric_(0), "geometric_ expects p to be in (0, 1), but got p=0"),
    (lambda m: m.empty(2).bernoulli_(2.0), "bernoulli_ expects p to be in [0, 1], but got p=2"),
    (lambda m: m.empty(2).log_normal_(0, -1), "log_normal_ expects std > 0.0, but found std=-1"),
    (lambda m: m.empty(2).cauchy_(0, -1), "cauchy_ expects sigma > 0.0, but found sigma=-1"),
    (lambda m: m.empty(3).random_(5, 2), "random_ expects 'from' to be less than 'to', but got from=5 >= to=2"),
])
def test_runtime_errors(fn, match):
    check_error(fn, RuntimeError, match)


@pytest.mark.parametrize("fn, match", [
    (lambda m: m.bernoulli(m.tensor([1, 0])), "not implemented for 'Long'"),
    (lambda m: m.poisson(m.tensor([1])), "not implemented for 'Long'"),
    (lambda m: m.normal(m.tensor([1]), 1.0), "\"normal_kernel_cpu\" not implemented for 'Long'"),
])
def test_integer_inputs_are_refused(fn, match):
    check_error(fn, NotImplementedError, match)


def test_poisson():
    rates = engine.tensor([0.0, 0.5, 7.0], dtype=engine.float64).repeat(N, 1)
    draws = engine.poisson(rates).numpy()
    assert draws.dtype == np.float64 and (draws[:, 0] == 0).all()
    assert close_in_mean(draws[:, 1], 0.5, 0.5) and close_in_mean(draws[:, 2], 7.0, 7.0)


def test_in_place_continuous_fills():
    x = engine.empty(N)
    assert x.exponential_(2.0) is x and x.dtype == engine.float32
    assert (x.numpy() >= 0).all() and close_in_mean(x.numpy(), 0.5, 0.25)
    x.log_normal_(0.5, 0.25)
    assert close_in_mean(np.log(x.numpy()), 0.5, 0.0625)
    x.cauchy_(1.0, 2.0)
    q25, q50, q75 = np.quantile(x.numpy(), [0.25, 0.5, 0.75])
    assert abs(q50 - 1.0) < 0.06 and abs((q75 - q25) / 2 - 2.0) < 0.1  # Cauchy's quartiles: median ± sigma


def test_in_place_discrete_fills():
    x = engine.empty(N, dtype=engine.float64)
    x.geometric_(0.25)
    assert x.numpy().min() >= 1 and (x.numpy() % 1 == 0).all() and close_in_mean(x.numpy(), 4.0, 12.0)
    x.bernoulli_(0.3)
    assert set(np.unique(x.numpy())) <= {0.0, 1.0} and close_in_mean(x.numpy(), 0.3, 0.21)
    x.bernoulli_(engine.tensor([0.0, 1.0]).repeat(N // 2))
    assert x.numpy()[0::2].sum() == 0 and x.numpy()[1::2].sum() == N // 2
    i = engine.empty(N, dtype=engine.int32).geometric_(0.5)
    assert i.dtype == engine.int32 and i.numpy().min() >= 1


def test_random_ranges():
    x = engine.empty(N)
    assert x.random_(-2, 3) is x and set(np.unique(x.numpy())) == {-2, -1, 0, 1, 2}
    x.random_(4)
    assert set(np.unique(x.numpy())) == {0, 1, 2, 3}
    x.random_()
    assert x.numpy().min() >= 0 and x.numpy().max() <= 2**24 and (x.numpy() % 1 == 0).all()
    b = engine.empty(100, dtype=engine.bool).random_()
    assert set(b.tolist()) == {False, True}


def test_in_place_draw_on_a_leaf_that_requires_grad_is_refused():
    check_error(lambda m: m.zeros(2, requires_grad=True).exponential_(), RuntimeError,
                "a leaf Variable that requires grad is being used in an in-place operation.")


def test_manual_seed_reproduces_every_draw():
    def draws():
        engine.manual_seed(5)
        return [engine.multinomial(engine.ones(6), 3).tolist(), engine.bernoulli(engine.full((5,), 0.5)).tolist(),
                engine.normal(engine.zeros(3), 1.0).tolist(), engine.poisson(engine.ones(3)).tolist(),
                engine.empty(3).exponential_().tolist(), engine.randperm(5).tolist()]

    assert draws() == draws()


def test_randperm_generator():
    g = engine.Generator().manual_seed(3)
    a = engine.randperm(10, generator=g)
    assert sorted(a.tolist()) == list(range(10))
    assert a.tolist() == engine.randperm(10, generator=engine.Generator().manual_seed(3)).tolist()


def test_draws_on_the_cuda_stand_in(fake_cuda):
    p = engine.tensor([0.2, 0.8], device="cuda")
    for t in (engine.multinomial(p, 4, replacement=True), engine.multinomial(p, 2), engine.bernoulli(p),
              engine.normal(p, 1.0), engine.poisson(p), engine.empty(3, device="cuda").exponential_(),
              engine.empty(3, device="cuda").random_(3)):
        assert t.device.type == "cuda"
    engine.manual_seed(9)
    a = engine.multinomial(p, 8, replacement=True).tolist()
    engine.manual_seed(9)
    assert engine.multinomial(p, 8, replacement=True).tolist() == a
