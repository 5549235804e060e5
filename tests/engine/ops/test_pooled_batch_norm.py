"""``PooledBatchNorm``, the op under SyncBatchNorm: with pooling that does nothing (one process) it is
training-mode batch norm, checked against PyTorch on both implementations and on the CUDA stand-in, and its
gradients by gradcheck in float64. Two ranks pooling their halves are checked in tests/engine/distributed."""

import numpy as np
import pytest

import engine
from engine import backend
from engine.ops.norm import pooled_batch_norm


def _alone(mean, var, count):
    return mean, var, count


def _no_reduce(gsum, gdot):
    return gsum, gdot


def _run(lib, x, w, b, rm, rv, device="cpu"):
    xt = lib.tensor(x, requires_grad=True, device=device)
    wt = lib.tensor(w, requires_grad=True, device=device)
    bt = lib.tensor(b, requires_grad=True, device=device)
    rmt, rvt = lib.tensor(rm, device=device), lib.tensor(rv, device=device)
    if lib is engine:
        y = pooled_batch_norm(xt, rmt, rvt, wt, bt, 0.1, 1e-5, _alone, _no_reduce)
    else:
        y = lib.nn.functional.batch_norm(xt, rmt, rvt, wt, bt, training=True, momentum=0.1, eps=1e-5)
    g = np.linspace(-1, 1, y.numel(), dtype=x.dtype).reshape(y.shape)
    (y * lib.tensor(g, device=device)).sum().backward()
    return [t.detach().cpu().numpy() for t in (y, xt.grad, wt.grad, bt.grad, rmt, rvt)]


def _inputs(shape):
    rng = np.random.default_rng(0)
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    return x, rng.random(c, np.float32) + 0.5, rng.standard_normal(c).astype(np.float32), \
        rng.standard_normal(c).astype(np.float32), rng.random(c, np.float32) + 0.5


@pytest.mark.parametrize("implementation", ["compiled", "generic"])
@pytest.mark.parametrize("shape", [(6, 4, 5, 5), (8, 3, 7), (16, 5)])
def test_alone_it_is_pytorchs_training_batch_norm(implementation, shape):
    torch = pytest.importorskip("torch")
    args = _inputs(shape)
    with backend.prefer(implementation):
        ours = _run(engine, *args)
    for name, a, b in zip(("y", "dx", "dw", "db", "running_mean", "running_var"), ours, _run(torch, *args)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=name)


def test_on_a_cuda_device_results_stay_there(fake_cuda):
    args = _inputs((6, 4, 5, 5))
    on_host = _run(engine, *args)
    on_device = _run(engine, *args, device="cuda")
    for a, b in zip(on_device, on_host):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_gradients_pass_gradcheck_in_float64():
    rng = np.random.default_rng(1)
    x = engine.tensor(rng.standard_normal((4, 3, 3, 2)), requires_grad=True)
    w = engine.tensor(rng.random(3) + 0.5, requires_grad=True)
    b = engine.tensor(rng.standard_normal(3), requires_grad=True)
    assert engine.autograd.gradcheck(
        lambda x, w, b: pooled_batch_norm(x, None, None, w, b, 0.1, 1e-5, _alone, _no_reduce), (x, w, b))


def test_one_value_per_channel_over_the_processes_is_refused():
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training, got 1 over the "
                                         r"processes \(input size torch.Size\(\[1, 3\]\) here\)"):
        pooled_batch_norm(engine.ones(1, 3), None, None, None, None, 0.1, 1e-5, _alone, _no_reduce)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_two_byte_floats_compute_in_float32_as_batch_norm(dtype):
    """float16 and bfloat16 pool their statistics in float32, as PyTorch's batch norm computes them: NumPy's
    float16 sums overflowed past 65,504, and its einsum takes no bfloat16."""
    torch = pytest.importorskip("torch")

    rng = np.random.default_rng(9)
    x = (rng.standard_normal((64, 4, 32, 32)) * 3).astype(np.float32)
    results = []
    for lib in (engine, torch):
        low = getattr(lib, dtype)
        xt = lib.tensor(x).to(low).requires_grad_()
        rm, rv = lib.zeros(4, dtype=low), lib.ones(4, dtype=low)
        if lib is engine:
            y = pooled_batch_norm(xt, rm, rv, None, None, 0.1, 1e-5, _alone, _no_reduce)
        else:
            y = lib.nn.functional.batch_norm(xt, rm, rv, training=True, momentum=0.1, eps=1e-5)
        y.backward(lib.ones_like(y))
        assert y.dtype == xt.grad.dtype == rm.dtype == low
        results.append([t.detach().float().numpy() for t in (y, xt.grad, rm, rv)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=3e-2 * max(1.0, float(np.abs(theirs).max())))
