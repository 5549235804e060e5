"""Networks and weights shared by the export tests: small documents that together use every layer type of
the catalogue and the options each exporter must translate, and random weights (random running statistics
too, so that a mix-up of mean and variance shows)."""

import numpy as np
from PIL import Image

import engine
from engine.graph import Network
from engine.training.recipe import eval_transform


def chain(shape, layers, *, title="case"):
    """Input (image folder, any shape) -> layers ``[(type, params), ...]`` -> Output (MSELoss)."""
    net = Network(title)
    tail = net.add_node("Input", {"shape": shape, "dataset": "Image folder"})
    for type_name, params in layers:
        node = net.add_node(type_name, params)
        net.connect(tail.id, node.id)
        tail = node
    net.connect(tail.id, net.add_node("Output", {"loss": "MSELoss"}).id)
    return net


def merges():
    """Add of three inputs, Concat on channels and on width, a value used by several nodes, and names
    that clash with the exporters' own: an Identity called ``input``, a ReLU called ``output``, a Conv2d
    called ``x`` and one called ``torch``."""
    net = Network("merges")
    add = net.add_node
    image = add("Input", {"shape": (2, 6, 5), "dataset": "Image folder"}, name="images")
    a = add("Conv2d", {"out_channels": 3, "kernel_size": 3, "padding": 1}, name="x")
    b = add("Conv2d", {"out_channels": 3, "kernel_size": 1}, name="torch")
    c = add("Identity", name="input")
    total = add("Add")
    relu = add("ReLU", name="output")
    by_channel = add("Concat", {"dim": 0})
    by_width = add("Concat", {"dim": 2})
    widen = add("Conv2d", {"out_channels": 6, "kernel_size": 1})
    for src, dst in ((image, a), (image, b), (a, c), (a, total), (b, total), (c, total), (total, relu),
                     (total, widen), (relu, by_channel), (a, by_channel), (by_channel, by_width), (widen, by_width)):
        net.connect(src.id, dst.id)
    net.connect(by_width.id, add("Output", {"loss": "MSELoss"}, name="result").id)
    return net


def squeeze_excitation():
    """A squeeze-and-excitation block: the spatial Mean of a map, two 1×1 convolutions and a Hardsigmoid gate,
    multiplied back onto the map (C×1×1 times C×H×W), then a Mean without keepdim and a product of vectors."""
    net = Network("squeeze excitation")
    add = net.add_node
    image = add("Input", {"shape": (4, 5, 6), "dataset": "Image folder"})
    body = add("Conv2d", {"out_channels": 8, "kernel_size": 3, "padding": 1})
    squeeze = add("Mean", {"keepdim": True})
    reduce = add("Conv2d", {"out_channels": 2, "kernel_size": 1})
    act = add("SiLU")
    expand = add("Conv2d", {"out_channels": 8, "kernel_size": 1})
    gate = add("Hardsigmoid")
    scaled = add("Multiply")
    pooled = add("Mean", {"keepdim": False})
    features = add("Linear", {"out_features": 8})
    product = add("Multiply")
    for src, dst in ((image, body), (body, squeeze), (squeeze, reduce), (reduce, act), (act, expand),
                     (expand, gate), (gate, scaled), (body, scaled), (scaled, pooled), (pooled, features),
                     (features, product), (pooled, product)):
        net.connect(src.id, dst.id)
    net.connect(product.id, add("Output", {"loss": "MSELoss"}).id)
    return net


def splits():
    """Layers with several outputs: a Split whose pieces are used out of order (a convolution on the second,
    joined before the first), a Chunk as a gate (its first half times the sigmoid of its second), a piece
    that feeds two nodes, and a last Split whose second output is the network's output (its first unused)."""
    net = Network("splits")
    add = net.add_node
    image = add("Input", {"shape": (6, 4, 5), "dataset": "Image folder"})
    split = add("Split", {"sizes": (2, 4), "dim": 0})
    conv = add("Conv2d", {"out_channels": 2, "kernel_size": 1})
    joined = add("Concat", {"dim": 0})
    halves = add("Chunk", {"chunks": 2, "dim": 1})
    gate = add("Sigmoid")
    gated = add("Multiply")
    total = add("Add")
    last = add("Split", {"sizes": (3, 2), "dim": 2})
    for src, dst, output in ((image, split, 0), (split, conv, 1), (conv, joined, 0), (split, joined, 0),
                             (joined, halves, 0), (halves, gate, 1), (halves, gated, 0), (gate, gated, 0),
                             (gated, total, 0), (halves, total, 0), (total, last, 0)):
        net.connect(src.id, dst.id, out_port=output)
    net.connect(last.id, add("Output", {"loss": "MSELoss"}).id, out_port=1)
    return net


LAYER_CASES = {
    "conv": lambda: chain((4, 9, 10), [
        ("Conv2d", {"out_channels": 6, "kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 2),
                    "dilation": (1, 2), "groups": 2}),
        ("Conv2d", {"out_channels": 4, "kernel_size": (4, 3), "padding": "same", "dilation": (1, 2), "bias": False}),
        ("Conv2d", {"out_channels": 3, "kernel_size": 2, "padding": "valid"})]),
    "max_pool": lambda: chain((2, 7, 8), [
        ("MaxPool2d", {"kernel_size": 2, "padding": 1, "ceil_mode": True}),  # ONNX keeps a window PyTorch drops
        ("MaxPool2d", {"kernel_size": 3, "stride": 2, "padding": 1}),
        ("MaxPool2d", {"kernel_size": (2, 1), "stride": (1, 2), "ceil_mode": True})]),
    "avg_pool": lambda: chain((2, 11, 12), [
        ("AvgPool2d", {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}),
        ("AvgPool2d", {"kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 0)}),
        ("AvgPool2d", {"kernel_size": 2, "padding": 1, "ceil_mode": True})]),
    "adaptive_even": lambda: chain((3, 8, 6), [("AdaptiveAvgPool2d", {"output_size": (4, 3)})]),
    "adaptive_uneven": lambda: chain((3, 7, 5), [("AdaptiveAvgPool2d", {"output_size": (3, 2)})]),
    "global_pool": lambda: chain((3, 5, 5), [("AdaptiveAvgPool2d", {"output_size": 1}), ("Flatten", {})]),
    "linear": lambda: chain((2, 3, 4), [
        ("Linear", {"out_features": 5}), ("Linear", {"out_features": 3, "bias": False}), ("Flatten", {}),
        ("Linear", {"out_features": 4}), ("Linear", {"out_features": 2, "bias": False})]),
    "norm2d": lambda: chain((3, 4, 4), [
        ("BatchNorm2d", {}), ("BatchNorm2d", {"affine": False, "eps": 1e-3}), ("Flatten", {}),
        ("BatchNorm1d", {})]),
    "norm1d_sequence": lambda: chain((4, 6), [("BatchNorm1d", {"eps": 1e-4}), ("Linear", {"out_features": 3})]),
    "activations": lambda: chain((3, 4, 5), [
        ("LeakyReLU", {"negative_slope": 0.2}), ("GELU", {}), ("Tanh", {}), ("GELU", {"approximate": "tanh"}),
        ("Sigmoid", {}), ("ReLU", {}), ("Identity", {}), ("Dropout", {"p": 0.5}), ("Softmax", {"dim": 2}),
        ("LogSoftmax", {"dim": -1})]),
    "softmax": lambda: chain((6,), [("Softmax", {"dim": 1})]),
    "modern_activations": lambda: chain((3, 4, 5), [
        ("SiLU", {}), ("Hardswish", {}), ("Mish", {}), ("ReLU6", {}), ("ELU", {"alpha": 0.5}), ("SELU", {}),
        ("PReLU", {"num_parameters": 3, "init": 0.1}), ("Softplus", {"beta": 2.0, "threshold": 1.0}),
        ("Hardsigmoid", {}), ("PReLU", {}), ("Softplus", {}), ("Dropout2d", {"p": 0.3})]),
    "prelu_vector": lambda: chain((5,), [("PReLU", {"num_parameters": 5}), ("ELU", {})]),
    "group_instance_norm": lambda: chain((6, 5, 4), [
        ("GroupNorm", {"num_groups": 3}), ("GroupNorm", {"num_groups": 2, "affine": False, "eps": 1e-3}),
        ("InstanceNorm2d", {}), ("InstanceNorm2d", {"affine": True, "eps": 1e-4}),
        ("InstanceNorm2d", {"track_running_stats": True}), ("GroupNorm", {"num_groups": 6})]),
    "group_norm_sequence": lambda: chain((4, 6), [("GroupNorm", {"num_groups": 2}), ("Flatten", {}),
                                                  ("GroupNorm", {"num_groups": 1})]),
    "layer_norms": lambda: chain((6, 3, 4), [
        ("LayerNorm2d", {}), ("LayerNorm2d", {"eps": 1e-6, "bias": False}),
        ("LayerNorm2d", {"elementwise_affine": False}),
        ("LayerNorm", {}), ("LayerNorm", {"bias": False}), ("LayerNorm", {"elementwise_affine": False, "eps": 1e-3})]),
    "resampling": lambda: chain((8, 3, 4), [
        ("Upsample", {}), ("Upsample", {"scale_factor": (1, 3), "mode": "bilinear"}),
        ("Upsample", {"scale_factor": 2, "mode": "bilinear", "align_corners": True}), ("PixelShuffle", {}),
        ("AdaptiveMaxPool2d", {"output_size": (5, 7)}), ("AdaptiveMaxPool2d", {"output_size": (5, 1)}),
        ("AdaptiveMaxPool2d", {"output_size": 1})]),
    "conv_transpose": lambda: chain((4, 5, 6), [
        ("ConvTranspose2d", {"out_channels": 6, "kernel_size": (3, 2), "stride": (2, 3), "padding": (1, 0),
                             "output_padding": (1, 2), "groups": 2, "dilation": (1, 2)}),
        ("ConvTranspose2d", {"out_channels": 3, "kernel_size": 3, "stride": 1, "bias": False}),
        ("ConvTranspose2d", {"out_channels": 2})]),
    "squeeze_excitation": squeeze_excitation,
    "patch_embedding": lambda: chain((3, 8, 8), [
        ("Conv2d", {"out_channels": 6, "kernel_size": 4, "stride": 4}), ("Reshape", {"shape": (6, -1)}),
        ("Permute", {"dims": (1, 0)}), ("LayerNorm", {}), ("Linear", {"out_features": 5}),
        ("Reshape", {"shape": (2, 2, 5)}), ("Permute", {"dims": (2, 0, 1)})]),
    "vision_transformer": lambda: chain((3, 8, 8), [
        ("Conv2d", {"out_channels": 8, "kernel_size": 4, "stride": 4}), ("Reshape", {"shape": (8, -1)}),
        ("Permute", {"dims": (1, 0)}), ("ClassToken", {}), ("PositionEmbedding", {}), ("LayerNorm", {}),
        ("SelfAttention", {"num_heads": 2}), ("SelfAttention", {"num_heads": 1, "bias": False, "dropout": 0.1}),
        ("TokenPool", {"mode": "first"})]),
    "token_mean": lambda: chain((5, 6), [("SelfAttention", {"num_heads": 3}), ("TokenPool", {})]),
    "merges": merges,
    "splits": splits,
}


def random_weights(network, seed=0):
    """Random weights for every ``state_dict`` entry of the network's module (positive variances)."""
    rng = np.random.default_rng(seed)
    state = {}
    for key, value in network.build().state_dict().items():
        shape = tuple(value.shape)
        if key.endswith("num_batches_tracked"):
            array = np.asarray(rng.integers(0, 100), np.int64)
        elif key.endswith("running_var"):
            array = rng.uniform(0.5, 2.0, shape).astype(np.float32)
        else:  # weights scaled by their fan-in, so deep templates keep activations (and rounding) moderate
            scale = 1 / np.sqrt(np.prod(shape[1:])) if len(shape) > 1 else 1.0
            array = (scale * rng.standard_normal(shape)).astype(np.float32)
        state[key] = engine.from_numpy(array)
    return state


def sample_input(network, batch=2, seed=1):
    shape = network.input_node().params["shape"]
    return np.random.default_rng(seed).standard_normal((batch, *shape)).astype(np.float32)


def engine_outputs(network, state, x):
    """The document's ``GraphModule`` in eval mode on ``x`` (a NumPy batch)."""
    model = network.build()
    model.load_state_dict(state)
    model.eval()
    with engine.no_grad():
        return model(engine.from_numpy(x)).numpy()


def assert_close(got, want):
    """Equal to float32 rounding: random weights make large activations, and sums of large terms lose
    absolute precision, so the absolute tolerance scales with the output's magnitude."""
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5 * max(1.0, float(np.abs(want).max())))


def sample_image(network, seed=2):
    """A PIL image of random pixels with the Input's channels and size."""
    channels, height, width = network.input_node().params["shape"]
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, channels), dtype=np.uint8)
    return Image.fromarray(pixels.squeeze(2) if channels == 1 else pixels)


def prepared_as_in_training(network, image):
    """``image`` as a batch of one, prepared by the training recipe's evaluation transform."""
    return eval_transform(network)(image).numpy()[None]
