"""Issue 16's loss and distance modules against PyTorch's: repr, state dict (a weight buffer), outputs and the
gradients of every floating input, each reduction; the warnings and errors of the modules themselves."""

import warnings

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

_RNG = np.random.default_rng(7)


def _normal(*shape):
    return _RNG.standard_normal(shape).astype(np.float32)


def _positive(*shape):
    return _RNG.uniform(0.2, 2.0, shape).astype(np.float32)


def _signs(n):
    return np.where(_RNG.random(n) < 0.5, -1.0, 1.0).astype(np.float32)


def _log_probs(*shape):
    p = _RNG.random(shape) + 0.05
    return np.log(p / p.sum(-1, keepdims=True)).astype(np.float32)


# name, module factory, inputs (arrays), which inputs get gradients
CASES = [
    ("HuberLoss", lambda m, r: m.nn.HuberLoss(reduction=r, delta=0.7), lambda: [_normal(5, 4), _normal(5, 4)],
     (True, True)),
    ("SmoothL1Loss", lambda m, r: m.nn.SmoothL1Loss(reduction=r, beta=0.4), lambda: [_normal(5, 4), _normal(5, 4)],
     (True, True)),
    ("KLDivLoss", lambda m, r: m.nn.KLDivLoss(reduction=r), lambda: [_log_probs(5, 4), np.exp(_log_probs(5, 4))],
     (True, True)),
    ("KLDivLoss log_target", lambda m, r: m.nn.KLDivLoss(reduction=r, log_target=True),
     lambda: [_log_probs(5, 4), _log_probs(5, 4)], (True, True)),
    ("PoissonNLLLoss", lambda m, r: m.nn.PoissonNLLLoss(reduction=r),
     lambda: [_normal(5, 4), _RNG.poisson(2.0, (5, 4)).astype(np.float32)], (True, False)),
    ("PoissonNLLLoss rate full", lambda m, r: m.nn.PoissonNLLLoss(log_input=False, full=True, reduction=r),
     lambda: [_positive(5, 4), _RNG.poisson(2.0, (5, 4)).astype(np.float32)], (True, False)),
    ("GaussianNLLLoss", lambda m, r: m.nn.GaussianNLLLoss(reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _positive(5, 4)], (True, True, True)),
    ("GaussianNLLLoss full per-row var", lambda m, r: m.nn.GaussianNLLLoss(full=True, eps=1e-3, reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _positive(5)], (True, False, True)),
    ("MultiLabelSoftMarginLoss", lambda m, r: m.nn.MultiLabelSoftMarginLoss(reduction=r),
     lambda: [_normal(5, 4), (_RNG.random((5, 4)) < 0.5).astype(np.float32)], (True, False)),
    ("MultiLabelSoftMarginLoss weight",
     lambda m, r: m.nn.MultiLabelSoftMarginLoss(weight=m.tensor([0.5, 1.0, 2.0, 1.5]), reduction=r),
     lambda: [_normal(5, 4), (_RNG.random((5, 4)) < 0.5).astype(np.float32)], (True, False)),
    ("MultiMarginLoss", lambda m, r: m.nn.MultiMarginLoss(reduction=r), lambda: [_normal(6, 4), _RNG.integers(0, 4, 6)],
     (True, False)),
    ("MultiMarginLoss p=2 weight", lambda m, r: m.nn.MultiMarginLoss(
        p=2, margin=0.7, weight=m.tensor([0.5, 1.0, 2.0, 1.5]), reduction=r),
     lambda: [_normal(6, 4), _RNG.integers(0, 4, 6)], (True, False)),
    ("MarginRankingLoss", lambda m, r: m.nn.MarginRankingLoss(margin=0.3, reduction=r),
     lambda: [_normal(6), _normal(6), _signs(6)], (True, True, False)),
    ("CosineEmbeddingLoss", lambda m, r: m.nn.CosineEmbeddingLoss(margin=-0.2, reduction=r),
     lambda: [_normal(6, 4), _normal(6, 4), _signs(6)], (True, True, False)),
    ("HingeEmbeddingLoss", lambda m, r: m.nn.HingeEmbeddingLoss(margin=0.5, reduction=r),
     lambda: [_positive(6, 3), np.repeat(_signs(6)[:, None], 3, 1)], (True, False)),
    ("SoftMarginLoss", lambda m, r: m.nn.SoftMarginLoss(reduction=r), lambda: [_normal(6, 3), _normal(6, 3)],
     (True, False)),
    ("TripletMarginLoss", lambda m, r: m.nn.TripletMarginLoss(margin=1.5, reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _normal(5, 4)], (True, True, True)),
    ("TripletMarginWithDistanceLoss", lambda m, r: m.nn.TripletMarginWithDistanceLoss(reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _normal(5, 4)], (True, True, True)),
    ("TripletMarginWithDistanceLoss cosine swap", lambda m, r: m.nn.TripletMarginWithDistanceLoss(
        distance_function=m.nn.CosineSimilarity(), margin=0.5, swap=True, reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _normal(5, 4)], (True, True, True)),
    ("TripletMarginLoss p=1 swap", lambda m, r: m.nn.TripletMarginLoss(p=1.0, swap=True, reduction=r),
     lambda: [_normal(5, 4), _normal(5, 4), _normal(5, 4)], (True, True, True)),
]
REDUCTIONS = ("mean", "sum", "none")


def _run(m, module, arrays, grads):
    inputs = [m.tensor(a, requires_grad=g) for a, g in zip(arrays, grads, strict=True)]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "reduction: 'mean' divides")  # KLDivLoss's; checked below
        out = module(*inputs)
    up = np.linspace(-1.0, 1.5, out.numel(), dtype=np.float32).reshape(tuple(out.shape))
    out.backward(m.tensor(up))
    return out.detach().numpy(), [t.grad.numpy() if g else None for t, g in zip(inputs, grads, strict=True)]


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name, make, arrays, grads", CASES, ids=[case[0] for case in CASES])
def test_loss_module_matches_pytorch(name, make, arrays, grads, reduction):
    tloss, eloss = make(torch, reduction), make(engine, reduction)
    assert repr(eloss) == repr(tloss)
    assert {k: tuple(v.shape) for k, v in eloss.state_dict().items()} == {
        k: tuple(v.shape) for k, v in tloss.state_dict().items()}
    data = arrays()
    eout, egrads = _run(engine, eloss, data, grads)
    tout, tgrads = _run(torch, tloss, data, grads)
    assert eout.dtype == tout.dtype and eout.shape == tout.shape
    np.testing.assert_allclose(eout, tout, rtol=1e-5, atol=1e-6)
    for i, (eg, tg) in enumerate(zip(egrads, tgrads, strict=True)):
        if tg is not None:
            np.testing.assert_allclose(eg, tg, rtol=1e-4, atol=1e-6, err_msg=f"gradient of input {i}")


def test_kl_div_batchmean_and_the_mean_warning():
    x, t = _log_probs(4, 5), np.exp(_log_probs(4, 5))
    ours = engine.nn.KLDivLoss(reduction="batchmean")(engine.tensor(x), engine.tensor(t))
    theirs = torch.nn.KLDivLoss(reduction="batchmean")(torch.tensor(x), torch.tensor(t))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning) as record:
        engine.nn.functional.kl_div(engine.tensor(x), engine.tensor(t))
    with pytest.warns(UserWarning) as expected:
        torch.nn.functional.kl_div(torch.tensor(x), torch.tensor(t))
    assert str(record[0].message) == str(expected[0].message)
    assert record[0].filename == __file__


@pytest.mark.parametrize("name, make", [
    ("TripletMarginLoss margin", lambda m: m.nn.TripletMarginLoss(margin=0.0)),
    ("HuberLoss delta", lambda m: m.nn.HuberLoss(delta="1")),
    ("GaussianNLLLoss positional", lambda m: m.nn.GaussianNLLLoss(True)),
    ("TripletMarginWithDistanceLoss margin", lambda m: m.nn.TripletMarginWithDistanceLoss(margin=-0.5)),
    ("MultiMarginLoss p", lambda m: m.nn.MultiMarginLoss(p=3)),
    ("MultiMarginLoss weight", lambda m: m.nn.MultiMarginLoss(weight=m.ones(2, 2))),
])
def test_bad_arguments_raise_as_pytorch(name, make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(engine)
    if not isinstance(theirs.value, TypeError):  # a TypeError names the Python function
        assert str(ours.value) == str(theirs.value)


def test_invalid_reduction_raises_when_called_as_pytorch():
    x = _normal(3, 2)
    for m in (engine, torch):
        loss = m.nn.PoissonNLLLoss(reduction="bad")  # accepted at construction
        with pytest.raises(ValueError, match="bad is not a valid value for reduction"):
            loss(m.tensor(x), m.tensor(x))


DISTANCES = [
    ("PairwiseDistance", lambda m: m.nn.PairwiseDistance(), (5, 4), (5, 4)),
    ("PairwiseDistance p=1 keepdim", lambda m: m.nn.PairwiseDistance(p=1.0, eps=0.0, keepdim=True), (5, 4), (5, 4)),
    ("PairwiseDistance broadcast", lambda m: m.nn.PairwiseDistance(p=3.0), (2, 5, 4), (4,)),
    ("CosineSimilarity", lambda m: m.nn.CosineSimilarity(), (5, 4), (5, 4)),
    ("CosineSimilarity dim=0", lambda m: m.nn.CosineSimilarity(dim=0, eps=1e-6), (5, 4), (1, 4)),
]


@pytest.mark.parametrize("name, make, s1, s2", DISTANCES, ids=[case[0] for case in DISTANCES])
def test_distance_module_matches_pytorch(name, make, s1, s2):
    tmod, emod = make(torch), make(engine)
    assert repr(emod) == repr(tmod) and not emod.state_dict()
    data = [_normal(*s1), _normal(*s2)]
    eout, egrads = _run(engine, emod, data, (True, True))
    tout, tgrads = _run(torch, tmod, data, (True, True))
    np.testing.assert_allclose(eout, tout, rtol=1e-5, atol=1e-6)
    for eg, tg in zip(egrads, tgrads, strict=True):
        np.testing.assert_allclose(eg, tg, rtol=1e-4, atol=1e-6)


def test_normalize_out_and_zero_rows():
    x = np.array([[0.0, 0.0, 0.0], [1.0, -2.0, 2.0]], dtype=np.float32)
    out = engine.empty(2, 3)
    result = engine.nn.functional.normalize(engine.tensor(x), out=out)
    assert result is out
    np.testing.assert_allclose(out.numpy(), torch.nn.functional.normalize(torch.tensor(x)).numpy(), rtol=1e-6)


@pytest.mark.parametrize("impl", ["compiled", "generic"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ctc_loss_module_matches_pytorch_at_speech_like_sizes(impl, reduction):
    """T=50 frames, a batch of 8, 20 labels, targets up to 12 long (repeats included), blank 0."""
    rng = np.random.default_rng(11)
    t_max, n, c = 50, 8, 20
    logits = rng.standard_normal((t_max, n, c)).astype(np.float32) * 2
    tg_len = rng.integers(0, 13, n)
    targets = rng.integers(1, 3, (n, 12))  # few labels: many repeats
    in_len = rng.integers(30, t_max + 1, n)
    results = []
    for m in (engine, torch):
        x = m.tensor(logits, requires_grad=True)
        loss_fn = m.nn.CTCLoss(reduction=reduction, zero_infinity=True)
        with engine.backend.prefer(impl):
            loss = loss_fn(x.log_softmax(2), m.tensor(targets), m.tensor(in_len), m.tensor(tg_len))
            loss.sum().backward()
        results.append((repr(loss_fn), loss.detach().numpy(), x.grad.numpy()))
    (erepr, eloss, egrad), (trepr, tloss, tgrad) = results
    assert erepr == trepr == "CTCLoss()"
    np.testing.assert_allclose(eloss, tloss, rtol=2e-5, atol=1e-5)
    np.testing.assert_allclose(egrad, tgrad, rtol=1e-4, atol=2e-5)  # float32 over 50 log-space steps


def test_ctc_loss_has_no_double_backward():
    x = engine.randn(6, 1, 4, requires_grad=True)
    loss = engine.nn.functional.ctc_loss(x.log_softmax(2), engine.tensor([[1, 2]]), [6], [2])
    (g,) = engine.autograd.grad(loss, x, create_graph=True)
    with pytest.raises(RuntimeError):
        engine.autograd.grad(g.sum(), x)


@pytest.mark.parametrize("make", [
    lambda m: m.nn.KLDivLoss(size_average=False),
    lambda m: m.nn.MarginRankingLoss(reduce=False),
    lambda m: m.nn.MultiLabelSoftMarginLoss(size_average=True, reduce=True),
])
def test_legacy_reduction_arguments_warn_as_pytorch(make):
    with pytest.warns(UserWarning) as ours:
        eloss = make(engine)
    with pytest.warns(UserWarning) as theirs:
        tloss = make(torch)
    assert eloss.reduction == tloss.reduction
    assert str(ours[0].message) == str(theirs[0].message)
