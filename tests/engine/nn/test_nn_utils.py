"""engine.nn.utils against torch.nn.utils: gradient clipping and parameter vectors."""

import math

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")


def grads_pair(seed=0):
    rng = np.random.default_rng(seed)
    shapes = [(4, 3), (3,), (2, 2, 2)]
    arrays = [rng.standard_normal(s).astype(np.float32) * 3 for s in shapes]
    ours, theirs = [], []
    for a in arrays:
        p = engine.nn.Parameter(engine.zeros(*a.shape))
        p.grad = engine.tensor(a)
        q = torch.nn.Parameter(torch.zeros(*a.shape))
        q.grad = torch.tensor(a)
        ours.append(p)
        theirs.append(q)
    return ours, theirs


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf, 3.0])
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_matches_pytorch(norm_type, max_norm):
    ours, theirs = grads_pair()
    a = engine.nn.utils.clip_grad_norm_(ours, max_norm, norm_type)
    b = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert a.item() == pytest.approx(b.item(), rel=1e-5)
    for p, q in zip(ours, theirs):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_clip_grad_norm_nonfinite_and_value():
    ours, _ = grads_pair()
    ours[0].grad[0, 0] = float("nan")
    with pytest.raises(RuntimeError, match="non-finite"):
        engine.nn.utils.clip_grad_norm_(ours, 1.0, error_if_nonfinite=True)
    ours, theirs = grads_pair(1)
    engine.nn.utils.clip_grad_value_(ours, 0.7)
    torch.nn.utils.clip_grad_value_(theirs, 0.7)
    for p, q in zip(ours, theirs):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy())


def test_parameter_vectors_round_trip():
    lin = engine.nn.Linear(3, 2)
    vec = engine.nn.utils.parameters_to_vector(lin.parameters())
    assert vec.shape == (8,) and vec.requires_grad
    engine.nn.utils.vector_to_parameters(engine.arange(8.0), lin.parameters())
    assert lin.weight.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]] and lin.bias.tolist() == [6.0, 7.0]
    with pytest.raises(RuntimeError, match="vector has 9 elements"):
        engine.nn.utils.vector_to_parameters(engine.arange(9.0), lin.parameters())
