"""The attention layer types beyond the generic checks (shapes, counts and every export are in
test_inference, test_export_onnx and test_export_code): what the token layers compute, their costs, their
errors on the node and their node faces."""

import numpy as np
import pytest

import engine
from engine.graph import get_layer_type
from engine.graph.params import validate_params

from .export_cases import chain, engine_outputs, random_weights, sample_input


def tokens(layers, shape=(5, 6)):
    """Input of N×D tokens (an image folder's shape, which any rank may take) -> ``layers`` -> Output."""
    return chain(shape, layers)


def test_class_token_goes_first_and_position_embedding_adds_its_weight():
    network = tokens([("ClassToken", {}), ("PositionEmbedding", {})])
    state = random_weights(network)
    x = sample_input(network)
    out = engine_outputs(network, state, x)
    cls, pos = state["cls1.weight"].numpy(), state["pos1.weight"].numpy()
    assert out.shape == (2, 6, 6)
    np.testing.assert_allclose(out[:, 0], np.broadcast_to(cls[0] + pos[0], (2, 6)), rtol=1e-6)
    np.testing.assert_allclose(out[:, 1:], x + pos[1:], rtol=1e-6)


@pytest.mark.parametrize("mode", ["mean", "first"])
def test_token_pool_reads_the_mean_or_the_first_token(mode):
    network = tokens([("TokenPool", {"mode": mode})])
    x = sample_input(network)
    want = x.mean(1) if mode == "mean" else x[:, 0]
    np.testing.assert_allclose(engine_outputs(network, {}, x), want, rtol=1e-6)


def test_self_attention_is_pytorchs_multihead_attention_with_the_same_weights():
    torch = pytest.importorskip("torch")
    network = tokens([("SelfAttention", {"num_heads": 3})], (4, 6))
    state = random_weights(network)
    assert list(state) == ["attn1.in_proj_weight", "attn1.in_proj_bias", "attn1.out_proj.weight",
                           "attn1.out_proj.bias"]
    theirs = torch.nn.MultiheadAttention(6, 3, batch_first=True)
    theirs.load_state_dict({k.removeprefix("attn1."): torch.from_numpy(v.numpy()) for k, v in state.items()})
    x = sample_input(network)
    with torch.no_grad():
        want = theirs(*[torch.from_numpy(x)] * 3, need_weights=False)[0].numpy()
    np.testing.assert_allclose(engine_outputs(network, state, x), want, rtol=1e-4, atol=1e-5)


def test_self_attention_counts_its_projections_and_score_products():
    info = tokens([("SelfAttention", {"num_heads": 2, "bias": False})], (10, 8)).infer()
    node = next(n for n in info.nodes.values() if n.shape == (10, 8) and n.params)
    assert node.params == 4 * 8 * 8  # in_proj 3·D×D and out_proj D×D, no biases
    assert node.macs == 4 * 10 * 8 * 8 + 2 * 10 * 10 * 8


@pytest.mark.parametrize("layers, in_shape, message", [
    ([("SelfAttention", {})], (3, 8, 8), "SelfAttention expects N×D tokens but receives 3×8×8: a patch embedding "
     "makes them (Conv2d with stride = kernel size, Reshape to D×-1, Permute to (1, 0))"),
    ([("SelfAttention", {"num_heads": 4})], (5, 6), "SelfAttention: the 6 features must divide into num_heads=4 "
     "heads"),
    ([("Flatten", {}), ("ClassToken", {})], (2, 3, 4), "ClassToken expects N×D tokens but receives 24: a patch "
     "embedding makes them (Conv2d with stride = kernel size, Reshape to D×-1, Permute to (1, 0))"),
    ([("TokenPool", {})], (4,), "TokenPool expects N×D tokens but receives 4: a patch embedding makes them "
     "(Conv2d with stride = kernel size, Reshape to D×-1, Permute to (1, 0))"),
])
def test_token_layers_name_the_shape_they_need(layers, in_shape, message):
    network = chain(in_shape, layers)
    errors = [p.message for p in network.infer().errors]
    assert [e.split(": ", 1)[1] for e in errors] == [message]  # after the node's label


@pytest.mark.parametrize("type_name, params, text", [
    ("SelfAttention", {"num_heads": 8}, "8 heads"),
    ("PositionEmbedding", {}, "learned"),
    ("ClassToken", {}, "+1 token"),
    ("TokenPool", {}, "mean of tokens"),
    ("TokenPool", {"mode": "first"}, "first token"),
])
def test_token_layer_faces_name_their_options(type_name, params, text):
    lt = get_layer_type(type_name)
    assert lt.describe(validate_params(lt.params, params), ((16, 8),)) == text


def test_a_patch_embedded_vision_transformer_trains():
    layers = [("Conv2d", {"out_channels": 8, "kernel_size": 4, "stride": 4}), ("Reshape", {"shape": (8, -1)}),
              ("Permute", {"dims": (1, 0)}), ("ClassToken", {}), ("PositionEmbedding", {}), ("LayerNorm", {}),
              ("SelfAttention", {"num_heads": 2}), ("TokenPool", {"mode": "first"}), ("Linear", {"out_features": 2})]
    network = chain((3, 8, 8), layers)
    model = network.build()
    engine.manual_seed(0)
    x, y = engine.randn(4, 3, 8, 8), engine.randn(4, 2)
    optimizer = engine.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(30):
        optimizer.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.1 * losses[0]
    assert all(p.grad is not None for p in model.parameters())
