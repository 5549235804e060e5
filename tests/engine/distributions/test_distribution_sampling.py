"""``engine.distributions``: draws (statistics with fixed seeds), reparameterised gradients against their
analytic values, and the checks of arguments against PyTorch's errors."""

import numpy as np
import pytest
import torch
from dist_cases import CASES

import engine
from engine import distributions as D

N = 20_000


@pytest.fixture(autouse=True)
def _seed():
    engine.manual_seed(2024)


def _within(sample_mean, mean, var, n, k=5):
    return np.all(np.abs(sample_mean - mean) < k * np.sqrt(var / n) + 1e-12)


@pytest.mark.parametrize("case", [c for c in CASES if not c.startswith("categorical")])
def test_draws_have_the_distributions_mean_and_variance(case):
    d, _ = CASES[case](engine, "float64")
    s = d.sample((N,)).numpy()
    mean, var = d.mean.numpy(), d.variance.numpy()
    assert _within(s.mean(0), mean, var, N)
    # the sample variance's standard error is sqrt(mu4 - var^2) / sqrt(n); a 10% bound covers these families
    np.testing.assert_allclose(s.var(0), var, rtol=0.1)
    if d.has_rsample:
        r = d.rsample((N,)).numpy()
        assert _within(r.mean(0), mean, var, N)


def test_categorical_draws_chi_square():
    probs = engine.tensor([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    draws = D.Categorical(probs=probs).sample((N,)).numpy()
    assert draws.shape == (N, 2) and draws.dtype == np.int64
    for row in range(2):
        counts = np.bincount(draws[:, row], minlength=4)
        expected = N * probs.numpy()[row]
        assert ((counts - expected) ** 2 / expected).sum() < 16.3  # chi-square(3) at 0.999


def test_multivariate_normal_draws_have_its_covariance():
    cov = engine.tensor([[2.0, 0.6, 0.0], [0.6, 1.0, -0.3], [0.0, -0.3, 0.5]], dtype=engine.float64)
    s = D.MultivariateNormal(engine.tensor([1.0, -1.0, 0.0], dtype=engine.float64), cov).sample((N,)).numpy()
    np.testing.assert_allclose(np.cov(s.T), cov.numpy(), atol=0.06)


def test_normal_rsample_gradients_are_the_reparameterisation():
    loc = engine.tensor([0.5, -1.0], requires_grad=True)
    scale = engine.tensor([2.0, 0.5], requires_grad=True)
    x = D.Normal(loc, scale).rsample((1000,))
    x.sum().backward()
    eps = (x.detach() - loc.detach()) / scale.detach()
    np.testing.assert_allclose(loc.grad.numpy(), [1000, 1000])
    np.testing.assert_allclose(scale.grad.numpy(), eps.sum(0).numpy(), rtol=1e-4)


def test_uniform_rsample_gradients_are_the_reparameterisation():
    low = engine.tensor([0.0, -2.0], requires_grad=True)
    high = engine.tensor([1.0, 3.0], requires_grad=True)
    x = D.Uniform(low, high).rsample((1000,))
    x.sum().backward()
    u = ((x.detach() - low.detach()) / (high.detach() - low.detach())).numpy()
    np.testing.assert_allclose(low.grad.numpy(), (1 - u).sum(0), rtol=1e-4)
    np.testing.assert_allclose(high.grad.numpy(), u.sum(0), rtol=1e-4)


def test_multivariate_normal_rsample_gradients_are_the_reparameterisation():
    loc = engine.tensor([0.5, -1.0], dtype=engine.float64, requires_grad=True)
    tril = engine.tensor([[1.5, 0.0], [0.4, 0.7]], dtype=engine.float64, requires_grad=True)
    x = D.MultivariateNormal(loc, scale_tril=tril).rsample((500,))
    (x * engine.tensor([1.0, 2.0], dtype=engine.float64)).sum().backward()
    eps = np.linalg.solve(tril.detach().numpy(), (x.detach() - loc.detach()).numpy().T)  # (2, 500)
    np.testing.assert_allclose(loc.grad.numpy(), [500.0, 1000.0])
    np.testing.assert_allclose(tril.grad.numpy(), np.outer([1.0, 2.0], eps.sum(1)), rtol=1e-8)


def test_sample_is_detached_and_reproducible():
    loc = engine.zeros(3, requires_grad=True)
    engine.manual_seed(11)
    a = D.Normal(loc, 1.0).sample((4,))
    engine.manual_seed(11)
    b = D.Normal(loc, 1.0).sample((4,))
    assert not a.requires_grad and a.tolist() == b.tolist()


@pytest.mark.parametrize("build, match", [
    (lambda m: m.distributions.Normal(m.zeros(2), -m.ones(2)), "Expected parameter scale (Tensor of shape (2,))"),
    (lambda m: m.distributions.Normal(m.tensor([float("nan")]), 1.0), "to satisfy the constraint Real()"),
    (lambda m: m.distributions.Bernoulli(probs=m.tensor([1.5])), "to satisfy the constraint Interval(lower_bound=0.0"),
    (lambda m: m.distributions.Bernoulli(), "Either `probs` or `logits` must be specified, but not both."),
    (lambda m: m.distributions.Categorical(probs=m.ones(3), logits=m.ones(3)), "Either `probs` or `logits` must"),
    (lambda m: m.distributions.Categorical(probs=m.tensor(1.0)), "`probs` parameter must be at least one-dimensional"),
    (lambda m: m.distributions.Categorical(probs=m.tensor([-1.0, 2.0])), "Expected parameter probs"),
    (lambda m: m.distributions.Uniform(1.0, 0.0), "Expected parameter low (Tensor of shape ()) of distribution"),
    (lambda m: m.distributions.MultivariateNormal(m.zeros(2)), "Exactly one of covariance_matrix or precision_matrix"),
    (lambda m: m.distributions.MultivariateNormal(m.tensor(0.0), m.eye(2)), "loc must be at least one-dimensional."),
    (lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.ones(2)),
     "scale_tril matrix must be at least two-dimensional, with optional leading batch dimensions"),
    (lambda m: m.distributions.MultivariateNormal(m.zeros(2), m.tensor([[1.0, 2.0], [2.0, 1.0]])),
     "Expected parameter covariance_matrix"),
    (lambda m: m.distributions.MultivariateNormal(m.zeros(2), scale_tril=m.tensor([[1.0, 1.0], [0.0, 1.0]])),
     "Expected parameter scale_tril"),
    (lambda m: m.distributions.Bernoulli(0.5).log_prob(m.tensor(2.0)), "Expected value argument (Tensor of shape ())"),
    (lambda m: m.distributions.Categorical(m.ones(3)).log_prob(m.tensor(3)), "to be within the support"),
    (lambda m: m.distributions.Normal(0.0, 1.0).log_prob(0.5), "The value argument to log_prob must be a Tensor"),
    (lambda m: m.distributions.Normal(m.zeros(3), 1.0).log_prob(m.zeros(2)),
     "Value is not broadcastable with batch_shape+event_shape: "),
    (lambda m: m.distributions.MultivariateNormal(m.zeros(3), m.eye(3)).log_prob(m.zeros(2)),
     "The right-most size of value must match event_shape: "),
])
def test_invalid_arguments_raise_value_error_as_torch_does(build, match):
    for m in (torch, engine):
        with pytest.raises(ValueError, match=match.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
            build(m)


def test_validate_args_false_skips_the_checks():
    d = D.Normal(engine.zeros(2), -engine.ones(2), validate_args=False)
    assert d.scale.tolist() == [-1.0, -1.0]
    assert D.Bernoulli(0.5, validate_args=False).log_prob(engine.tensor(2.0)).shape == ()


def test_draws_on_the_cuda_stand_in(fake_cuda):
    loc = engine.zeros(2, device="cuda")
    for d in (D.Normal(loc, 1.0), D.Uniform(loc, loc + 1), D.Bernoulli(probs=loc + 0.5),
              D.Categorical(logits=loc), D.MultivariateNormal(loc, scale_tril=engine.eye(2, device="cuda"))):
        s = d.sample((3,))
        assert s.device.type == "cuda" and d.log_prob(s).device.type == "cuda"
