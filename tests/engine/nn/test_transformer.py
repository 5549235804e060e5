"""The Transformer modules against PyTorch's: state-dict keys, ``repr``, and with the same weights the same outputs
and gradients in training (dropout 0) and eval, with masks, padding, ``norm_first``, activations and batch_first."""

import numpy as np
import pytest
from module_against_torch import check_module, same_module

import engine

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.filterwarnings("ignore:enable_nested_tensor is True"),
              pytest.mark.filterwarnings("ignore:The PyTorch API of nested tensors")]

RNG = np.random.default_rng(1)
PAD = np.zeros((3, 6), bool)
PAD[1, 4:] = True
PAD[2, 2:] = True
MEM_PAD = np.zeros((3, 5), bool)
MEM_PAD[0, 3:] = True


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _tensors(m, options):
    return {k: m.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


def _call(**options):
    return lambda m, mod, *xs: mod(*xs, **_tensors(m, options))


def _causal(n):
    return np.triu(np.full((n, n), -np.inf, np.float32), 1)


def _enc_layer(**kw):
    return lambda m: m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw)


def _dec_layer(**kw):
    return lambda m: m.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, **kw)


def _encoder(layers=2, **kw):
    return lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, **kw), layers,
                                             norm=m.nn.LayerNorm(8))


def _gelu_module(m):
    return m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, activation=m.nn.GELU())


SRC, TGT, MEM = (6, 3, 8), (4, 3, 8), (5, 3, 8)
CASES = [
    ("encoder layer", _enc_layer(), [_x(*SRC)], _call()),
    ("encoder layer norm_first gelu", _enc_layer(norm_first=True, activation="gelu"), [_x(*SRC)], _call()),
    ("encoder layer callable activation", _enc_layer(activation=lambda x: x.tanh()), [_x(*SRC)], _call()),
    ("encoder layer activation module", _gelu_module, [_x(*SRC)], _call()),
    ("encoder layer batch_first masks", _enc_layer(batch_first=True, layer_norm_eps=1e-3), [_x(3, 6, 8)],
     _call(src_mask=_causal(6), src_key_padding_mask=PAD)),
    ("encoder layer causal hint", _enc_layer(), [_x(*SRC)], _call(src_mask=_causal(6), is_causal=True)),
    ("encoder layer no bias", _enc_layer(bias=False), [_x(*SRC)], _call(src_key_padding_mask=PAD)),
    ("encoder layer unbatched", _enc_layer(), [_x(6, 8)], _call(src_key_padding_mask=PAD[1])),
    ("decoder layer", _dec_layer(), [_x(*TGT), _x(*MEM)], _call()),
    ("decoder layer norm_first masks", _dec_layer(norm_first=True), [_x(*TGT), _x(*MEM)],
     _call(tgt_mask=_causal(4), memory_key_padding_mask=MEM_PAD, tgt_key_padding_mask=PAD[:, :4])),
    ("decoder layer batch_first gelu", _dec_layer(batch_first=True, activation="gelu"), [_x(3, 4, 8), _x(3, 5, 8)],
     _call(memory_mask=RNG.random((4, 5)) > 0.8)),
    ("encoder", _encoder(), [_x(*SRC)], _call(mask=_causal(6))),
    ("encoder padding", _encoder(batch_first=True), [_x(3, 6, 8)], _call(src_key_padding_mask=PAD)),
    ("decoder", lambda m: m.nn.TransformerDecoder(m.nn.TransformerDecoderLayer(8, 2, 16, 0.0), 2),
     [_x(*TGT), _x(*MEM)], _call(tgt_mask=_causal(4))),
    ("transformer", lambda m: m.nn.Transformer(8, 2, 2, 1, 16, 0.0), [_x(*SRC), _x(*TGT)],
     _call(tgt_mask=_causal(4), src_key_padding_mask=PAD, memory_key_padding_mask=PAD)),
    ("transformer batch_first norm_first", lambda m: m.nn.Transformer(8, 2, 1, 2, 16, 0.0, activation="gelu",
                                                                      batch_first=True, norm_first=True),
     [_x(3, 6, 8), _x(3, 4, 8)], _call(tgt_is_causal=True, tgt_mask=_causal(4))),
    ("transformer dropout", lambda m: m.nn.Transformer(8, 2, 1, 1, 16, 0.3), [_x(*SRC), _x(*TGT)], _call()),
]

# PyTorch's ModuleList repr folds repeated layers ("(0-1): 2 x ..."), the engine's lists each one: stacks of several
# layers compare everything but their repr, which test_single_layer_stack_repr compares.
STACKS = {"encoder", "encoder padding", "decoder", "transformer", "transformer batch_first norm_first"}
PARAMS = [pytest.param(*case, training, id=f"{case[0]}-{'train' if training else 'eval'}")
          for case in CASES for training in (True, False) if not (training and case[0] == "transformer dropout")]


@pytest.mark.parametrize("name, make, arrays, call, training", PARAMS)
def test_matches_pytorch(name, make, arrays, call, training):
    check_module(make, arrays, call, training, rtol=5e-4, atol=5e-5, check_repr=name not in STACKS)


@pytest.mark.parametrize("make", [_encoder(layers=1), lambda m: m.nn.Transformer(8, 2, 1, 1, 16),
                                  lambda m: m.nn.TransformerDecoder(m.nn.TransformerDecoderLayer(8, 2, 16), 1)],
                         ids=["encoder", "transformer", "decoder"])
def test_single_layer_stack_repr(make):
    same_module(make)


def _bf_layer(**kw):
    return lambda m: m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, **kw)


def _bf_encoder(**kw):
    return lambda m: m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2,
                                             norm=m.nn.LayerNorm(8), **kw)


LEFT = PAD[:, ::-1].copy()  # padding first: not what the nested path takes
INFERENCE = [
    ("layer padding", _bf_layer(), {"src_key_padding_mask": PAD}),
    ("layer mask", _bf_layer(), {"src_mask": _causal(6) == -np.inf}),
    ("layer both gelu", _bf_layer(activation="gelu"), {"src_mask": _causal(6), "src_key_padding_mask": PAD}),
    ("encoder nested", _bf_encoder(), {"src_key_padding_mask": PAD}),
    ("encoder left padding", _bf_encoder(), {"src_key_padding_mask": LEFT}),
    ("encoder unchecked left padding", _bf_encoder(mask_check=False), {"src_key_padding_mask": LEFT}),
]


@pytest.mark.parametrize("name, make, options", INFERENCE, ids=[c[0] for c in INFERENCE])
def test_inference_matches_pytorch(name, make, options):
    """In eval without gradients PyTorch takes its fast paths; the encoder runs right-padded batches as nested
    tensors (padded positions come out as zeros before the final norm, and with ``mask_check=False`` each sequence
    is taken as its first unpadded-count tokens). The engine gives the same outputs."""
    emod, tmod = same_module(make, check_repr=name.startswith("layer"))  # (stacks: see STACKS)
    x = _x(3, 6, 8)
    outs = []
    for m, mod in ((engine, emod), (torch, tmod)):
        mod.eval()
        with m.no_grad():
            outs.append(mod(m.tensor(x), **_tensors(m, options)).numpy())
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-4, atol=1e-5)
    if name == "encoder nested":
        bias = tmod.norm.bias.detach().numpy()
        np.testing.assert_allclose(outs[0][2, 2:], np.broadcast_to(bias, (4, 8)), atol=1e-6)


def test_nested_tensor_notice():
    for m in (torch, engine):
        layer = m.nn.TransformerEncoderLayer(8, 2, 16, norm_first=True)
        with pytest.warns(UserWarning, match="enable_nested_tensor is True, but self.use_nested_tensor is False "
                                             "because encoder_layer.norm_first was True"):
            encoder = m.nn.TransformerEncoder(layer, 2)
        assert encoder.use_nested_tensor is False and encoder.enable_nested_tensor is True


def test_square_subsequent_mask():
    ours = engine.nn.Transformer.generate_square_subsequent_mask(5)
    theirs = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert ours.dtype == engine.float32
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert engine.nn.Transformer.generate_square_subsequent_mask(3, dtype=engine.float64).dtype == engine.float64


def test_transformer_init():
    """Every matrix xavier-uniform (PyTorch's reset for the whole model), clones independent of one another."""
    model = engine.nn.Transformer(16, 2, 2, 2, 32)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()
    bound = np.sqrt(6 / (16 + 32))
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    first, second = model.encoder.layers
    assert first.linear1.weight is not second.linear1.weight
    assert not np.array_equal(w, second.linear1.weight.detach().numpy())
    assert list(model.state_dict()) == list(torch.nn.Transformer(16, 2, 2, 2, 32).state_dict())


ERRORS = [
    ("activation", lambda m: m.nn.TransformerEncoderLayer(8, 2, activation="tanh"), RuntimeError,
     "activation should be relu/gelu, not tanh"),
    ("batch", lambda m: m.nn.Transformer(8, 2, 1, 1, 16)(m.ones(5, 2, 8), m.ones(4, 3, 8)), RuntimeError,
     "the batch number of src and tgt must be equal"),
    ("features", lambda m: m.nn.Transformer(8, 2, 1, 1, 16)(m.ones(5, 2, 6), m.ones(4, 2, 8)), RuntimeError,
     "the feature number of src and tgt must be equal to d_model"),
    ("heads", lambda m: m.nn.TransformerEncoderLayer(8, 3), AssertionError, "embed_dim must be divisible by num_heads"),
]


@pytest.mark.parametrize("name, call, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_pytorch(name, call, exc, match):
    for m in (torch, engine):
        with pytest.raises(exc) as info:
            call(m)
        assert match in str(info.value), (m.__name__, str(info.value))


def test_dropout_in_training():
    engine.manual_seed(0)
    layer = engine.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.5)
    x = engine.tensor(_x(*SRC))
    a, b = layer(x), layer(x)
    assert not np.allclose(a.detach().numpy(), b.detach().numpy())
    layer.eval()
    np.testing.assert_array_equal(layer(x).detach().numpy(), layer(x).detach().numpy())


def test_transformer_on_fake_gpu_matches_cpu(fake_cuda):
    """The whole model (attention with causal and padding masks) on the CuPy stand-in gives the CPU's outputs and
    gradients: masks and every intermediate are made on the device; with dropout, its masks are drawn there."""
    src, tgt, pad = engine.tensor(_x(*SRC)), engine.tensor(_x(*TGT)), engine.tensor(PAD)
    results = []
    for dev in ("cpu", "cuda"):
        engine.manual_seed(0)
        model = engine.nn.Transformer(8, 2, 1, 1, 16, dropout=0.0).to(dev)
        mask = model.generate_square_subsequent_mask(4, device=dev)
        out = model(src.to(dev), tgt.to(dev), tgt_mask=mask, src_key_padding_mask=pad.to(dev))
        assert out.device.type == dev
        out.square().sum().backward()
        results.append([out.detach().cpu().numpy()] + [p.grad.cpu().numpy() for p in model.parameters()])
    for ours, theirs in zip(*results, strict=True):  # (the CPU takes compiled kernels, the stand-in NumPy's)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)
    for layer in (*model.encoder.layers, *model.decoder.layers):
        layer.self_attn.dropout = 0.5
    dropped = model(src.to("cuda"), tgt.to("cuda"), tgt_mask=mask, src_key_padding_mask=pad.to("cuda"))
    assert dropped.device.type == "cuda" and not np.allclose(dropped.detach().cpu().numpy(), results[1][0])
