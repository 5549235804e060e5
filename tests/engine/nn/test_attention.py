"""``nn.MultiheadAttention`` and ``F.multi_head_attention_forward`` against PyTorch's, and the dropout of
``F.scaled_dot_product_attention`` (its other behaviour is compared in the op table)."""

import numpy as np
import pytest
from module_against_torch import check_module, same_module

import engine

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(0)
KPM = np.zeros((3, 7), bool)
KPM[0, 5:] = True
KPM[2, 3:] = True
BOOL_MASK = RNG.random((5, 7)) > 0.7
FLOAT_MASK = RNG.standard_normal((6, 5, 7)).astype(np.float32)
CAUSAL = np.triu(np.full((5, 5), -np.inf, np.float32), 1)


def _x(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _mha(**kw):
    return lambda m: m.nn.MultiheadAttention(**kw)


def _self(**options):
    return lambda m, mod, x: mod(x, x, x, **_masks(m, options))


def _cross(**options):
    return lambda m, mod, q, k, v: mod(q, k, v, **_masks(m, options))


def _masks(m, options):
    """Array options become tensors of framework ``m``."""
    return {k: m.tensor(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}


SEQ, BATCH = (5, 3, 8), (3, 5, 8)
CASES = [
    ("self", _mha(embed_dim=8, num_heads=2), [_x(*SEQ)], _self()),
    ("self no weights", _mha(embed_dim=8, num_heads=2), [_x(*SEQ)], _self(need_weights=False)),
    ("batch_first", _mha(embed_dim=8, num_heads=2, batch_first=True), [_x(*BATCH)], _self(need_weights=False)),
    ("per-head weights", _mha(embed_dim=8, num_heads=2, batch_first=True), [_x(*BATCH), _x(3, 7, 8), _x(3, 7, 8)],
     _cross(average_attn_weights=False)),
    ("kdim vdim", _mha(embed_dim=8, num_heads=4, kdim=5, vdim=6), [_x(*SEQ), _x(7, 3, 5), _x(7, 3, 6)], _cross()),
    ("kdim vdim no bias", _mha(embed_dim=8, num_heads=4, kdim=5, vdim=6, bias=False),
     [_x(*SEQ), _x(7, 3, 5), _x(7, 3, 6)], _cross(need_weights=False)),
    ("bias_kv zero_attn", _mha(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
     [_x(*SEQ), _x(7, 3, 8), _x(7, 3, 8)], _cross(key_padding_mask=KPM, attn_mask=BOOL_MASK)),
    ("bias_kv zero_attn no weights", _mha(embed_dim=8, num_heads=2, add_bias_kv=True, add_zero_attn=True),
     [_x(*SEQ), _x(7, 3, 8), _x(7, 3, 8)], _cross(need_weights=False, key_padding_mask=KPM)),
    ("masks", _mha(embed_dim=8, num_heads=2), [_x(*SEQ), _x(7, 3, 8), _x(7, 3, 8)],
     _cross(key_padding_mask=KPM, attn_mask=BOOL_MASK)),
    ("masks no weights", _mha(embed_dim=8, num_heads=2), [_x(*SEQ), _x(7, 3, 8), _x(7, 3, 8)],
     _cross(need_weights=False, key_padding_mask=KPM, attn_mask=BOOL_MASK)),
    ("float 3d mask", _mha(embed_dim=8, num_heads=2), [_x(*SEQ), _x(7, 3, 8), _x(7, 3, 8)],
     _cross(need_weights=False, attn_mask=FLOAT_MASK)),
    ("unbatched", _mha(embed_dim=8, num_heads=2), [_x(5, 8), _x(7, 8), _x(7, 8)], _cross(key_padding_mask=KPM[2])),
    ("unbatched no weights", _mha(embed_dim=8, num_heads=2), [_x(5, 8), _x(7, 8), _x(7, 8)],
     _cross(need_weights=False, key_padding_mask=KPM[0])),
    ("causal hint", _mha(embed_dim=8, num_heads=2), [_x(*SEQ)], _self(need_weights=False, is_causal=True,
                                                                      attn_mask=CAUSAL)),
    ("dropout", _mha(embed_dim=8, num_heads=2, dropout=0.4), [_x(*SEQ)], _self(need_weights=False)),
]


# (random dropout masks differ between the frameworks: dropout > 0 is compared in eval, and tested on its own below)
PARAMS = [pytest.param(*case, training, id=f"{case[0]}-{'train' if training else 'eval'}")
          for case in CASES for training in (True, False) if not (training and case[0] == "dropout")]


@pytest.mark.parametrize("name, make, arrays, call, training", PARAMS)
def test_multihead_attention_matches_pytorch(name, make, arrays, call, training):
    check_module(make, arrays, call, training)


def test_functional_form_matches_module():
    """``F.multi_head_attention_forward`` with the module's parameters gives the module's output."""
    emod, tmod = same_module(_mha(embed_dim=8, num_heads=2))
    x, padding = _x(*SEQ), KPM[:, :5]
    outs = []
    for m, mod in ((engine, emod), (torch, tmod)):
        t = m.tensor(x)
        out, weights = m.nn.functional.multi_head_attention_forward(
            t, t, t, 8, 2, mod.in_proj_weight, mod.in_proj_bias, None, None, False, 0.0, mod.out_proj.weight,
            mod.out_proj.bias, training=False, key_padding_mask=m.tensor(padding))
        outs.append((out.detach().numpy(), weights.detach().numpy()))
        module_out = mod(t, t, t, key_padding_mask=m.tensor(padding))[0]
        np.testing.assert_allclose(out.detach().numpy(), module_out.detach().numpy(), rtol=1e-6, atol=1e-7)
    for ours, theirs in zip(*outs, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


def test_parameters_and_init():
    """Packed or separate projections by PyTorch's names; zero biases and xavier-uniform weights as PyTorch's."""
    packed = engine.nn.MultiheadAttention(16, 4)
    assert packed.q_proj_weight is None and tuple(packed.in_proj_weight.shape) == (48, 16)
    assert not packed.in_proj_bias.detach().numpy().any() and not packed.out_proj.bias.detach().numpy().any()
    bound = np.sqrt(6 / (48 + 16))
    w = packed.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    separate = engine.nn.MultiheadAttention(16, 4, kdim=3, vdim=5, add_bias_kv=True)
    assert separate.in_proj_weight is None
    assert [tuple(p.shape) for p in (separate.q_proj_weight, separate.k_proj_weight, separate.v_proj_weight)] == [
        (16, 16), (16, 3), (16, 5)]
    assert type(separate.out_proj).__name__ == "NonDynamicallyQuantizableLinear"
    engine.manual_seed(3)
    first = engine.nn.MultiheadAttention(8, 2).in_proj_weight.detach().numpy()
    engine.manual_seed(3)
    assert np.array_equal(engine.nn.MultiheadAttention(8, 2).in_proj_weight.detach().numpy(), first)


ERRORS = [
    ("heads", lambda m: m.nn.MultiheadAttention(8, 3), AssertionError, "embed_dim must be divisible by num_heads"),
    ("zero", lambda m: m.nn.MultiheadAttention(0, 2), ValueError,
     "embed_dim and num_heads must be greater than 0, got embed_dim=0 and num_heads=2 instead"),
    ("4d query", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(1, 5, 3, 8), m.ones(1, 5, 3, 8), m.ones(1, 5, 3, 8)),
     AssertionError, "query should be unbatched 2D or batched 3D tensor but received 4-D query tensor"),
    ("key dims", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 8), m.ones(5, 8), m.ones(5, 8)),
     AssertionError, "For batched (3-D) `query`, expected `key` and `value` to be 3-D but found 2-D and 2-D tensors"),
    ("embed dim", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 6), m.ones(5, 3, 6), m.ones(5, 3, 6)),
     AssertionError, "was expecting embedding dimension of 8, but got 6"),
    ("mask shape", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 8), m.ones(7, 3, 8), m.ones(7, 3, 8),
                                                           attn_mask=m.zeros(5, 5)),
     RuntimeError, "The shape of the 2D attn_mask is torch.Size([5, 5]), but should be (5, 7)."),
    ("padding shape", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 8), m.ones(7, 3, 8), m.ones(7, 3, 8),
                                                              key_padding_mask=m.zeros(3, 6, dtype=m.bool)),
     AssertionError, "Expected key_padded_mask.shape[1] to be 7, but got 6"),
    ("int mask", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 8), m.ones(5, 3, 8), m.ones(5, 3, 8),
                                                         attn_mask=m.zeros(5, 5, dtype=m.int64)),
     AssertionError, "only bool and floating types of attn_mask are supported"),
    ("causal without mask", lambda m: m.nn.MultiheadAttention(8, 2)(m.ones(5, 3, 8), m.ones(5, 3, 8), m.ones(5, 3, 8),
                                                                    is_causal=True),
     RuntimeError, "Need attn_mask if specifying the is_causal hint."),
]


@pytest.mark.parametrize("name, call, exc, match", ERRORS, ids=[e[0] for e in ERRORS])
def test_errors_match_pytorch(name, call, exc, match):
    for m in (torch, engine):
        with pytest.raises(exc) as info:
            call(m)
        assert match in str(info.value), (m.__name__, str(info.value))


def test_mismatched_mask_types_warn():
    for m in (torch, engine):
        mod = m.nn.MultiheadAttention(8, 2)
        x = m.ones(5, 3, 8)
        with pytest.warns(UserWarning, match="Support for mismatched key_padding_mask and attn_mask is deprecated"):
            mod(x, x, x, key_padding_mask=m.zeros(3, 5, dtype=m.bool), attn_mask=m.zeros(5, 5))


def test_attention_dropout():
    """Dropout zeroes about p of the probabilities, rescales the rest, and backward goes through the same mask:
    the output and gradients equal attention with those dropped probabilities written out in ops."""
    F = engine.nn.functional
    q, k, v = (engine.tensor(_x(4, 2, 6, 5), requires_grad=True) for _ in range(3))
    engine.manual_seed(0)
    out = F.scaled_dot_product_attention(q, k, v, dropout_p=0.3)
    engine.manual_seed(0)
    keep = engine.rand(4, 2, 6, 6) >= 0.3
    assert 0.6 < float(keep.float().mean()) < 0.8
    weights = F.softmax(q @ k.transpose(-1, -2) / 5 ** 0.5, dim=-1) * keep / 0.7
    expected = weights @ v
    np.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=1e-5, atol=1e-6)
    g = engine.tensor(_x(4, 2, 6, 5))
    grads = engine.autograd.grad(out, (q, k, v), g)
    for ours, ref in zip(grads, engine.autograd.grad(expected, (q, k, v), g), strict=True):
        np.testing.assert_allclose(ours.numpy(), ref.numpy(), rtol=1e-4, atol=1e-6)
    assert not F.scaled_dot_product_attention(q, k, v, dropout_p=1.0).detach().numpy().any()


def test_module_dropout_in_training_only():
    mod = engine.nn.MultiheadAttention(8, 2, dropout=0.5)
    x = engine.tensor(_x(*SEQ))
    mod.eval()
    a, b = mod(x, x, x)[0], mod(x, x, x)[0]
    np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    mod.train()
    out, weights = mod(x, x, x, average_attn_weights=False)
    dropped = weights.detach().numpy()
    assert 0.3 < (dropped == 0).mean() < 0.7  # the returned weights are after dropout, as PyTorch's
    assert not np.allclose(out.detach().numpy(), a.detach().numpy())


INFERENCE = [
    ("padding", {"key_padding_mask": KPM[:, :5]}),
    ("padding no weights", {"key_padding_mask": KPM[:, :5], "need_weights": False}),
    ("mask per head", {"attn_mask": np.triu(np.ones((5, 5), bool), 1), "average_attn_weights": False}),
]


@pytest.mark.parametrize("name, options", INFERENCE, ids=[c[0] for c in INFERENCE])
def test_inference_matches_pytorch(name, options):
    """Eval without gradients, batch_first and an even head count: PyTorch's native fast path."""
    emod, tmod = same_module(_mha(embed_dim=8, num_heads=2, batch_first=True))
    x = _x(*BATCH)
    outs = []
    for m, mod in ((engine, emod), (torch, tmod)):
        mod.eval()
        with m.no_grad():
            t = m.tensor(x)
            outs.append([o.numpy() for o in mod(t, t, t, **_masks(m, options)) if o is not None])
    for ours, theirs in zip(*outs, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_static_key_and_value():
    """``static_k``/``static_v`` (N * H, S, D) replace the projected key and value."""
    emod, tmod = same_module(_mha(embed_dim=8, num_heads=2))
    x, sk, sv = _x(*SEQ), _x(6, 7, 4), _x(6, 7, 4)
    results = []
    for m, mod in ((engine, emod), (torch, tmod)):
        t, k, v = m.tensor(x, requires_grad=True), m.tensor(sk, requires_grad=True), m.tensor(sv, requires_grad=True)
        out, weights = m.nn.functional.multi_head_attention_forward(
            t, t, t, 8, 2, mod.in_proj_weight, mod.in_proj_bias, None, None, False, 0.0, mod.out_proj.weight,
            mod.out_proj.bias, static_k=k, static_v=v)
        (out.sum() + weights.square().sum()).backward()
        results.append([a.detach().numpy() for a in (out, weights, t.grad, k.grad, v.grad)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_half_precision_accumulates_in_float32(dtype):
    """Half-precision attention as accurate as PyTorch's (which accumulates in float32), gradients in that dtype."""
    x = _x(2, 3, 64, 16)
    errors = []
    for m in (engine, torch):
        t = m.tensor(x).to(getattr(m, dtype)).requires_grad_()
        out = m.nn.functional.scaled_dot_product_attention(t, t, t, is_causal=True)
        out.sum().backward()
        assert out.dtype == t.grad.dtype == getattr(m, dtype)
        causal = m.nn.functional.scaled_dot_product_attention(*(m.tensor(x),) * 3, is_causal=True)
        errors.append(np.abs(out.float().detach().numpy() - causal.numpy()).max())
    assert errors[0] <= 2 * errors[1] + 1e-3, errors


@pytest.mark.parametrize("masks", [(), ("attn",), ("padding",), ("attn", "padding"), ("attn3d", "padding")])
def test_merge_masks(masks):
    x, pad = _x(2, 4, 8), RNG.standard_normal((2, 4)).astype(np.float32)
    attn = RNG.standard_normal((4, 4)).astype(np.float32)
    attn3d = RNG.standard_normal((4, 4, 4)).astype(np.float32)
    results = []
    for m in (engine, torch):
        mod = m.nn.MultiheadAttention(8, 2, batch_first=True)
        a = m.tensor(attn3d) if "attn3d" in masks else m.tensor(attn) if "attn" in masks else None
        merged, kind = mod.merge_masks(a, m.tensor(pad) if "padding" in masks else None, m.tensor(x))
        results.append((None if merged is None else merged.numpy(), kind))
    assert results[0][1] == results[1][1]
    if results[1][0] is None:
        assert results[0][0] is None
    else:
        np.testing.assert_allclose(results[0][0], results[1][0])
