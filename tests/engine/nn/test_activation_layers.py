"""Issue 16's activation and dropout layers against PyTorch's: same repr and state dict, and with the same
weights the same outputs and gradients (input and parameters) in training and eval mode; PyTorch's errors."""

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

LAYERS = [
    ("SiLU", lambda m: m.nn.SiLU(), (4, 5)),
    ("SiLU inplace", lambda m: m.nn.SiLU(inplace=True), (4, 5)),
    ("Mish", lambda m: m.nn.Mish(), (4, 5)),
    ("PReLU", lambda m: m.nn.PReLU(), (4, 5)),
    ("PReLU channels", lambda m: m.nn.PReLU(3, init=0.1), (2, 3, 4, 4)),
    ("ELU", lambda m: m.nn.ELU(0.5), (4, 5)),
    ("ELU inplace", lambda m: m.nn.ELU(inplace=True), (4, 5)),
    ("SELU", lambda m: m.nn.SELU(), (4, 5)),
    ("CELU", lambda m: m.nn.CELU(2.0), (4, 5)),
    ("ReLU6", lambda m: m.nn.ReLU6(), (4, 5)),
    ("ReLU6 inplace", lambda m: m.nn.ReLU6(True), (4, 5)),
    ("Hardswish", lambda m: m.nn.Hardswish(), (4, 5)),
    ("Hardswish inplace", lambda m: m.nn.Hardswish(inplace=True), (4, 5)),
    ("Hardsigmoid", lambda m: m.nn.Hardsigmoid(), (4, 5)),
    ("Hardtanh", lambda m: m.nn.Hardtanh(-2, 3), (4, 5)),
    ("Hardtanh inplace", lambda m: m.nn.Hardtanh(inplace=True), (4, 5)),
    ("Softplus", lambda m: m.nn.Softplus(beta=2.0, threshold=1.0), (4, 5)),
    ("Softsign", lambda m: m.nn.Softsign(), (4, 5)),
    ("LogSigmoid", lambda m: m.nn.LogSigmoid(), (4, 5)),
    ("Threshold", lambda m: m.nn.Threshold(0.1, 20.0), (4, 5)),
    ("Threshold inplace", lambda m: m.nn.Threshold(-0.5, 2, inplace=True), (4, 5)),
    ("GLU", lambda m: m.nn.GLU(), (4, 6)),
    ("GLU dim", lambda m: m.nn.GLU(dim=1), (2, 4, 3)),
    ("Softmin", lambda m: m.nn.Softmin(dim=1), (4, 5)),
    ("Tanhshrink", lambda m: m.nn.Tanhshrink(), (4, 5)),
    ("Hardshrink", lambda m: m.nn.Hardshrink(), (4, 5)),
    ("Softshrink", lambda m: m.nn.Softshrink(lambd=1.0), (4, 5)),
    ("Softmax2d", lambda m: m.nn.Softmax2d(), (2, 3, 4, 4)),
    ("Softmax2d unbatched", lambda m: m.nn.Softmax2d(), (3, 4, 4)),
    ("Dropout1d p=0", lambda m: m.nn.Dropout1d(0.0), (2, 3, 5)),
    ("Dropout2d p=1", lambda m: m.nn.Dropout2d(1.0), (2, 3, 4, 4)),
    ("Dropout3d p=0", lambda m: m.nn.Dropout3d(p=0.0, inplace=True), (2, 3, 2, 2, 2)),
    ("AlphaDropout p=0", lambda m: m.nn.AlphaDropout(0.0), (4, 5)),
    ("FeatureAlphaDropout p=1", lambda m: m.nn.FeatureAlphaDropout(1.0), (2, 3, 4)),
]


def _run(layer, m, x, g, inplace):
    """The layer's output and the gradients of the input, an in-place layer working on a copy of a leaf."""
    leaf = m.tensor(x, requires_grad=True)
    out = layer(leaf * 1 if inplace else leaf)
    out.backward(m.tensor(g))
    return out.detach().numpy(), leaf.grad.numpy()


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_pytorch(name, make, shape, training):
    tlayer, elayer = make(torch), make(engine)
    tsd = tlayer.state_dict()
    assert list(tsd) == list(elayer.state_dict())
    for key, value in tsd.items():
        assert tuple(elayer.state_dict()[key].shape) == tuple(value.shape)
    rng = np.random.default_rng(0)
    elayer.load_state_dict({k: engine.tensor(v.numpy() + rng.uniform(-0.1, 0.1, v.shape).astype(np.float32))
                            for k, v in tsd.items()})
    tlayer.load_state_dict({k: torch.tensor(v.numpy()) for k, v in elayer.state_dict().items()})
    tlayer.train(training)
    elayer.train(training)
    assert repr(elayer) == repr(tlayer)
    x = rng.uniform(-4, 4, shape).astype(np.float32)
    g = rng.standard_normal(tuple(tlayer(torch.tensor(x)).shape)).astype(np.float32)
    inplace = getattr(tlayer, "inplace", False)
    tout, tgrad = _run(tlayer, torch, x, g, inplace)
    eout, egrad = _run(elayer, engine, x, g, inplace)
    np.testing.assert_allclose(eout, tout, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(egrad, tgrad, rtol=1e-5, atol=1e-6)
    for (pname, tp), (_, ep) in zip(tlayer.named_parameters(), elayer.named_parameters(), strict=True):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-5, err_msg=pname)


def test_inplace_layers_write_their_input():
    x = engine.tensor([-2.0, 0.5, 3.0])
    assert engine.nn.Threshold(1.0, -7.0, inplace=True)(x) is x
    np.testing.assert_array_equal(x.numpy(), [-7.0, -7.0, 3.0])
    y = engine.tensor([-1.0, 8.0])
    assert engine.nn.ReLU6(inplace=True)(y) is y
    np.testing.assert_array_equal(y.numpy(), [0.0, 6.0])


def test_prelu_parameter_defaults_and_dtype():
    layer = engine.nn.PReLU(4, init=0.3, dtype=engine.float64)
    assert isinstance(layer.weight, engine.nn.Parameter) and layer.weight.dtype == engine.float64
    np.testing.assert_array_equal(layer.weight.detach().numpy(), np.full(4, 0.3))
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


@pytest.mark.parametrize("name, make", [
    ("Hardtanh", lambda m: m.nn.Hardtanh(1.0, -1.0)),
    ("Dropout1d", lambda m: m.nn.Dropout1d(1.5)),
    ("AlphaDropout", lambda m: m.nn.AlphaDropout(-0.1)),
    ("Softmax2d", lambda m: m.nn.Softmax2d()(m.ones(4, 5))),
])
def test_bad_arguments_raise_as_pytorch(name, make):
    with pytest.raises(Exception) as theirs:
        make(torch)
    with pytest.raises(type(theirs.value)) as ours:
        make(engine)
    assert str(ours.value) == str(theirs.value)


def test_softmin_without_dim_warns_as_torch():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    with pytest.warns(UserWarning) as ours:
        out = engine.nn.Softmin()(engine.tensor(x))
    with pytest.warns(UserWarning) as theirs:
        expected = torch.nn.Softmin()(torch.tensor(x))
    assert str(ours[0].message) == str(theirs[0].message)
    np.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=1e-6)
    with pytest.warns(UserWarning) as functional:
        engine.nn.functional.softmin(engine.tensor(x))
    assert functional[0].filename == __file__


def test_hardtanh_deprecated_names_warn():
    with pytest.warns(FutureWarning, match="`min_value` is deprecated"):
        layer = engine.nn.Hardtanh(min_value=-3.0)
    assert layer.min_val == -3.0


@pytest.mark.parametrize("cls, shape, channel_axes", [
    ("Dropout1d", (8, 50, 6), (0, 1)),
    ("Dropout2d", (8, 50, 3, 3), (0, 1)),
    ("Dropout3d", (8, 50, 2, 2, 2), (0, 1)),
    ("FeatureAlphaDropout", (8, 50, 4), (0, 1)),
])
def test_channel_dropout_drops_whole_channels(cls, shape, channel_axes):
    engine.manual_seed(0)
    layer = getattr(engine.nn, cls)(0.4)
    y = layer(engine.ones(*shape)).numpy()
    flat = y.reshape(shape[0] * shape[1], -1)
    assert np.all(flat == flat[:, :1])  # one value per (sample, channel)
    dropped = np.mean(flat[:, 0] == flat[:, 0].min())
    assert 0.3 < dropped < 0.5
    layer.eval()
    x = engine.ones(*shape)
    assert layer(x) is x


def test_alpha_dropout_keeps_mean_and_variance_and_is_seeded():
    engine.manual_seed(3)
    x = engine.randn(200_000)
    y = engine.nn.AlphaDropout(0.2)(x)
    assert y.dtype == engine.float32
    assert abs(float(y.mean())) < 0.01 and abs(float(y.std()) - 1) < 0.01
    alpha, p = 1.7580993408473766, 0.2
    a = 1 / np.sqrt((alpha**2 * p + 1) * (1 - p))
    dropped_value = -alpha * a * (1 - p)  # PyTorch's formula: the same affine maps of dropped and kept units
    dropped = np.isclose(y.numpy(), dropped_value, atol=1e-6)
    np.testing.assert_allclose(y.numpy()[~dropped], x.numpy()[~dropped] * a + alpha * a * p, rtol=1e-5, atol=1e-6)
    ty = torch.nn.functional.alpha_dropout(torch.tensor(x.numpy()), p, True).numpy()
    assert abs(dropped.mean() - p) < 0.01 and abs(np.isclose(ty, dropped_value, atol=1e-6).mean() - p) < 0.01
    engine.manual_seed(3)
    x2 = engine.randn(200_000)
    np.testing.assert_array_equal(engine.nn.AlphaDropout(0.2)(x2).numpy(), y.numpy())


@pytest.mark.parametrize("name, args", [
    ("threshold_", (0.2, -1.0)), ("elu_", (0.5,)), ("selu_", ()), ("celu_", (2.0,)), ("leaky_relu_", (0.3,)),
    ("hardtanh_", (-0.5, 0.7)), ("relu_", ()), ("rrelu_", (0.1, 0.3)),
])
def test_inplace_functional_forms_match_pytorch(name, args):
    x = np.random.default_rng(2).uniform(-3, 3, (4, 5)).astype(np.float32)
    results = []
    for m in (engine, torch):
        leaf = m.tensor(x, requires_grad=True)
        y = leaf * 1
        out = getattr(m.nn.functional, name)(y, *args)
        assert out is y
        out.backward(m.ones(4, 5))
        results.append((y.detach().numpy(), leaf.grad.numpy()))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-6, atol=1e-7)


def test_rrelu_eval_matches_pytorch_and_training_draws_seeded_slopes():
    x = np.random.default_rng(4).uniform(-3, 3, (6, 50)).astype(np.float32)
    elayer, tlayer = engine.nn.RReLU(0.1, 0.4), torch.nn.RReLU(0.1, 0.4)
    assert repr(elayer) == repr(tlayer)
    elayer.eval()
    tlayer.eval()
    ours, theirs = _run(elayer, engine, x, np.ones_like(x), False), _run(tlayer, torch, x, np.ones_like(x), False)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-6)
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-6)
    elayer.train()
    engine.manual_seed(7)
    y, grad = _run(elayer, engine, x, np.ones_like(x), False)
    slopes = y / x
    negative = x <= 0
    np.testing.assert_allclose(slopes[~negative], 1.0, rtol=1e-6)
    assert slopes[negative].min() >= 0.1 and slopes[negative].max() <= 0.4 and slopes[negative].std() > 0.05
    np.testing.assert_allclose(grad, slopes, rtol=1e-5)  # the gradient is the slope each element drew
    engine.manual_seed(7)
    np.testing.assert_array_equal(_run(elayer, engine, x, np.ones_like(x), False)[0], y)
