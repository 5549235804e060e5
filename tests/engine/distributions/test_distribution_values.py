"""``engine.distributions`` against ``torch.distributions``: log_prob, entropy, moments, parameters, shapes,
gradients of log_prob and KL divergences, computed exactly (no draws)."""

import numpy as np
import pytest
import torch
from dist_cases import CASES

import engine.distributions


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def close(ours, theirs, dtype):
    tol = 1e-10 if dtype == "float64" else 2e-5
    np.testing.assert_allclose(_np(ours), _np(theirs), rtol=tol, atol=tol, equal_nan=True)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", CASES)
def test_scores_and_moments_match_torch(case, dtype):
    (d, x), (td, tx) = CASES[case](engine, dtype), CASES[case](torch, dtype)
    assert d.batch_shape == tuple(td.batch_shape) and d.event_shape == tuple(td.event_shape)
    close(d.log_prob(x), td.log_prob(tx), dtype)
    assert d.log_prob(x).dtype == getattr(engine, dtype)
    close(d.entropy(), td.entropy(), dtype)
    for name in ("mean", "variance", "stddev"):
        close(getattr(d, name), getattr(td, name), dtype)
    for name in ("probs", "logits", "scale_tril", "covariance_matrix", "precision_matrix"):
        if hasattr(td, name):
            close(getattr(d, name), getattr(td, name), dtype)


@pytest.mark.parametrize("case", CASES)
def test_log_prob_gradients_match_torch(case):
    (d, x), (td, tx) = CASES[case](engine, "float64", grad=True), CASES[case](torch, "float64", grad=True)
    params = [p for p in _leaves(d) if p.requires_grad]
    t_params = [p for p in _leaves(td) if p.requires_grad]
    assert len(params) == len(t_params) == (2 if case.startswith(("normal", "uniform", "mvn")) else 1)
    (d.log_prob(x).sum() + d.entropy().sum()).backward()
    (td.log_prob(tx).sum() + td.entropy().sum()).backward()
    for p, tp in zip(params, t_params):
        close(p.grad, tp.grad, "float64")


def _leaves(d):
    """The parameter tensors a case built, in a fixed order (expanded views lead back to them)."""
    found = []
    for name in ("loc", "scale", "low", "high", "probs", "logits", "covariance_matrix", "precision_matrix",
                 "_unbroadcasted_scale_tril"):
        t = d.__dict__.get(name)
        while t is not None and t.grad_fn is not None:
            t = _source(t)
        if t is not None and t.requires_grad and all(t is not f for f in found):
            found.append(t)
    return found


def _source(t):
    """What an expand or normalisation in a constructor was applied to: the tensor a case passed in."""
    node = t.grad_fn
    while node is not None:
        for nxt, _ in node.next_functions:
            if nxt is not None and type(nxt).__name__ == "AccumulateGrad":
                return nxt.variable
        node = next((n for n, _ in node.next_functions if n is not None), None)
    return None


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("sample_shape", [(), (5,), (2, 3)])
def test_sample_shapes_match_torch(case, sample_shape):
    (d, _), (td, _) = CASES[case](engine, "float32"), CASES[case](torch, "float32")
    s, ts = d.sample(sample_shape), td.sample(sample_shape)
    assert s.shape == tuple(ts.shape) and str(s.dtype) == str(ts.dtype)
    assert not s.requires_grad
    if td.has_rsample:
        assert d.rsample(sample_shape).shape == tuple(td.rsample(sample_shape).shape)


@pytest.mark.parametrize("case", CASES)
def test_expand_matches_torch(case):
    (d, x), (td, tx) = CASES[case](engine, "float64"), CASES[case](torch, "float64")
    shape = (4, *td.batch_shape)
    e, te = d.expand(shape), td.expand(shape)
    assert e.batch_shape == tuple(te.batch_shape) and e.sample().shape == tuple(te.sample().shape)
    close(e.log_prob(x[:1]), te.log_prob(tx[:1]), "float64")


def test_scalar_parameters_and_repr():
    d, td = engine.distributions.Normal(0.0, 1.0), torch.distributions.Normal(0.0, 1.0)
    assert d.batch_shape == () and d.sample().shape == () and repr(d) == repr(td)
    close(d.log_prob(engine.tensor(0.5)), td.log_prob(torch.tensor(0.5)), "float32")
    assert engine.distributions.Bernoulli(0.3).batch_shape == ()


def test_uniform_cdf_and_icdf():
    d, td = engine.distributions.Uniform(-1.0, 3.0), torch.distributions.Uniform(-1.0, 3.0)
    v = [-1.0, 0.0, 2.5]
    close(d.cdf(engine.tensor(v)), td.cdf(torch.tensor(v)), "float32")
    close(d.icdf(engine.tensor([0.0, 0.5])), td.icdf(torch.tensor([0.0, 0.5])), "float32")


@pytest.mark.parametrize("case", ["categorical_probs", "bernoulli_logits"])
def test_enumerate_support(case):
    (d, _), (td, _) = CASES[case](engine, "float32"), CASES[case](torch, "float32")
    assert d.enumerate_support().tolist() == td.enumerate_support().tolist()
    assert d.enumerate_support().dtype == getattr(engine, str(td.enumerate_support().dtype)[6:])
    assert d.enumerate_support(expand=False).shape == tuple(td.enumerate_support(expand=False).shape)


PAIRS = [("normal", "normal"), ("uniform", "uniform"), ("bernoulli_probs", "bernoulli_logits"),
         ("categorical_probs", "categorical_logits"), ("mvn_covariance", "mvn_precision"),
         ("mvn_scale_tril", "mvn_covariance")]


@pytest.mark.parametrize("p, q", PAIRS)
def test_kl_divergence_matches_torch(p, q):
    ours = engine.distributions.kl_divergence(CASES[p](engine, "float64")[0], CASES[q](engine, "float64")[0])
    theirs = torch.distributions.kl_divergence(CASES[p](torch, "float64")[0], CASES[q](torch, "float64")[0])
    close(ours, theirs, "float64")


@pytest.mark.parametrize("family, p, q", [
    ("Normal", (0.0, 1.0), (1.0, 2.0)), ("Uniform", (0.0, 1.0), (-1.0, 2.0)), ("Uniform", (0.0, 2.0), (0.5, 1.0)),
    ("Bernoulli", (0.0,), (0.5,)), ("Bernoulli", (0.3,), (1.0,)),
])
def test_kl_divergence_between_different_parameters(family, p, q):
    def kl(m):
        cls = getattr(m.distributions, family)
        return m.distributions.kl_divergence(cls(*map(m.tensor, p)), cls(*map(m.tensor, q)))

    close(kl(engine), kl(torch), "float32")


def test_kl_divergence_of_unregistered_pair():
    with pytest.raises(NotImplementedError, match="No KL\\(p \\|\\| q\\) is implemented for p type Normal"):
        engine.distributions.kl_divergence(engine.distributions.Normal(0.0, 1.0),
                                           engine.distributions.Uniform(0.0, 1.0))
