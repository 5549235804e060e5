"""Conv1d, ConvTranspose1d/2d, Fold, Unfold (and Conv2d's padding modes) against PyTorch's modules: repr, state
dict keys and shapes, and with the same weights the same outputs and gradients (input and parameters) in
training and eval mode; ``output_size=`` in the transposed forward; PyTorch's errors for bad arguments."""

import re

import numpy as np
import pytest

import engine

torch = pytest.importorskip("torch")

LAYERS = [
    ("Conv1d", lambda m: m.nn.Conv1d(3, 6, 5), (2, 3, 12)),
    ("Conv1d options", lambda m: m.nn.Conv1d(4, 6, 3, stride=2, padding=2, dilation=2, groups=2), (2, 4, 11)),
    ("Conv1d depthwise", lambda m: m.nn.Conv1d(4, 8, 5, padding=2, groups=4, bias=False), (2, 4, 9)),
    ("Conv1d same", lambda m: m.nn.Conv1d(3, 4, 4, padding="same"), (2, 3, 9)),
    ("Conv1d reflect", lambda m: m.nn.Conv1d(2, 3, 3, padding=2, padding_mode="reflect"), (2, 2, 7)),
    ("Conv1d circular same", lambda m: m.nn.Conv1d(2, 3, 4, padding="same", padding_mode="circular"), (2, 2, 7)),
    ("Conv1d unbatched", lambda m: m.nn.Conv1d(3, 2, 3, padding=1), (3, 8)),
    ("Conv2d replicate", lambda m: m.nn.Conv2d(2, 3, (3, 2), padding=(1, 2), padding_mode="replicate"), (2, 2, 6, 5)),
    ("Conv2d reflect same", lambda m: m.nn.Conv2d(2, 3, 3, padding="same", padding_mode="reflect"), (2, 2, 6, 6)),
    ("Conv2d depthwise 3x3", lambda m: m.nn.Conv2d(8, 8, 3, padding=1, groups=8), (2, 8, 10, 10)),
    ("Conv2d depthwise 5x5 stride 2", lambda m: m.nn.Conv2d(4, 8, 5, stride=2, padding=2, groups=4), (2, 4, 11, 11)),
    ("Conv2d depthwise 7x7", lambda m: m.nn.Conv2d(6, 6, 7, padding=3, groups=6), (2, 6, 8, 8)),
    ("ConvTranspose1d", lambda m: m.nn.ConvTranspose1d(3, 4, 3), (2, 3, 7)),
    ("ConvTranspose1d options", lambda m: m.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1,
                                                               groups=2, dilation=1), (2, 4, 7)),
    ("ConvTranspose2d", lambda m: m.nn.ConvTranspose2d(3, 4, 3), (2, 3, 5, 5)),
    ("ConvTranspose2d upsample", lambda m: m.nn.ConvTranspose2d(4, 2, 4, stride=2, padding=1), (2, 4, 6, 6)),
    ("ConvTranspose2d options", lambda m: m.nn.ConvTranspose2d(4, 6, (3, 2), stride=(2, 3), padding=(1, 0),
                                                               output_padding=(1, 2), groups=2, bias=False,
                                                               dilation=(1, 2)), (2, 4, 5, 4)),
    ("ConvTranspose2d unbatched", lambda m: m.nn.ConvTranspose2d(3, 2, 3, stride=2), (3, 4, 4)),
    ("Unfold", lambda m: m.nn.Unfold(2), (2, 3, 6, 6)),
    ("Unfold options", lambda m: m.nn.Unfold((2, 3), dilation=2, padding=1, stride=(1, 2)), (2, 3, 7, 6)),
    ("Fold", lambda m: m.nn.Fold((6, 6), 2), (2, 12, 25)),
    ("Fold options", lambda m: m.nn.Fold(8, 4, stride=4), (32, 4)),
]


def _same_weights(elayer, tlayer):
    tsd = tlayer.state_dict()
    assert list(tsd) == list(elayer.state_dict())
    assert [tuple(v.shape) for v in tsd.values()] == [tuple(v.shape) for v in elayer.state_dict().values()]
    elayer.load_state_dict({k: engine.tensor(v.numpy()) for k, v in tsd.items()})


def _compare(elayer, tlayer, x, **kwargs):
    """Outputs and every gradient of the two layers on input ``x`` (one random upstream gradient)."""
    tx, ex = torch.tensor(x, requires_grad=True), engine.tensor(x, requires_grad=True)
    tout, eout = tlayer(tx, **kwargs), elayer(ex, **kwargs)
    assert tuple(eout.shape) == tuple(tout.shape)
    np.testing.assert_allclose(eout.detach().numpy(), tout.detach().numpy(), rtol=1e-4, atol=1e-5)
    g = np.random.default_rng(1).standard_normal(tuple(tout.shape)).astype(np.float32)
    tout.backward(torch.tensor(g))
    eout.backward(engine.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)
    for (name, tp), (_, ep) in zip(tlayer.named_parameters(), elayer.named_parameters(), strict=True):
        np.testing.assert_allclose(ep.grad.numpy(), tp.grad.numpy(), rtol=1e-4, atol=1e-4, err_msg=name)


@pytest.mark.parametrize("name, make, shape", LAYERS, ids=[case[0] for case in LAYERS])
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_layer_matches_pytorch(name, make, shape, training):
    tlayer, elayer = make(torch), make(engine)
    _same_weights(elayer, tlayer)
    tlayer.train(training)
    elayer.train(training)
    assert repr(elayer) == repr(tlayer)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _compare(elayer, tlayer, x)


@pytest.mark.parametrize("cls, shape, output_size", [
    ("ConvTranspose2d", (2, 3, 5, 5), (10, 10)),
    ("ConvTranspose2d", (2, 3, 5, 5), (2, 4, 9, 10)),
    ("ConvTranspose2d", (3, 5, 5), (4, 9, 9)),
    ("ConvTranspose1d", (2, 3, 5), [10]),
    ("ConvTranspose1d", (2, 3, 5), torch.Size([2, 4, 9])),
])
def test_transposed_output_size(cls, shape, output_size):
    tlayer = getattr(torch.nn, cls)(3, 4, 3, stride=2, padding=1)
    elayer = getattr(engine.nn, cls)(3, 4, 3, stride=2, padding=1)
    _same_weights(elayer, tlayer)
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    _compare(elayer, tlayer, x, output_size=list(output_size))


@pytest.mark.parametrize("output_size", [(8, 8), (11, 9), (2, 4, 1, 10, 10)])
def test_transposed_output_size_errors(output_size):
    x = np.zeros((2, 3, 5, 5), np.float32)
    with pytest.raises(ValueError) as expected:
        torch.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)(torch.tensor(x), output_size=output_size)
    with pytest.raises(ValueError) as got:
        engine.nn.ConvTranspose2d(3, 4, 3, stride=2, padding=1)(engine.tensor(x), output_size=output_size)
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("make", [
    lambda m: m.nn.Conv1d(4, 6, 3, groups=0),
    lambda m: m.nn.Conv1d(4, 6, 3, groups=3),
    lambda m: m.nn.Conv1d(3, 4, 3, groups=3),
    lambda m: m.nn.Conv1d(3, 4, 3, padding="full"),
    lambda m: m.nn.Conv1d(3, 4, 3, stride=2, padding="same"),
    lambda m: m.nn.Conv1d(3, 4, 3, padding_mode="mirror"),
    lambda m: m.nn.ConvTranspose1d(3, 4, 3, padding_mode="reflect"),
    lambda m: m.nn.ConvTranspose2d(3, 4, 3, padding_mode="circular"),
    lambda m: m.nn.ConvTranspose2d(3, 4, 3, groups=2),
], ids=["groups 0", "in not divisible", "out not divisible", "padding string", "same strided", "padding mode",
        "transposed 1d reflect", "transposed 2d circular", "transposed groups"])
def test_constructor_errors(make):
    with pytest.raises(ValueError) as expected:
        make(torch)
    with pytest.raises(ValueError) as got:
        make(engine)
    assert _sets_sorted(str(got.value)) == _sets_sorted(str(expected.value))


def _sets_sorted(message):
    """``message`` with the items of each printed set (``{'a', 'b'}``) sorted: PyTorch prints a set literal, whose
    order follows the string hashes of the process that compiled the module, so it changes with the hash seed."""
    return re.sub(r"\{([^{}]*)\}", lambda m: "{" + ", ".join(sorted(m.group(1).split(", "))) + "}", message)


def test_default_initialisation_bounds():
    """Kaiming-uniform weights and a bias within 1/sqrt(fan_in), fan_in from the weight's dimension 1: for a
    transposed convolution, out_channels / groups times the kernel (as PyTorch's)."""
    engine.manual_seed(0)
    layer = engine.nn.ConvTranspose2d(64, 8, 3, groups=2)
    fan_in = 4 * 9
    assert tuple(layer.weight.shape) == (64, 4, 3, 3) and tuple(layer.bias.shape) == (8,)
    assert np.abs(layer.weight.detach().numpy()).max() <= 1 / np.sqrt(fan_in) + 1e-7
    assert np.abs(layer.bias.detach().numpy()).max() <= 1 / np.sqrt(fan_in) + 1e-7
    assert np.abs(layer.weight.detach().numpy()).max() > 0.8 / np.sqrt(fan_in)
