"""bfloat16 (NumPy arrays of ml_dtypes' bfloat16): the dtype, casts, creation, printing, limits, promotion and
gradients, compared with PyTorch within bfloat16's precision."""

import numpy as np
import pytest
import torch

import engine

BF16_TOL = {"rtol": 1.6e-2, "atol": 1e-2}


def _pair(*shape, seed=0, requires_grad=False):
    data = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    ours = engine.tensor(data).bfloat16().requires_grad_(requires_grad)
    theirs = torch.tensor(data).bfloat16().requires_grad_(requires_grad)
    return ours, theirs


def _close(ours, theirs, **tol):
    assert str(ours.dtype) == str(theirs.dtype)
    np.testing.assert_allclose(ours.float().detach().numpy(), theirs.float().detach().numpy(),
                               **(tol or BF16_TOL))


def test_dtype_attributes():
    d = engine.bfloat16
    assert str(d) == "torch.bfloat16"
    assert d.is_floating_point and d.is_signed and d.itemsize == 2
    assert engine.float16.is_signed and not engine.uint8.is_signed and engine.int8.is_signed
    assert engine.dtypes.to_dtype("torch.bfloat16") is d


def test_casts_keep_values_rounded_like_torch():
    ours, theirs = _pair(4, 5)
    assert ours.is_floating_point()
    _close(ours, theirs, rtol=0, atol=0)
    _close(engine.tensor([1.0, 3.1234567]).to(engine.bfloat16), torch.tensor([1.0, 3.1234567]).to(torch.bfloat16),
           rtol=0, atol=0)
    assert ours.half().dtype is engine.float16
    assert ours.to(engine.float32).dtype is engine.float32
    assert engine.zeros(2, dtype=engine.bfloat16).dtype is engine.bfloat16
    assert engine.randn(2, 3, dtype=engine.bfloat16).dtype is engine.bfloat16
    assert engine.tensor([1, 2], dtype=engine.bfloat16).dtype is engine.bfloat16


@pytest.mark.parametrize("values", [[1.5, 2.25, 3.1234567], [1e-5, 1e5, 3.0], [1.0, 2.0, 3.0],
                                    [float("nan"), float("inf"), 1.0], 3.1234567])
def test_printing_as_torch(values):
    ours = repr(engine.tensor(values).bfloat16())
    theirs = repr(torch.tensor(values).bfloat16())
    assert ours == theirs


@pytest.mark.parametrize("name", ["bfloat16", "float16", "float32", "float64"])
def test_finfo(name):
    ours, theirs = engine.finfo(getattr(engine, name)), torch.finfo(getattr(torch, name))
    for attr in ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution"):
        assert getattr(ours, attr) == getattr(theirs, attr), attr
    assert ours.dtype == theirs.dtype
    assert repr(ours) == repr(theirs)
    assert engine.finfo().eps == torch.finfo().eps


def test_finfo_iinfo_refusals():
    with pytest.raises(TypeError, match="requires a floating point input type"):
        engine.finfo(engine.int32)
    with pytest.raises(TypeError, match="requires an integer input type"):
        engine.iinfo(engine.bfloat16)
    with pytest.raises(TypeError, match="not supported by torch.iinfo"):
        engine.iinfo(engine.bool)
    ours, theirs = engine.iinfo(engine.int16), torch.iinfo(torch.int16)
    assert (ours.bits, ours.min, ours.max, repr(ours)) == (theirs.bits, theirs.min, theirs.max, repr(theirs))


@pytest.mark.parametrize("other", ["float16", "float32", "float64", "int64", "bool", "float", "int", "zero_dim"])
def test_type_promotion_as_torch(other):
    ours, theirs = _pair(3)

    def operand(lib):
        if other == "float":
            return 1.5
        if other == "int":
            return 2
        if other == "zero_dim":
            return lib.tensor(2.0)
        return lib.ones(3, dtype=getattr(lib, other))

    assert str((ours + operand(engine)).dtype) == str((theirs + operand(torch)).dtype)
    assert str((operand(engine) * ours).dtype) == str((operand(torch) * theirs).dtype)


def test_gradients_in_bfloat16():
    x, tx = _pair(3, 4, seed=1, requires_grad=True)
    w, tw = _pair(4, 5, seed=2, requires_grad=True)
    y = ((x @ w).tanh() * 2.0 + x.exp().sum(1, keepdim=True)).sum()
    ty = ((tx @ tw).tanh() * 2.0 + tx.exp().sum(1, keepdim=True)).sum()
    _close(y, ty, rtol=3e-2, atol=5e-2)
    y.backward()
    ty.backward()
    _close(x.grad, tx.grad, rtol=3e-2, atol=5e-2)
    _close(w.grad, tw.grad)


def test_gradient_through_casts_comes_back_in_each_dtype():
    x, tx = _pair(5, seed=3)
    x = x.float().requires_grad_()
    tx = tx.float().requires_grad_()
    (x.bfloat16() * 3.0).float().sum().backward()
    (tx.bfloat16() * 3.0).float().sum().backward()
    assert x.grad.dtype is engine.float32
    _close(x.grad, tx.grad, rtol=0, atol=0)


def test_refused_on_cuda(fake_cuda):
    with pytest.raises(TypeError, match="bfloat16 is not supported on device cuda:0"):
        engine.zeros(2, dtype=engine.bfloat16, device="cuda")
    with pytest.raises(TypeError, match="bfloat16 is not supported on device cuda:0"):
        engine.ones(2).bfloat16().cuda()
    with pytest.raises(TypeError, match="bfloat16 is not supported on device cuda:0"):
        engine.ones(2).cuda().to(engine.bfloat16)
    with pytest.raises(TypeError, match="bfloat16 is not supported on device cuda:0"):
        engine.tensor([1.0], dtype=engine.bfloat16, device="cuda")
    assert engine.ones(2).cuda().half().dtype is engine.float16


# Ops that accumulate compute in float32 and round, as PyTorch's CPU kernels do (engine.amp.opmath): sizes large
# enough that a bfloat16 accumulator would stall.
_ACCUMULATING = {
    "sum": (lambda L, F, x: x.sum(), (4096,)),
    "mean": (lambda L, F, x: x.mean(0), (2048, 4)),
    "var": (lambda L, F, x: x.var(0), (2048, 4)),
    "softmax": (lambda L, F, x: L.softmax(x, 1), (4, 1024)),
    "log_softmax": (lambda L, F, x: L.log_softmax(x, 1), (4, 1024)),
    "logsumexp": (lambda L, F, x: L.logsumexp(x, 1), (4, 1024)),
    "cumsum": (lambda L, F, x: x.cumsum(0), (2048,)),
    "norm": (lambda L, F, x: x.norm(), (4096,)),
    "linear": (lambda L, F, x: F.linear(x, x[:8], x[0, :8]), (512, 512)),
    "conv2d": (lambda L, F, x: F.conv2d(x, x[:4, :, :3, :3], x[0, 0, 0, :4]), (4, 3, 16, 16)),
    "avg_pool2d": (lambda L, F, x: F.avg_pool2d(x, 2), (2, 3, 8, 8)),
    "batch_norm": (lambda L, F, x: F.batch_norm(x, None, None, training=True), (64, 3, 4, 4)),
    "cross_entropy": (lambda L, F, x: F.cross_entropy(x, L.zeros(512, dtype=L.long)), (512, 10)),
    "mse_loss": (lambda L, F, x: F.mse_loss(x, x * 0), (4096,)),
    "gelu": (lambda L, F, x: F.gelu(x), (64,)),
}


@pytest.mark.parametrize("name", list(_ACCUMULATING))
def test_accumulating_ops_as_torch(name):
    fn, shape = _ACCUMULATING[name]
    x, tx = _pair(*shape, seed=4, requires_grad=True)
    y, ty = fn(engine, engine.nn.functional, x), fn(torch, torch.nn.functional, tx)
    _close(y, ty, rtol=2e-2, atol=2e-2 * float(ty.detach().float().abs().max()))
    weights = np.random.default_rng(5).standard_normal(tuple(ty.shape)).astype(np.float32)
    (y.float() * engine.tensor(weights)).sum().backward()
    (ty.float() * torch.tensor(weights)).sum().backward()
    _close(x.grad, tx.grad, rtol=2e-2, atol=2e-2 * float(tx.grad.float().abs().max()))


def _cnn(lib):
    model = lib.nn.Sequential(lib.nn.Conv2d(3, 4, 3, padding=1), lib.nn.BatchNorm2d(4), lib.nn.ReLU(),
                              lib.nn.MaxPool2d(2), lib.nn.Flatten(), lib.nn.Linear(64, 5))
    rng = np.random.default_rng(0)
    with lib.no_grad():
        for p in model.parameters():
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.3))
    return model


def test_module_in_bfloat16_trains_as_torch():
    x = np.random.default_rng(1).standard_normal((6, 3, 8, 8)).astype(np.float32)
    results = []
    for lib in (engine, torch):
        model = _cnn(lib).bfloat16()
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        for _ in range(2):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x).bfloat16()), lib.tensor([0, 1, 2, 3, 4, 0]))
            loss.backward()
            opt.step()
        results.append((loss, list(model.parameters())))
    _close(results[0][0], results[1][0])
    for p, tp in zip(results[0][1], results[1][1]):
        assert p.dtype is engine.bfloat16 and p.grad.dtype is engine.bfloat16
        # (the conv bias before BatchNorm has a zero gradient up to rounding: hence the floor on atol)
        _close(p.grad, tp.grad, rtol=5e-2, atol=5e-2 * max(float(tp.grad.float().abs().max()), 1e-2))
        _close(p, tp, rtol=3e-2, atol=3e-2)


def test_legacy_type_names():
    t = engine.ones(2).bfloat16()
    assert t.type() == torch.ones(2).bfloat16().type() == "torch.BFloat16Tensor"
    assert isinstance(t, engine.BFloat16Tensor) and not isinstance(t, engine.HalfTensor)
    assert engine.ones(2).type("torch.BFloat16Tensor").dtype is engine.bfloat16


def test_files_keep_bfloat16(tmp_path):
    from safetensors.torch import load_file, save_file

    values = engine.arange(6.0).bfloat16() / 3
    engine.save({"w": values}, tmp_path / "w.pt")
    assert engine.equal(engine.load(tmp_path / "w.pt")["w"], values)
    engine.save_safetensors({"w": values}, tmp_path / "ours.safetensors")
    theirs = load_file(str(tmp_path / "ours.safetensors"))["w"]
    assert theirs.dtype is torch.bfloat16 and theirs.float().tolist() == values.float().tolist()
    expected = torch.arange(4.0).bfloat16() / 3
    save_file({"w": expected}, str(tmp_path / "theirs.safetensors"))
    back = engine.load_safetensors(tmp_path / "theirs.safetensors")["w"]
    assert back.dtype is engine.bfloat16 and back.float().tolist() == expected.float().tolist()
    torch.save({"w": expected}, tmp_path / "torch.pt")
    assert engine.load(tmp_path / "torch.pt")["w"].float().tolist() == back.float().tolist()


def test_random_fills_and_draws():
    t = engine.empty(2000, dtype=engine.bfloat16)
    assert t.random_().max().item() == torch.empty(2000, dtype=torch.bfloat16).random_().max().item() == 256
    for fill in ("normal_", "uniform_", "exponential_", "log_normal_", "cauchy_"):
        assert getattr(t, fill)().dtype is engine.bfloat16
    assert 0.4 < engine.bernoulli(t.fill_(0.5)).float().mean().item() < 0.6
    assert engine.multinomial(engine.ones(4, dtype=engine.bfloat16), 2).dtype is engine.int64
    assert engine.histc(t.uniform_(), bins=4).dtype is engine.bfloat16
