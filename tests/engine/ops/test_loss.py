"""Losses (engine/ops/loss.py) beyond the op table (``op_table/loss.py``): finiteness at extreme logits,
the single graph node, a NumPy reference, the broadcast warning and legacy reduction arguments."""

from __future__ import annotations

import re
import types

import numpy as np
import pytest
from optest import HAVE_TORCH, check, requires_torch, torch

import engine
from engine.ops import activation, dropout, loss, norm

# The engine's functions under PyTorch's names, so one lambda runs on both frameworks.
EF = types.SimpleNamespace(
    **{name: getattr(mod, name) for mod in (loss, norm, activation, dropout) for name in mod.__all__}
)

REDUCTIONS = ["mean", "sum", "none"]


def F(m):
    return EF if m is engine else torch.nn.functional


DEVICE_CASES = [
    ("cross_entropy", lambda x, t: EF.cross_entropy(x, t, label_smoothing=0.1)),
    ("cross_entropy probs", lambda x, t: EF.cross_entropy(x, x.detach().softmax(1))),
    ("nll_loss", lambda x, t: EF.nll_loss(x, t)),
    ("mse_loss", lambda x, t: EF.mse_loss(x, x.detach() * 0.5)),
    ("bce_with_logits", lambda x, t: EF.binary_cross_entropy_with_logits(x, x.detach().sigmoid())),
    ("batch_norm", lambda x, t: EF.batch_norm(x, None, None, training=True).sum()),
    # weighted: a plain sum of normalised rows is zero plus rounding, which differs between implementations
    ("layer_norm", lambda x, t: (EF.layer_norm(x, (5,)) * x).sum()),
    ("gelu", lambda x, t: EF.gelu(x).sum()),
    ("dropout", lambda x, t: EF.dropout(x, 0.5).sum()),
]


@requires_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_finite(reduction, label_smoothing):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4], [-1e4, 1e4, 3.0]], np.float32)
    t = np.array([1, 2, 2, 0])
    out = check(
        lambda m, x, t: F(m).cross_entropy(x, t, reduction=reduction, label_smoothing=label_smoothing),
        [x, t],
        grad=[True, False],
        rtol=1e-5,
    )
    assert np.isfinite(out.detach().numpy()).all()
    xe = engine.tensor(x, requires_grad=True)
    EF.cross_entropy(xe, engine.tensor(t), label_smoothing=label_smoothing).backward()
    assert np.isfinite(xe.grad.numpy()).all()


def test_cross_entropy_uint8_targets_and_single_node():
    x = engine.randn(4, 3, requires_grad=True)
    t = engine.tensor(np.array([0, 2, 1, 1], np.uint8))
    out = EF.cross_entropy(x, t, label_smoothing=0.1)
    assert out.grad_fn.name() == "NllLossBackward0"
    assert all(fn is None or fn.name() == "AccumulateGrad" for fn, _ in out.grad_fn.next_functions)
    out.backward()
    assert x.grad.dtype == engine.float32 and out.dtype == engine.float32


def test_cross_entropy_matches_log_softmax_reference():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 4))
    t = np.array([0, 3, 1, -100, 2])
    w = np.array([1.0, 2.0, 0.5, 1.5])
    ls = 0.2
    logp = x - np.log(np.exp(x - x.max(1, keepdims=True)).sum(1, keepdims=True)) - x.max(1, keepdims=True)
    valid = t != -100
    ts = np.where(valid, t, 0)
    nll = -(w[ts] * logp[np.arange(5), ts]) * valid
    smooth = -(logp * w).sum(1) * valid
    expected = ((1 - ls) * nll + ls / 4 * smooth).sum() / (w[ts] * valid).sum()
    out = EF.cross_entropy(engine.tensor(x), engine.tensor(t), weight=engine.tensor(w), label_smoothing=ls)
    assert out.item() == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_broadcast_warning(name):
    x = engine.randn(3, 5, requires_grad=True)
    y = engine.randn(5)
    msg = (
        "Using a target size (torch.Size([5])) that is different to the input size (torch.Size([3, 5])). This "
        "will likely lead to incorrect results due to broadcasting. Please ensure they have the same size."
    )
    with pytest.warns(UserWarning, match=re.escape(msg)) as rec:
        out = getattr(EF, name)(x, y)
    assert rec[0].filename == __file__
    out.backward()
    assert x.grad.shape == (3, 5)
    if HAVE_TORCH:
        xt = torch.tensor(x.detach().numpy(), requires_grad=True)
        with pytest.warns(UserWarning, match=re.escape(msg)):
            ref = getattr(torch.nn.functional, name)(xt, torch.tensor(y.numpy()))
        ref.backward()
        np.testing.assert_allclose(out.item(), ref.item(), rtol=1e-5)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)


@requires_torch
def test_binary_cross_entropy_log_clamped_at_minus_100():
    x = np.array([0.0, 1.0, 1e-30, 0.5], np.float32)
    t = np.array([1.0, 0.0, 1.0, 0.5], np.float32)
    out = check(lambda m, x, t: F(m).binary_cross_entropy(x, t, reduction="none"), [x, t], grad=False)
    np.testing.assert_allclose(out.numpy()[:2], [100.0, 100.0])
    xe = engine.tensor(x, requires_grad=True)
    EF.binary_cross_entropy(xe, engine.tensor(t)).backward()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(xt, torch.tensor(t)).backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-6)


def test_legacy_reduction_arguments():
    x, t = engine.randn(3, 4), engine.tensor([0, 1, 2])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        s = EF.cross_entropy(x, t, size_average=False)
    assert s.item() == pytest.approx(EF.cross_entropy(x, t, reduction="sum").item())


@pytest.mark.parametrize("name, fn", DEVICE_CASES, ids=[c[0] for c in DEVICE_CASES])
def test_on_fake_cuda_device_matches_cpu(fake_cuda, name, fn):
    engine.manual_seed(0)
    x_cpu = engine.randn(4, 5, requires_grad=True)
    t = engine.tensor([0, 4, 2, 1])
    x_gpu = x_cpu.detach().to("cuda").requires_grad_()
    engine.manual_seed(0)
    out_cpu = fn(x_cpu, t)
    out_gpu = fn(x_gpu, t.to("cuda"))
    assert out_gpu.device == engine.device("cuda:0") and out_gpu.dtype == engine.float32
    out_gpu.backward()
    out_cpu.backward()
    assert x_gpu.grad.device == engine.device("cuda:0") and x_gpu.grad.dtype == engine.float32
    if name != "dropout":  # the devices draw from different generators
        np.testing.assert_allclose(out_gpu.cpu().detach().numpy(), out_cpu.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x_gpu.grad.cpu().numpy(), x_cpu.grad.numpy(), rtol=1e-6, atol=1e-7)
