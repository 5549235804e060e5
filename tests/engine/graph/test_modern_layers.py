"""Issue 16's layer types beyond the generic checks (shapes, counts and exports of every type live in
test_inference, test_export_onnx and test_export_code): what LayerNorm2d normalises, how the reshapes and the
squeeze-and-excitation gate compute, how PyTorch's modules agree with the catalogue's constructor calls, and
what the nodes show."""

import numpy as np
import pytest
import torch

import engine
from engine.graph import Network, get_layer_type
from engine.graph.build import make_module
from engine.graph.params import validate_params

from .export_cases import LAYER_CASES, chain, engine_outputs, random_weights, sample_input


def test_layer_norm_2d_normalises_the_channels_at_each_position():
    network = chain((5, 3, 4), [("LayerNorm2d", {"elementwise_affine": False})])
    x = sample_input(network) * 3 + 1
    got = engine_outputs(network, {}, x)
    mean, var = x.mean(1, keepdims=True), x.var(1, keepdims=True)
    np.testing.assert_allclose(got, (x - mean) / np.sqrt(var + 1e-5), rtol=1e-5, atol=1e-5)


def test_layer_norm_2d_matches_torch_layer_norm_over_channels_with_its_weights():
    network = chain((6, 3, 2), [("LayerNorm2d", {"eps": 1e-6})])
    state = random_weights(network)
    x = sample_input(network)
    want = torch.nn.functional.layer_norm(torch.from_numpy(x).permute(0, 2, 3, 1), (6,),
                                          torch.from_numpy(state["ln2d1.weight"].numpy()),
                                          torch.from_numpy(state["ln2d1.bias"].numpy()), 1e-6).permute(0, 3, 1, 2)
    np.testing.assert_allclose(engine_outputs(network, state, x), want.numpy(), rtol=1e-5, atol=1e-5)
    assert list(network.build().state_dict()) == ["ln2d1.weight", "ln2d1.bias"]  # torchvision's LayerNorm2d keys


def test_squeeze_excitation_gates_each_channel_of_the_map():
    network = LAYER_CASES["squeeze_excitation"]()
    model = network.build().eval()
    x = engine.from_numpy(sample_input(network))
    with engine.no_grad():
        body = model.conv1(x)
        gate = model.hardsigmoid1(model.conv3(model.silu1(model.conv2(body.mean((2, 3), keepdim=True)))))
        pooled = (gate * body).mean((2, 3))
        want = (model.fc1(pooled) * pooled).numpy()
        np.testing.assert_array_equal(model(x).numpy(), want)


def test_reshape_and_permute_make_tokens_from_patches():
    network = chain((3, 4, 4), [("Reshape", {"shape": (3, -1)}), ("Permute", {"dims": (1, 0)})])
    x = sample_input(network)
    got = engine_outputs(network, {}, x)
    np.testing.assert_array_equal(got, x.reshape(2, 3, 16).transpose(0, 2, 1))
    assert network.infer().nodes[network.output_node().id].shape == (16, 3)


@pytest.mark.parametrize("type_name, params, shape", [
    ("ConvTranspose2d", {"out_channels": 6, "kernel_size": 3, "stride": 2, "padding": 1, "output_padding": 1,
                         "groups": 3, "dilation": 2, "bias": False}, (3, 5, 4)),
    ("GroupNorm", {"num_groups": 2, "eps": 1e-3, "affine": False}, (4, 3, 3)),
    ("InstanceNorm2d", {"affine": True, "track_running_stats": True, "momentum": 0.2}, (3, 4, 4)),
    ("LayerNorm", {"bias": False}, (3, 5)),
    ("PReLU", {"num_parameters": 3, "init": 0.1}, (3, 4, 4)),
    ("Softplus", {"beta": 2.0, "threshold": 1.0}, (3, 4, 4)),
    ("ELU", {"alpha": 0.5}, (4,)),
    ("Upsample", {"scale_factor": (2, 3), "mode": "bilinear", "align_corners": True}, (2, 3, 3)),
    ("AdaptiveMaxPool2d", {"output_size": (2, 3)}, (2, 5, 7)),
    ("PixelShuffle", {"upscale_factor": 2}, (8, 2, 3)),
    ("Dropout2d", {"p": 0.2}, (3, 2, 2)),
])
def test_constructor_calls_make_the_same_module_in_torch(type_name, params, shape):
    """The same call gives PyTorch's module the engine's repr, state_dict keys and shapes, and (with the same
    weights, in evaluation) outputs."""
    lt = get_layer_type(type_name)
    values = validate_params(lt.params, params)
    call = lt.module(values, (shape,))
    ours, theirs = make_module(call), make_module(call, torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == {
        k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    rng = np.random.default_rng(0)
    weights = {k: rng.uniform(0.5, 1.5, tuple(v.shape)).astype(np.float32) for k, v in ours.state_dict().items()
               if v.dtype == engine.float32}
    ours.load_state_dict({k: engine.from_numpy(v) for k, v in weights.items()}, strict=False)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in weights.items()}, strict=False)
    x = rng.standard_normal((2, *shape)).astype(np.float32)
    ours.eval()
    theirs.eval()
    with engine.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(engine.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(),
                                   rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("type_name, params, in_shape, text", [
    ("ConvTranspose2d", {}, (8, 4, 4), "8→16, k2, s2"),
    ("GroupNorm", {"num_groups": 4}, (8, 4, 4), "4 groups"),
    ("InstanceNorm2d", {}, (8, 4, 4), "per sample"),
    ("LayerNorm2d", {}, (8, 4, 4), "channels"),
    ("PReLU", {"num_parameters": 8}, (8, 4, 4), "8 slopes"),
    ("Upsample", {"mode": "bilinear"}, (8, 4, 4), "×2, bilinear"),
    ("Mean", {}, (8, 4, 4), "H×W → 1×1"),
    ("Multiply", {}, (8, 4, 4), "×"),
    ("Reshape", {"shape": (8, -1)}, (8, 4, 4), "→8×-1"),
    ("Permute", {"dims": (1, 0)}, (16, 8), "(1, 0)"),
    ("Softplus", {}, (8,), "beta=1"),
    ("ELU", {"alpha": 0.5}, (8,), "alpha=0.5"),
])
def test_node_faces_name_the_key_options(type_name, params, in_shape, text):
    lt = get_layer_type(type_name)
    assert lt.describe(validate_params(lt.params, params), (in_shape,)) == text


@pytest.mark.parametrize("keepdim, width, message", [
    (True, 5, None),
    (False, 5, "Multiply: inputs 4 and 4×5×5 differ in rank (a channel gate is C×1×1: a Mean with keepdim)"),
    (True, 2, None),
])
def test_multiply_broadcasts_a_gate_and_refuses_other_shapes(keepdim, width, message):
    net = Network()
    image = net.add_node("Input", {"shape": (4, 5, width), "dataset": "Image folder"})
    gate = net.add_node("Mean", {"keepdim": keepdim})
    product = net.add_node("Multiply")
    for src, dst in ((image, gate), (gate, product), (image, product)):
        net.connect(src.id, dst.id)
    info = net.infer().nodes[product.id]
    assert info.error == message and (message or info.shape == (4, 5, width))


def test_multiply_refuses_sizes_that_do_not_broadcast():
    net = Network()
    image = net.add_node("Input", {"shape": (4, 5, 5), "dataset": "Image folder"})
    conv = net.add_node("Conv2d", {"out_channels": 3, "kernel_size": 1})
    product = net.add_node("Multiply")
    for src, dst in ((image, conv), (conv, product), (image, product)):
        net.connect(src.id, dst.id)
    assert net.infer().nodes[product.id].error == ("Multiply: inputs 3×5×5 and 4×5×5 do not broadcast (each "
                                                   "dimension must agree or be 1)")
