"""``Normal.cdf`` and ``Normal.icdf`` against torch: values, dtypes, gradients (twice) and argument checks."""

import numpy as np
import pytest
import torch
from dist_cases import normal

import engine


def _np(t):
    return t.detach().numpy()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_cdf_and_icdf_match_torch(dtype):
    (d, x), (td, tx) = normal(engine, dtype), normal(torch, dtype)
    tol = 1e-12 if dtype == "float64" else 2e-6
    cdf, t_cdf = d.cdf(x), td.cdf(tx)
    assert cdf.dtype == getattr(engine, dtype)
    np.testing.assert_allclose(_np(cdf), _np(t_cdf), rtol=tol, atol=tol)
    p = np.random.default_rng(3).uniform(0.001, 0.999, (4, 2, 3))
    icdf = d.icdf(engine.tensor(p, dtype=getattr(engine, dtype)))
    t_icdf = td.icdf(torch.tensor(p, dtype=getattr(torch, dtype)))
    assert icdf.dtype == getattr(engine, dtype)
    np.testing.assert_allclose(_np(icdf), _np(t_icdf), rtol=10 * tol, atol=10 * tol)
    np.testing.assert_allclose(_np(d.cdf(icdf)), p, rtol=100 * tol, atol=100 * tol)


def test_cdf_and_icdf_gradients_match_torch():
    """First and second derivatives with respect to loc, scale and the value (erf and erfinv inside)."""
    p = np.random.default_rng(4).uniform(0.05, 0.95, (4, 2, 3))
    results = []
    for m in (engine, torch):
        d, x = normal(m, "float64", grad=True)
        x.requires_grad_()
        q = m.tensor(p, requires_grad=True)
        total = (d.cdf(x) ** 2).sum() + (d.icdf(q) ** 2).sum()
        firsts = m.autograd.grad(total, [d.loc, d.scale, x, q], create_graph=True)
        seconds = m.autograd.grad(sum((g * g).sum() for g in firsts), [d.loc, d.scale, x, q])
        results.append([_np(g) for g in (*firsts, *seconds)])
    for ours, theirs in zip(*results):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def test_cdf_validates_its_value():
    for m in (engine, torch):
        with pytest.raises(ValueError, match="The value argument to log_prob must be a Tensor"):
            m.distributions.Normal(0.0, 1.0).cdf(0.5)
        with pytest.raises(ValueError, match=r"to be within the support \(Real\(\)\) of the distribution Normal"):
            m.distributions.Normal(m.zeros(2), 1.0).cdf(m.tensor([0.0, float("nan")]))
