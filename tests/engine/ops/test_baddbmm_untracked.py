"""``baddbmm`` without a node (host float32/64 operands, no gradient recorded) against PyTorch: the scalings,
``beta=0`` ignoring NaN in the input, single and threaded stacks, and the node when a gradient is wanted."""

import numpy as np
import pytest
import torch

import engine
from engine import backend


@pytest.mark.parametrize("batch", [1, 3, 600])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("beta, alpha", [(1, 1), (0.5, -2.0), (0, 1), (0, 3)])
def test_untracked_baddbmm_matches_torch(batch, dtype, beta, alpha):
    rng = np.random.default_rng(batch)
    x, a, b = (rng.standard_normal(s).astype(dtype) for s in ((batch, 5, 6), (batch, 5, 7), (batch, 7, 6)))
    if beta == 0:
        x[0, 0, 0] = np.nan  # ignored, as in PyTorch
    ours = engine.baddbmm(*map(engine.tensor, (x, a, b)), beta=beta, alpha=alpha)
    ref = torch.baddbmm(*map(torch.tensor, (x, a, b)), beta=beta, alpha=alpha)
    assert ours.grad_fn is None and str(ours.dtype) == str(ref.dtype)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-5, atol=1e-5)


def test_untracked_baddbmm_takes_the_implementation_a_block_asks_for():
    rng = np.random.default_rng(0)
    x, a, b = (engine.tensor(rng.standard_normal((4, 3, 3)).astype(np.float32)) for _ in range(3))
    with backend.disable("threads"):
        generic = engine.baddbmm(x, a, b).numpy()
    np.testing.assert_allclose(engine.baddbmm(x, a, b).numpy(), generic, rtol=1e-6)
    with backend.disable("threads", "generic"), pytest.raises(RuntimeError, match="no implementation"):
        engine.baddbmm(x, a, b)


def test_baddbmm_records_its_node_when_a_gradient_is_wanted():
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((2, 3, 3)).astype(np.float32) for _ in range(3)]
    ours = [engine.tensor(v, requires_grad=True) for v in arrays]
    ref = [torch.tensor(v, requires_grad=True) for v in arrays]
    y = engine.baddbmm(*ours, beta=0.5)
    assert y.grad_fn.name() == "BaddbmmBackward0"
    y.sum().backward()
    torch.baddbmm(*ref, beta=0.5).sum().backward()
    for e, t in zip(ours, ref, strict=True):
        np.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5)
    with engine.no_grad():
        assert engine.baddbmm(*ours).grad_fn is None
