"""``trace`` without a node (host tensors of the common dtypes when no gradient is recorded) against PyTorch."""

import numpy as np
import pytest
import torch

import engine


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "int32", "int16", "uint8"])
@pytest.mark.parametrize("shape", [(10, 100), (100, 10), (7, 7), (0, 3), (1, 1)])
def test_trace_matches_torch(dtype, shape):
    a = (np.random.default_rng(0).standard_normal(shape) * 50).astype(dtype)
    ours, ref = engine.trace(engine.tensor(a)), torch.trace(torch.tensor(a))
    assert ours.dtype == getattr(engine, str(ref.dtype).split(".")[1]) and ours.shape == ref.shape == ()
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-6)


def test_trace_of_a_strided_view():
    a = np.arange(60, dtype=np.float32).reshape(6, 10)
    for view in (lambda t: t.t(), lambda t: t[::2, 1::3], lambda t: t[:, 2:]):
        assert view(engine.tensor(a)).trace().item() == view(torch.tensor(a)).trace().item()


def test_trace_result_is_a_new_writable_tensor():
    x = engine.tensor(np.eye(3, dtype=np.float32))
    out = engine.trace(x)
    out.add_(1)
    assert out.item() == 4.0 and x.numpy().trace() == 3.0 and out.grad_fn is None


def test_trace_records_its_node_when_a_gradient_is_wanted():
    x = engine.tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    out = engine.trace(x)
    assert out.grad_fn.name() == "TraceBackward0"
    out.backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.eye(3, 4, dtype=np.float32))
    with engine.no_grad():
        assert engine.trace(x).grad_fn is None and not engine.trace(x).requires_grad


def test_trace_of_float16_and_under_autocast_keeps_its_dtype_rules():
    a = np.arange(9, dtype=np.float16).reshape(3, 3)
    assert engine.trace(engine.tensor(a)).dtype == engine.float16
    with engine.autocast("cpu", dtype=engine.bfloat16):
        assert engine.trace(engine.tensor(a.astype(np.float32)).bfloat16()).dtype == engine.float32
        assert engine.trace(engine.tensor(a.astype(np.float32))).dtype == engine.float32
