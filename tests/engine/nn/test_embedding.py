"""Embedding and EmbeddingBag against PyTorch's: state-dict keys, ``repr``, the same outputs and weight gradients
with the same weights, padding rows, max_norm's in-place renormalisation, from_pretrained, and PyTorch's errors."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

IDX = np.array([[1, 2, 2, 0], [6, 0, 1, 2]])
FLAT = np.array([1, 2, 2, 6, 0, 1, 3, 2])
OFFSETS = np.array([0, 2, 2, 5])


def _pair(make):
    tmod, emod = make(torch), make(engine)
    tsd = tmod.state_dict()
    assert list(emod.state_dict()) == list(tsd)
    emod.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})
    assert repr(emod) == repr(tmod)
    return emod, tmod


def _check(make, call):
    """``call(m, module)`` in both frameworks: outputs, weight gradients and the weights afterwards (max_norm
    rewrites them) compared."""
    emod, tmod = _pair(make)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        out = call(m, mod)
        w = np.cos(np.arange(out.numel()) * 0.7).reshape(tuple(out.shape)).astype(np.float32)
        (out * m.tensor(w)).sum().backward()
        results.append((out.detach().numpy(), mod.weight.grad.numpy(), mod.weight.detach().numpy()))
    for ours, theirs, what in zip(*results, ("output", "weight grad", "weight"), strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6, err_msg=what)
    return emod


EMBEDDINGS = {
    "plain": (lambda m: m.nn.Embedding(7, 3), IDX),
    "int32 input": (lambda m: m.nn.Embedding(7, 3), IDX.astype(np.int32)),
    "0-d input": (lambda m: m.nn.Embedding(7, 3), np.array(4)),
    "padding_idx": (lambda m: m.nn.Embedding(7, 3, padding_idx=2), IDX),
    "padding_idx<0": (lambda m: m.nn.Embedding(7, 3, padding_idx=-7), IDX),
    "max_norm": (lambda m: m.nn.Embedding(7, 3, max_norm=1.0), IDX),
    "max_norm p=1": (lambda m: m.nn.Embedding(7, 3, max_norm=1.2, norm_type=1.0), IDX),
    "scale_grad_by_freq": (lambda m: m.nn.Embedding(7, 3, scale_grad_by_freq=True, padding_idx=0), IDX),
}


@pytest.mark.parametrize("case", EMBEDDINGS)
def test_embedding_matches_pytorch(case):
    make, idx = EMBEDDINGS[case]
    _check(make, lambda m, mod: mod(m.tensor(idx)))


def test_new_padding_row_is_zero_and_gets_no_gradient():
    engine.manual_seed(0)
    emb = engine.nn.Embedding(5, 4, padding_idx=1)
    assert np.all(emb.weight.detach().numpy()[1] == 0)
    assert emb.weight.detach().numpy()[0].std() > 0
    emb(engine.tensor([1, 1, 3])).sum().backward()
    assert np.all(emb.weight.grad.numpy()[1] == 0)
    assert np.all(emb.weight.grad.numpy()[3] == 1)


def test_init_is_standard_normal_from_engine_generator():
    engine.manual_seed(5)
    a = engine.nn.Embedding(200, 50).weight.detach().numpy()
    engine.manual_seed(5)
    b = engine.nn.Embedding(200, 50).weight.detach().numpy()
    assert a.dtype == np.float32
    assert np.array_equal(a, b)
    assert abs(a.mean()) < 0.02 and abs(a.std() - 1) < 0.02


def test_max_norm_bumps_the_weight_version():
    emb = engine.nn.Embedding(4, 3, max_norm=0.5)
    with engine.no_grad():
        emb.weight.fill_(1.0)
    before = emb.weight._version
    emb(engine.tensor([0, 2]))
    assert emb.weight._version > before
    norms = np.linalg.norm(emb.weight.detach().numpy(), axis=1)
    np.testing.assert_allclose(norms, [0.5, np.sqrt(3), 0.5, np.sqrt(3)], rtol=1e-5)


def test_from_pretrained():
    w = np.arange(12, dtype=np.float32).reshape(4, 3)
    for m in (engine, torch):
        frozen = m.nn.Embedding.from_pretrained(m.tensor(w), padding_idx=0)
        assert not frozen.weight.requires_grad
        assert repr(frozen) == "Embedding(4, 3, padding_idx=0)"
        trained = m.nn.Embedding.from_pretrained(m.tensor(w), freeze=False)
        assert trained.weight.requires_grad
        np.testing.assert_array_equal(trained(m.tensor([3, 1])).detach().numpy(), w[[3, 1]])
        bag = m.nn.EmbeddingBag.from_pretrained(m.tensor(w), mode="sum")
        assert not bag.weight.requires_grad
        np.testing.assert_array_equal(bag(m.tensor([[3, 1]])).numpy(), w[[3]] + w[[1]])


BAGS = {
    "mean 2d": (lambda m: m.nn.EmbeddingBag(7, 3), lambda m, mod: mod(m.tensor(IDX))),
    "sum offsets": (lambda m: m.nn.EmbeddingBag(7, 3, mode="sum"),
                    lambda m, mod: mod(m.tensor(FLAT), m.tensor(OFFSETS))),
    "max offsets": (lambda m: m.nn.EmbeddingBag(7, 3, mode="max"),
                    lambda m, mod: mod(m.tensor(FLAT), m.tensor(OFFSETS))),
    "mean padding last offset": (
        lambda m: m.nn.EmbeddingBag(7, 3, padding_idx=2, include_last_offset=True),
        lambda m, mod: mod(m.tensor(FLAT), m.tensor(OFFSETS))),
    "max padding": (lambda m: m.nn.EmbeddingBag(7, 3, mode="max", padding_idx=-5),
                    lambda m, mod: mod(m.tensor(FLAT), m.tensor(OFFSETS))),
    "per_sample_weights": (
        lambda m: m.nn.EmbeddingBag(7, 3, mode="sum"),
        lambda m, mod: mod(m.tensor(FLAT), m.tensor(OFFSETS), m.tensor(np.linspace(-1, 2, 8, dtype=np.float32)))),
    "max_norm": (lambda m: m.nn.EmbeddingBag(7, 3, max_norm=0.8, mode="sum"), lambda m, mod: mod(m.tensor(IDX))),
}


@pytest.mark.parametrize("case", BAGS)
def test_embedding_bag_matches_pytorch(case):
    _check(*BAGS[case])


def test_per_sample_weights_gradient():
    w = np.random.default_rng(0).standard_normal((7, 3)).astype(np.float32)
    grads = []
    for m in (engine, torch):
        bag = m.nn.EmbeddingBag.from_pretrained(m.tensor(w), mode="sum", padding_idx=2)
        psw = m.tensor(np.linspace(-1, 2, 8, dtype=np.float32), requires_grad=True)
        (bag(m.tensor(FLAT), m.tensor(OFFSETS), psw) ** 2).sum().backward()
        grads.append(psw.grad.numpy())
    np.testing.assert_allclose(*grads, rtol=1e-5, atol=1e-6)


def test_reprs():
    for make in (lambda m: m.nn.Embedding(5, 2, padding_idx=-1, max_norm=2.0, norm_type=3.0, sparse=True,
                                          scale_grad_by_freq=True),
                 lambda m: m.nn.EmbeddingBag(5, 2, max_norm=1.0, norm_type=1.0, mode="max", padding_idx=-2),
                 lambda m: m.nn.EmbeddingBag(5, 2, scale_grad_by_freq=True, mode="sum")):
        assert repr(make(engine)) == repr(make(torch))


def _raises(call, exc):
    messages = []
    for m in (torch, engine):
        with pytest.raises(exc) as info:
            call(m)
        messages.append(str(info.value))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("call, exc", [
    (lambda m: m.nn.Embedding(5, 2, padding_idx=5), AssertionError),
    (lambda m: m.nn.Embedding(5, 2, padding_idx=-6), AssertionError),
    (lambda m: m.nn.EmbeddingBag(5, 2, padding_idx=5), AssertionError),
    (lambda m: m.nn.Embedding(5, 2, _weight=m.zeros(4, 2)), AssertionError),
    (lambda m: m.nn.Embedding.from_pretrained(m.zeros(4)), AssertionError),
    (lambda m: m.nn.Embedding(5, 2)(m.tensor([5])), IndexError),
    (lambda m: m.nn.Embedding(5, 2)(m.tensor([0.0])), RuntimeError),
    (lambda m: m.nn.EmbeddingBag(5, 2, mode="max")(m.tensor([0, 1]), m.tensor([0]), m.ones(2)),
     NotImplementedError),
], ids=["padding_idx", "padding_idx<0", "bag padding_idx", "weight shape", "pretrained 1-d", "index range",
        "float index", "bag weights mode"])
def test_errors(call, exc):
    _raises(call, exc)


def test_sparse_gradients_are_refused():
    """The engine has no sparse tensors: asking for sparse gradients fails at the lookup, clearly."""
    emb = engine.nn.Embedding(5, 2, sparse=True)
    with pytest.raises(NotImplementedError, match="sparse=True"):
        emb(engine.tensor([1]))
    with pytest.raises(NotImplementedError, match="sparse=True"):
        engine.nn.functional.embedding_bag(engine.tensor([[1]]), emb.weight, sparse=True)


def test_on_cuda_device(fake_cuda):
    results = []
    for device in ("cpu", "cuda"):
        engine.manual_seed(0)
        emb = engine.nn.Embedding(7, 3, padding_idx=1, scale_grad_by_freq=True, max_norm=1.5).to(device)
        bag = engine.nn.EmbeddingBag(7, 3, mode="max").to(device)
        out = emb(engine.tensor(IDX, device=device))
        pooled = bag(engine.tensor(FLAT, device=device), engine.tensor(OFFSETS, device=device))
        assert out.device.type == device and pooled.device.type == device
        ((out * out).sum() + pooled.sum()).backward()
        results.append([t.detach().cpu().numpy() for t in (out, pooled, emb.weight.grad, bag.weight.grad)])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)
