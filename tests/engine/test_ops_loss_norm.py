"""Losses, normalisation, activations and dropout against PyTorch: values and gradients for every
option (reductions, class weights, ignore_index, label smoothing, probability targets, pos_weight,
K-dimensional targets, batch_norm train/eval and its running statistics), float64 gradchecks that run
without torch, numerical extremes, dropout statistics and PyTorch's error messages."""

from __future__ import annotations

import functools
import math
import re
import types

import numpy as np
import pytest
from optest import HAVE_TORCH, check, check_error, requires_torch, torch

import engine
from engine.autograd import gradcheck
from engine.ops import activation, dropout, loss, norm

# The engine's functions under PyTorch's names, so one lambda runs on both frameworks.
EF = types.SimpleNamespace(**{name: getattr(mod, name) for mod in (loss, norm, activation, dropout)
                              for name in mod.__all__})


def F(m):
    return EF if m is engine else torch.nn.functional


def targets(shape, n_classes, seed=0, ignore=None):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, n_classes, size=shape).astype(np.int64)
    if ignore is not None and t.size > 1:
        t.reshape(-1)[:: 3] = ignore
    return t


# ----------------------------------------------------------------------------------------------
# cross_entropy and nll_loss
# ----------------------------------------------------------------------------------------------

CLASS_SHAPES = [
    pytest.param((6, 5), (6,), id="(N,C)"),
    pytest.param((2, 4, 3), (2, 3), id="(N,C,L)"),
    pytest.param((2, 4, 3, 2), (2, 3, 2), id="(N,C,H,W)"),
    pytest.param((2, 3, 2, 2, 2), (2, 2, 2, 2), id="(N,C,D,H,W)"),
    pytest.param((5,), (), id="(C,)"),
]
REDUCTIONS = ["mean", "sum", "none"]


@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("weighted", [False, True], ids=["w=None", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("in_shape, t_shape", CLASS_SHAPES)
def test_cross_entropy_class_indices(in_shape, t_shape, reduction, weighted, label_smoothing):
    c = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    t = targets(t_shape, c, ignore=-100 if t_shape else None)
    arrays = [in_shape, t] + ([np.linspace(0.2, 2.0, c).astype(np.float32)] if weighted else [])
    grad = [True, False] + ([False] if weighted else [])
    check(lambda m, x, t, *w: F(m).cross_entropy(x, t, *w, reduction=reduction, label_smoothing=label_smoothing),
          arrays, grad=grad, low=-4, high=4)


@pytest.mark.parametrize("ignore_index", [-100, 1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_ignore_index_weighted_smoothing(ignore_index, reduction):
    t = targets((7,), 4, seed=3)
    t[:3] = 1
    w = np.array([0.5, 2.0, 1.0, 3.0], np.float32)
    check(lambda m, x, t, w: F(m).cross_entropy(x, t, weight=w, ignore_index=ignore_index, reduction=reduction,
                                                label_smoothing=0.3),
          [(7, 4), t, w], grad=[True, False, False])


@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True], ids=["w=None", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(6, 5), (2, 4, 3, 2), (5,)], ids=str)
def test_cross_entropy_probabilities(shape, reduction, weighted, label_smoothing):
    rng = np.random.default_rng(1)
    c = shape[1] if len(shape) > 1 else shape[0]
    p = rng.random(shape).astype(np.float32)
    p /= p.sum(axis=1 if len(shape) > 1 else 0, keepdims=True)
    arrays = [shape, p] + ([np.linspace(0.5, 1.5, c).astype(np.float32)] if weighted else [])
    grad = [True, True] + ([False] if weighted else [])
    check(lambda m, x, t, *w: F(m).cross_entropy(x, t, *w, reduction=reduction, label_smoothing=label_smoothing),
          arrays, grad=grad)


@requires_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_extreme_logits_finite(reduction, label_smoothing):
    x = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, 1e4], [1e4, 1e4, -1e4], [-1e4, 1e4, 3.0]], np.float32)
    t = np.array([1, 2, 2, 0])
    out = check(lambda m, x, t: F(m).cross_entropy(x, t, reduction=reduction, label_smoothing=label_smoothing),
                [x, t], grad=[True, False], rtol=1e-5)
    assert np.isfinite(out.detach().numpy()).all()
    xe = engine.tensor(x, requires_grad=True)
    EF.cross_entropy(xe, engine.tensor(t), label_smoothing=label_smoothing).backward()
    assert np.isfinite(xe.grad.numpy()).all()


@requires_torch
@pytest.mark.parametrize("label_smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_all_ignored(reduction, label_smoothing):
    t = np.array([-100, -100])
    check(lambda m, x, t: F(m).cross_entropy(x, t, reduction=reduction, label_smoothing=label_smoothing),
          [(2, 3), t], grad=False)


@pytest.mark.parametrize("weighted", [False, True], ids=["w=None", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("in_shape, t_shape", CLASS_SHAPES)
def test_nll_loss(in_shape, t_shape, reduction, weighted):
    c = in_shape[1] if len(in_shape) > 1 else in_shape[0]
    t = targets(t_shape, c, seed=2, ignore=2 if t_shape else None)
    arrays = [in_shape, t] + ([np.linspace(1.5, 0.5, c).astype(np.float32)] if weighted else [])
    grad = [True, False] + ([False] if weighted else [])
    check(lambda m, x, t, *w: F(m).nll_loss(x, t, *w, ignore_index=2, reduction=reduction), arrays, grad=grad)


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


# ----------------------------------------------------------------------------------------------
# regression losses
# ----------------------------------------------------------------------------------------------

POINTWISE = [
    ("mse_loss", {}),
    ("l1_loss", {}),
    ("smooth_l1_loss", {}),
    ("smooth_l1_loss", {"beta": 0.5}),
    ("smooth_l1_loss", {"beta": 0.0}),
    ("huber_loss", {}),
    ("huber_loss", {"delta": 0.4}),
]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, kw", POINTWISE, ids=[f"{n}{k}" for n, k in POINTWISE])
def test_pointwise_losses(name, kw, reduction):
    check(lambda m, x, y: getattr(F(m), name)(x, y, reduction=reduction, **kw), [(4, 5), (4, 5)])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "huber_loss"])
def test_pointwise_losses_weighted(name, reduction):
    check(lambda m, x, y, w: getattr(F(m), name)(x, y, reduction=reduction, weight=w), [(3, 4), (3, 4), (3, 4)],
          positive=False, low=0.1, high=2)


@pytest.mark.parametrize("name", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"])
def test_pointwise_losses_broadcast_warning(name):
    x = engine.randn(3, 5, requires_grad=True)
    y = engine.randn(5)
    msg = ("Using a target size (torch.Size([5])) that is different to the input size (torch.Size([3, 5])). This "
           "will likely lead to incorrect results due to broadcasting. Please ensure they have the same size.")
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


def test_mse_loss_integer_target_promotes():
    check(lambda m, x, y: F(m).mse_loss(x, y), [(3, 4), np.arange(12).reshape(3, 4)], grad=[True, False])


# ----------------------------------------------------------------------------------------------
# binary cross entropy
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("pos_weight", [False, True], ids=["pw=None", "pw"])
@pytest.mark.parametrize("weighted", [False, True], ids=["w=None", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits(reduction, weighted, pos_weight):
    rng = np.random.default_rng(5)
    t = rng.random((4, 3)).astype(np.float32)
    w = np.array([0.5, 1.0, 2.0], np.float32) if weighted else None
    pw = np.array([3.0, 0.5, 1.0], np.float32) if pos_weight else None

    def fn(m, x, t):
        kw = {}
        if w is not None:
            kw["weight"] = m.tensor(w)
        if pw is not None:
            kw["pos_weight"] = m.tensor(pw)
        return F(m).binary_cross_entropy_with_logits(x, t, reduction=reduction, **kw)

    check(fn, [(4, 3), t], low=-5, high=5)


@requires_torch
def test_bce_with_logits_extreme_logits():
    x = np.array([1e4, -1e4, 100.0, -100.0, 0.0], np.float32)
    t = np.array([0.0, 1.0, 0.3, 0.7, 1.0], np.float32)
    out = check(lambda m, x, t: F(m).binary_cross_entropy_with_logits(x, t, reduction="none",
                                                                       pos_weight=m.tensor([2.0])),
                [x, t], rtol=1e-6)
    assert np.isfinite(out.detach().numpy()).all()


@pytest.mark.parametrize("weighted", [False, True], ids=["w=None", "w"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy(reduction, weighted):
    rng = np.random.default_rng(6)
    x = rng.uniform(0.05, 0.95, (4, 3)).astype(np.float32)
    t = rng.random((4, 3)).astype(np.float32)
    arrays = [x, t] + ([np.array([0.5, 1.0, 2.0], np.float32)] if weighted else [])
    check(lambda m, x, t, *w: F(m).binary_cross_entropy(x, t, *w, reduction=reduction), arrays,
          grad=[True, True] + [False] * weighted)


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


# ----------------------------------------------------------------------------------------------
# error cases, as PyTorch raises them
# ----------------------------------------------------------------------------------------------

LONG3 = np.array([1, 2, 3])
ERRORS = [
    ("ce target out of range", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 10])), IndexError,
     "Target 10 is out of bounds.", [(3, 5)]),
    ("ce negative target", lambda m, x: F(m).cross_entropy(x, m.tensor([1, -1, 0])), IndexError,
     "Target -1 is out of bounds.", [(3, 5)]),
    ("ce unbatched out of range", lambda m, x: F(m).cross_entropy(x, m.tensor(5)), IndexError,
     "Target 5 is out of bounds.", [(3,)]),
    ("ce float target", lambda m, x: F(m).cross_entropy(x, m.tensor([1.0, 2.0, 3.0])), RuntimeError,
     "expected target dtype to be Long or Byte, but got Float", [(3, 5)]),
    ("ce int32 target", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3], dtype=m.int32)), RuntimeError,
     "expected target dtype to be Long or Byte, but got Int", [(3, 5)]),
    ("ce batch mismatch", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3, 4])), ValueError,
     "Expected input batch_size (3) to match target batch_size (4).", [(3, 5)]),
    ("ce long prob target", lambda m, x: F(m).cross_entropy(x, m.zeros(3, 5, dtype=m.int64)), RuntimeError,
     "Expected floating point type for target with class probabilities, got Long", [(3, 5)]),
    ("ce 3d target size", lambda m, x: F(m).cross_entropy(x, m.zeros(2, 4, dtype=m.int64)), RuntimeError,
     "Expected target size [2, 3], got [2, 4]", [(2, 5, 3)]),
    ("ce 4d target dim", lambda m, x: F(m).cross_entropy(x, m.zeros(2, 3, dtype=m.int64)), RuntimeError,
     "only batches of spatial targets supported (3D tensors) but got targets of dimension: 2", [(2, 5, 3, 4)]),
    ("ce weight size", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), weight=m.ones(4)), RuntimeError,
     "weight tensor should be defined either for all 5 classes or no classes but got weight tensor of shape: [4]",
     [(3, 5)]),
    ("ce prob weight size", lambda m, x: F(m).cross_entropy(x, m.ones(3, 5), weight=m.ones(4)), RuntimeError,
     "cross_entropy: weight tensor should be defined either for all 5 classes or no classes", [(3, 5)]),
    ("ce label smoothing", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), label_smoothing=1.5),
     RuntimeError, "label_smoothing must be between 0.0 and 1.0. Got: 1.5", [(3, 5)]),
    ("ce reduction", lambda m, x: F(m).cross_entropy(x, m.tensor([1, 2, 3]), reduction="foo"), ValueError,
     "foo is not a valid value for reduction", [(3, 5)]),
    ("nll 0-d input", lambda m, x: F(m).nll_loss(x, m.tensor(0)), ValueError,
     "Expected 1 or more dimensions (got 0)", [()]),
    ("nll multi-target", lambda m, x: F(m).nll_loss(x, m.zeros(3, 2, dtype=m.int64)), RuntimeError,
     "0D or 1D target tensor expected, multi-target not supported", [(3, 5)]),
    ("mse broadcast", lambda m, x: F(m).mse_loss(x, m.zeros(4)), RuntimeError,
     "The size of tensor a (5) must match the size of tensor b (4) at non-singleton dimension 1", [(3, 5)]),
    ("mse weight size", lambda m, x: F(m).mse_loss(x, m.zeros(3, 5), weight=m.ones(5)), ValueError,
     "Weights and input must have the same size.", [(3, 5)]),
    ("smooth_l1 beta", lambda m, x: F(m).smooth_l1_loss(x, m.zeros(3, 5), beta=-1.0), RuntimeError,
     "smooth_l1_loss does not support negative values for beta.", [(3, 5)]),
    ("huber delta", lambda m, x: F(m).huber_loss(x, m.zeros(3, 5), delta=0.0), RuntimeError,
     "huber_loss does not support non-positive values for delta.", [(3, 5)]),
    ("bce logits size", lambda m, x: F(m).binary_cross_entropy_with_logits(x, m.zeros(3)), ValueError,
     "Target size (torch.Size([3])) must be the same as input size (torch.Size([3, 5]))", [(3, 5)]),
    ("bce size", lambda m, x: F(m).binary_cross_entropy(m.sigmoid(x), m.zeros(3)), ValueError,
     "Using a target size (torch.Size([3])) that is different to the input size (torch.Size([3, 5])) is "
     "deprecated. Please ensure they have the same size.", [(3, 5)]),
    ("bce input range", lambda m, x: F(m).binary_cross_entropy(x * 3, m.zeros(3, 5)), RuntimeError,
     "all elements of input should be between 0 and 1", [(3, 5)]),
    ("bn batch of one", lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), training=True), ValueError,
     "Expected more than 1 value per channel when training, got input size torch.Size([1, 3])", [(1, 3)]),
    ("bn 4d batch of one", lambda m, x: F(m).batch_norm(x, None, None, training=True), ValueError,
     "Expected more than 1 value per channel when training, got input size torch.Size([1, 3, 1, 1])",
     [(1, 3, 1, 1)]),
    ("bn eval without stats", lambda m, x: F(m).batch_norm(x, None, None), RuntimeError,
     "running_mean must be defined in evaluation mode", [(2, 3)]),
    ("bn running size", lambda m, x: F(m).batch_norm(x, m.zeros(4), m.ones(4)), RuntimeError,
     "running_mean should contain 3 elements not 4", [(2, 3)]),
    ("bn weight size", lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), m.ones(4)), RuntimeError,
     "weight should contain 3 elements not 4", [(2, 3)]),
    ("bn eps", lambda m, x: F(m).batch_norm(x, m.zeros(3), m.ones(3), training=True, eps=0), ValueError,
     "batch_norm eps must be positive during training, but got 0", [(2, 3)]),
    ("ln shape", lambda m, x: F(m).layer_norm(x, [5]), RuntimeError,
     "Given normalized_shape=[5], expected input with shape [*, 5], but got input of size[3, 4]", [(3, 4)]),
    ("ln weight", lambda m, x: F(m).layer_norm(x, (3, 4), weight=m.ones(4)), RuntimeError,
     "Expected weight to be of same shape as normalized_shape, but got weight of shape [4] and "
     "normalized_shape = [3, 4]", [(3, 4)]),
    ("gn groups", lambda m, x: F(m).group_norm(x, 4), RuntimeError,
     "Expected number of channels in input to be divisible by num_groups, but got input of shape [2, 6, 4] and "
     "num_groups=4", [(2, 6, 4)]),
    ("gn 1d", lambda m, x: F(m).group_norm(x, 3), RuntimeError,
     "Expected at least 2 dimensions for input tensor but received 1", [(6,)]),
    ("gelu approximate", lambda m, x: F(m).gelu(x, approximate="foo"), RuntimeError,
     "approximate argument must be either none or tanh.", [(3,)]),
    ("hardtanh range", lambda m, x: F(m).hardtanh(x, 2.0, 1.0), ValueError,
     "min_val cannot be greater than max_val", [(3,)]),
    ("dropout p", lambda m, x: F(m).dropout(x, 1.5), ValueError,
     "dropout probability has to be between 0 and 1, but got 1.5", [(3,)]),
    ("dropout2d p", lambda m, x: F(m).dropout2d(x, -0.5), ValueError,
     "dropout probability has to be between 0 and 1, but got -0.5", [(2, 3, 4, 4)]),
    ("dropout1d dims", lambda m, x: F(m).dropout1d(x), RuntimeError,
     "dropout1d: Expected 2D or 3D input, but received a 4D input.", [(2, 3, 4, 4)]),
]


@pytest.mark.filterwarnings("ignore:Using a target size")
@pytest.mark.parametrize("fn, exc, match, inputs", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_errors(fn, exc, match, inputs):
    check_error(fn, exc, match, inputs)


def test_leaf_inplace_activation_error():
    check_error(lambda m, x: F(m).leaky_relu(x.requires_grad_(), inplace=True), RuntimeError,
                "a leaf Variable that requires grad is being used in an in-place operation.", [(3,)])


def test_legacy_reduction_arguments():
    x, t = engine.randn(3, 4), engine.tensor([0, 1, 2])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        s = EF.cross_entropy(x, t, size_average=False)
    assert s.item() == pytest.approx(EF.cross_entropy(x, t, reduction="sum").item())


# ----------------------------------------------------------------------------------------------
# normalisation
# ----------------------------------------------------------------------------------------------

BN_SHAPES = [(8, 3), (4, 3, 5), (4, 3, 3, 2)]


@requires_torch
@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm(shape, training, affine):
    rng = np.random.default_rng(7)
    rm = rng.standard_normal(3).astype(np.float32)
    rv = rng.uniform(0.5, 2, 3).astype(np.float32)
    stats = {}

    def fn(m, x, *wb):
        stats[m] = (m.tensor(rm.copy()), m.tensor(rv.copy()))
        return F(m).batch_norm(x * 2 + 1, *stats[m], *wb, training=training, momentum=0.3, eps=1e-4)

    check(fn, [shape] + ([(3,), (3,)] if affine else []), grad_atol=2e-5)
    for e, t in zip(stats[engine], stats[torch]):
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-5, atol=1e-6)


@requires_torch
@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "numpy"])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_of_large_channels_with_large_means(training, compiled):
    """Channels big enough to be split over the threads, with means far from zero (so that normalising as
    x * scale - mean * scale would lose digits): both paths give PyTorch's values and gradients."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((16, 5, 40, 40)) + np.array([0, 300, -50, 1, 1e3])[:, None, None]).astype(np.float32)
    w, b = rng.standard_normal(5).astype(np.float32), rng.standard_normal(5).astype(np.float32)
    results = []
    for m in (engine, torch):
        X, W, B = (m.tensor(a, requires_grad=True) for a in (x, w, b))
        rm, rv = m.tensor(x.mean(axis=(0, 2, 3))), m.tensor(x.var(axis=(0, 2, 3)))
        with engine.backend.prefer("compiled" if compiled else "generic"):
            y = F(m).batch_norm(X, rm, rv, W, B, training=training)
            y.backward(m.tensor(np.cos(np.arange(y.numel())).reshape(x.shape).astype(np.float32)))
        results.append([y.detach().numpy(), X.grad.numpy(), W.grad.numpy(), B.grad.numpy(), rm.numpy(), rv.numpy()])
    for a, e in zip(*results):
        np.testing.assert_allclose(a, e, rtol=2e-4, atol=2e-4 * max(1.0, float(np.abs(e).max())))


@requires_torch
@pytest.mark.parametrize("shape", BN_SHAPES, ids=str)
def test_batch_norm_running_stats_over_steps(shape):
    rng = np.random.default_rng(8)
    e_stats = [engine.zeros(3), engine.ones(3)]
    t_stats = [torch.zeros(3), torch.ones(3)]
    w = rng.random(3).astype(np.float32)
    for step in range(5):
        x = (rng.standard_normal(shape) * (step + 1) + step).astype(np.float32)
        e = EF.batch_norm(engine.tensor(x), *e_stats, engine.tensor(w), None, training=True, momentum=0.2)
        t = torch.nn.functional.batch_norm(torch.tensor(x), *t_stats, torch.tensor(w), None, training=True,
                                           momentum=0.2)
        np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
        for es, ts in zip(e_stats, t_stats):
            np.testing.assert_allclose(es.numpy(), ts.numpy(), rtol=1e-5, atol=1e-6)
    x = rng.standard_normal(shape).astype(np.float32)
    e = EF.batch_norm(engine.tensor(x), *e_stats, training=False)
    t = torch.nn.functional.batch_norm(torch.tensor(x), *t_stats, training=False)
    np.testing.assert_allclose(e.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)


def test_batch_norm_updates_running_stats_in_place():
    rm, rv = engine.zeros(2), engine.ones(2)
    arrays = (rm._data, rv._data)
    x = engine.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    EF.batch_norm(x, rm, rv, training=True, momentum=0.5)
    assert rm._data is arrays[0] and rv._data is arrays[1]
    np.testing.assert_allclose(rm.numpy(), [1.5, 3.0])
    np.testing.assert_allclose(rv.numpy(), [0.5 + 0.5 * 4.0, 0.5 + 0.5 * 16.0])  # unbiased variance
    y = EF.batch_norm(x, None, None, training=True)
    np.testing.assert_allclose(y.numpy().mean(0), [0, 0], atol=1e-6)


@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("shape", [(4, 3, 5), (3, 4, 2, 3)], ids=str)
def test_layer_norm(shape, affine):
    assert EF.layer_norm(engine.ones(2, 3), 3).shape == (2, 3)  # an int, as nn.LayerNorm accepts
    ns = shape[-2:]
    check(lambda m, x, *wb: F(m).layer_norm(x, ns, *wb, eps=1e-4), [shape] + ([ns, ns] if affine else []),
          grad_atol=2e-5)
    check(lambda m, x: F(m).layer_norm(x, (shape[-1],)), [shape], grad_atol=2e-5)


@pytest.mark.parametrize("affine", [False, True], ids=["plain", "affine"])
@pytest.mark.parametrize("shape, groups", [((2, 6, 4), 3), ((3, 4, 2, 3), 2), ((3, 8), 2)], ids=str)
def test_group_norm(shape, groups, affine):
    check(lambda m, x, *wb: F(m).group_norm(x, groups, *wb), [shape] + ([(shape[1],)] * 2 if affine else []),
          grad_atol=2e-5)


# ----------------------------------------------------------------------------------------------
# activations
# ----------------------------------------------------------------------------------------------

ACTIVATIONS = [
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.2}), ("gelu", {}), ("gelu", {"approximate": "tanh"}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {"alpha": 2.0}), ("silu", {}), ("mish", {}),
    ("softplus", {}), ("softplus", {"beta": 2.0, "threshold": 3.0}), ("hardtanh", {}),
    ("hardtanh", {"min_val": -2.0, "max_val": 0.5}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}),
    ("logsigmoid", {}),
]
NODE_NAMES = {"leaky_relu": "LeakyReluBackward0", "gelu": "GeluBackward0", "elu": "EluBackward0",
              "selu": "EluBackward0", "celu": "CeluBackward0", "silu": "SiluBackward0", "mish": "MishBackward0",
              "softplus": "SoftplusBackward0", "hardtanh": "HardtanhBackward0", "relu6": "HardtanhBackward0",
              "hardsigmoid": "HardsigmoidBackward0", "hardswish": "HardswishBackward0",
              "logsigmoid": "LogSigmoidBackward0"}


@pytest.mark.parametrize("name, kw", ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_activation(name, kw):
    out = check(lambda m, x: getattr(F(m), name)(x, **kw), [(6, 7)], low=-7, high=7)
    assert out.grad_fn.name() == NODE_NAMES[name]


@requires_torch
@pytest.mark.parametrize("name, kw", ACTIVATIONS, ids=[f"{n}{k}" for n, k in ACTIVATIONS])
def test_activation_extremes(name, kw):
    x = np.array([-1e4, -100.0, -30.0, -1e-8, 0.0, 1e-8, 30.0, 100.0, 1e4], np.float32)
    check(lambda m, x: getattr(F(m), name)(x, **kw), [x], rtol=1e-5)


@pytest.mark.parametrize("name", ["leaky_relu", "elu", "silu", "hardtanh", "relu6", "mish", "hardswish"])
def test_activation_inplace(name):
    def fn(m, x):
        y = x * 1
        out = getattr(F(m), name)(y, inplace=True)
        assert out is y
        return out

    check(fn, [(4, 5)], low=-4, high=4)


def test_erf_accuracy():
    x = np.concatenate([np.linspace(-7, 7, 200_001), np.linspace(-1e-3, 1e-3, 2001), [1e-30, -1.0, 1.0]])
    ref = np.array([math.erf(v) for v in x])
    for dt, max_ulps in ((np.float64, 4), (np.float32, 1.5)):
        y = activation.erf(x.astype(dt))
        assert y.dtype == dt
        ulp = np.spacing(np.abs(ref).astype(dt)).astype(np.float64)
        assert (np.abs(y.astype(np.float64) - ref) / ulp).max() <= max_ulps
    y = activation.erf(np.array([np.inf, -np.inf, np.nan, 0.0], np.float32))
    np.testing.assert_array_equal(y[[0, 1, 3]], [1, -1, 0])
    assert np.isnan(y[2])


# ----------------------------------------------------------------------------------------------
# float64 gradcheck of every op (runs without torch)
# ----------------------------------------------------------------------------------------------

def _t(a, grad=True):
    return engine.tensor(np.asarray(a, np.float64), requires_grad=grad)


_R = np.random.default_rng(9)
_X = _R.standard_normal((4, 3))
_X4 = _R.standard_normal((2, 3, 2, 2))
_P = _R.dirichlet(np.ones(3), 4)
_W = np.array([0.5, 2.0, 1.2])
_T = np.array([0, 2, -100, 1])
_T4 = np.array([[[0, 2], [1, -100]], [[2, 2], [0, 1]]])
GRADCHECKS = [
    ("ce", lambda x: EF.cross_entropy(x, engine.tensor(_T)), [_X]),
    ("ce weighted smoothed", lambda x: EF.cross_entropy(x, engine.tensor(_T), _t(_W, False), label_smoothing=0.2),
     [_X]),
    ("ce 4d none", lambda x: EF.cross_entropy(x, engine.tensor(_T4), _t(_W, False), reduction="none",
                                              label_smoothing=0.1), [_X4]),
    ("ce probs", lambda x, p: EF.cross_entropy(x, p, _t(_W, False), label_smoothing=0.1), [_X, _P]),
    ("ce unbatched", lambda x: EF.cross_entropy(x, engine.tensor(1), label_smoothing=0.3), [_X[0]]),
    ("nll", lambda x: EF.nll_loss(x, engine.tensor(_T), _t(_W, False), reduction="sum"), [_X]),
    ("mse", lambda x, y: EF.mse_loss(x, y), [_X, _P]),
    ("mse weighted", lambda x, y, w: EF.mse_loss(x, y, weight=w), [_X, _P, _P + 0.5]),
    ("l1 weighted", lambda x, y, w: EF.l1_loss(x, y, weight=w, reduction="mean"), [_X, _P, _P + 0.5]),
    ("smooth_l1", lambda x, y: EF.smooth_l1_loss(x, y, beta=0.7, reduction="none"), [_X, _P]),
    ("huber weighted", lambda x, y, w: EF.huber_loss(x, y, delta=0.6, weight=w), [_X, _P, _P + 0.5]),
    ("bce logits", lambda x, y: EF.binary_cross_entropy_with_logits(x, y, _t(_W, False), pos_weight=_t(_W, False)),
     [_X, _P]),
    ("bce", lambda x, y: EF.binary_cross_entropy(x, y, _t(_W, False)), [_P * 0.8 + 0.1, _P]),
    ("bn train", lambda x, w, b: EF.batch_norm(x, None, None, w, b, training=True), [_X4, _W, _W - 1]),
    ("bn eval", lambda x, w, b: EF.batch_norm(x, _t([0.1, -0.2, 0.3], False), _t(_W, False), w, b), [_X4, _W, _W]),
    ("bn 2d", lambda x: EF.batch_norm(x, _t(np.zeros(3), False), _t(np.ones(3), False), training=True), [_X]),
    ("layer_norm", lambda x, w, b: EF.layer_norm(x, (2, 2), w, b), [_X4, _X4[0, 0], _X4[1, 1]]),
    ("group_norm", lambda x, w, b: EF.group_norm(x, 1, w, b), [_X4, _W, _W]),
] + [(f"{n}{kw}", functools.partial(getattr(EF, n), **kw), [_X * 3]) for n, kw in ACTIVATIONS]


@pytest.mark.parametrize("fn, arrays", [g[1:] for g in GRADCHECKS], ids=[g[0] for g in GRADCHECKS])
def test_gradcheck_float64(fn, arrays):
    inputs = tuple(_t(a) for a in arrays)
    assert fn(*inputs).dtype == engine.float64
    assert gradcheck(fn, inputs, eps=1e-6, atol=1e-6, rtol=1e-4)


# ----------------------------------------------------------------------------------------------
# dropout
# ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_statistics_and_mask_in_gradient(p):
    engine.manual_seed(0)
    x = engine.ones(200_000, requires_grad=True)
    y = EF.dropout(x, p)
    assert y.grad_fn.name() == "MulBackward0" and y.dtype == engine.float32
    v = y.detach().numpy()
    zero = v == 0
    assert abs(zero.mean() - p) < 0.01
    np.testing.assert_allclose(v[~zero], 1 / (1 - p), rtol=1e-6)
    assert abs(v.mean() - 1) < 0.02
    y.backward(engine.full((200_000,), 3.0))
    g = x.grad.numpy()
    np.testing.assert_array_equal(g == 0, zero)
    np.testing.assert_allclose(g[~zero], 3 / (1 - p), rtol=1e-6)


def test_dropout_identity_cases_and_seed():
    x = engine.randn(5, 4, requires_grad=True)
    assert EF.dropout(x, 0.5, training=False) is x
    assert EF.dropout(x, 0.0) is x
    assert EF.dropout2d(engine.randn(2, 3, 4, 4), 0.3, training=False).shape == (2, 3, 4, 4)
    z = EF.dropout(x, 1.0)
    assert (z.detach().numpy() == 0).all() and z.requires_grad
    engine.manual_seed(3)
    a = EF.dropout(x, 0.5).detach().numpy()
    engine.manual_seed(3)
    b = EF.dropout(x, 0.5).detach().numpy()
    np.testing.assert_array_equal(a, b)


def test_dropout_float64_and_inplace():
    x = engine.randn(1000, dtype=engine.float64)
    y = EF.dropout(x, 0.3)
    assert y.dtype == engine.float64
    h = x.clone()
    out = EF.dropout(h, 0.5, inplace=True)
    assert out is h and ((h.numpy() == 0) | np.isclose(h.numpy(), 2 * x.numpy())).all()
    w = engine.randn(100, requires_grad=True)
    v = w * 1
    EF.dropout(v, 0.5, inplace=True).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy() == 0, v.detach().numpy() == 0)


def test_dropout_channels():
    engine.manual_seed(1)
    x = engine.ones(64, 32, 3, 3, requires_grad=True)
    y = EF.dropout2d(x, 0.4)
    v = y.detach().numpy()
    per_channel = v.reshape(64, 32, -1)
    assert (per_channel.min(-1) == per_channel.max(-1)).all()
    assert abs((per_channel[..., 0] == 0).mean() - 0.4) < 0.05
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy() == 0, v == 0)
    with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
        y3 = EF.dropout2d(engine.ones(8, 16, 10), 0.5)
    assert (y3.numpy().min(-1) == y3.numpy().max(-1)).all()
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        EF.dropout2d(engine.ones(8, 16), 0.5)
    u = EF.dropout1d(engine.ones(16, 10), 0.5).numpy()
    assert (u.min(-1) == u.max(-1)).all()
    d3 = EF.dropout3d(engine.ones(4, 8, 2, 2, 2), 0.5).numpy().reshape(4, 8, -1)
    assert (d3.min(-1) == d3.max(-1)).all()


def test_dropout_integer_input_error():
    check_error(lambda m, x: F(m).dropout(x), RuntimeError,
                "result type Float can't be cast to the desired output type Long", [np.arange(5)])


# ----------------------------------------------------------------------------------------------
# devices: one body serves NumPy and CuPy (checked with the NumPy-backed CuPy stand-in)
# ----------------------------------------------------------------------------------------------

DEVICE_CASES = [
    ("cross_entropy", lambda x, t: EF.cross_entropy(x, t, label_smoothing=0.1)),
    ("cross_entropy probs", lambda x, t: EF.cross_entropy(x, x.detach().softmax(1))),
    ("nll_loss", lambda x, t: EF.nll_loss(x, t)),
    ("mse_loss", lambda x, t: EF.mse_loss(x, x.detach() * 0.5)),
    ("bce_with_logits", lambda x, t: EF.binary_cross_entropy_with_logits(x, x.detach().sigmoid())),
    ("batch_norm", lambda x, t: EF.batch_norm(x, None, None, training=True).sum()),
    ("layer_norm", lambda x, t: EF.layer_norm(x, (5,)).sum()),
    ("gelu", lambda x, t: EF.gelu(x).sum()),
    ("dropout", lambda x, t: EF.dropout(x, 0.5).sum()),
]


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
