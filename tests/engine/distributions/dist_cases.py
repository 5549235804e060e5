"""The distributions under test, each built the same way on ``engine`` and on ``torch`` from one seed.

A case is ``(name, build)`` where ``build(m, dtype)`` returns ``(distribution, values)`` on module ``m``
(``engine`` or ``torch``): ``values`` are points in the support, batch-shaped and with a leading sample dim.
"""

import numpy as np


def _arrays(seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((3, 3))
    return {
        "loc": rng.standard_normal((2, 3)),
        "scale": rng.random((2, 3)) + 0.5,
        "x": rng.standard_normal((4, 2, 3)),
        "low": rng.standard_normal(3),
        "probs": rng.random((2, 4)) * 0.9 + 0.05,
        "bits": (rng.random((5, 2, 4)) < 0.5).astype(np.float64),
        "classes": rng.integers(0, 4, (5, 2)),
        "cov": a @ a.T + np.eye(3),
        "mvn_loc": rng.standard_normal((2, 3)),
        "mvn_x": rng.standard_normal((5, 2, 3)),
    }


A = _arrays()


def _t(m, array, dtype, requires_grad=False):
    t = m.tensor(array, dtype=getattr(m, dtype) if array.dtype.kind == "f" else None)
    return t.requires_grad_() if requires_grad else t


def normal(m, dtype, grad=False):
    return m.distributions.Normal(_t(m, A["loc"], dtype, grad), _t(m, A["scale"], dtype, grad)), _t(m, A["x"], dtype)


def uniform(m, dtype, grad=False):
    low = _t(m, A["low"], dtype, grad)
    high = _t(m, A["low"] + 2.0, dtype, grad)
    return m.distributions.Uniform(low, high), _t(m, A["low"] + np.array([[0.5], [1.0], [1.9]]), dtype)


def bernoulli_probs(m, dtype, grad=False):
    return m.distributions.Bernoulli(probs=_t(m, A["probs"], dtype, grad)), _t(m, A["bits"], dtype)


def bernoulli_logits(m, dtype, grad=False):
    return m.distributions.Bernoulli(logits=_t(m, A["probs"] * 4 - 2, dtype, grad)), _t(m, A["bits"], dtype)


def categorical_probs(m, dtype, grad=False):
    return m.distributions.Categorical(probs=_t(m, A["probs"], dtype, grad)), m.tensor(A["classes"])


def categorical_logits(m, dtype, grad=False):
    return m.distributions.Categorical(logits=_t(m, A["probs"] * 4 - 2, dtype, grad)), m.tensor(A["classes"])


def mvn_covariance(m, dtype, grad=False):
    loc, matrix = _t(m, A["mvn_loc"], dtype, grad), _t(m, A["cov"], dtype, grad)
    d = m.distributions.MultivariateNormal(loc, covariance_matrix=matrix)
    return d, _t(m, A["mvn_x"], dtype)


def mvn_precision(m, dtype, grad=False):
    loc, matrix = _t(m, A["mvn_loc"], dtype, grad), _t(m, A["cov"], dtype, grad)
    d = m.distributions.MultivariateNormal(loc, precision_matrix=matrix)
    return d, _t(m, A["mvn_x"], dtype)


def mvn_scale_tril(m, dtype, grad=False):
    tril = _t(m, np.linalg.cholesky(A["cov"]), dtype, grad)
    d = m.distributions.MultivariateNormal(_t(m, A["mvn_loc"], dtype, grad), scale_tril=tril)
    return d, _t(m, A["mvn_x"], dtype)


CASES = {f.__name__: f for f in (normal, uniform, bernoulli_probs, bernoulli_logits, categorical_probs,
                                  categorical_logits, mvn_covariance, mvn_precision, mvn_scale_tril)}
