"""Shape inference against the modules actually running: every layer rule over a grid of options (and
PyTorch's modules, where installed), every template and random valid networks; and how problems are
reported: on the right node, without stopping the inference of the rest."""

import itertools

import numpy as np
import pytest

import engine
from engine import nn
from engine.graph import Network, ShapeError, get_layer_type
from engine.graph.build import make_module
from engine.graph.params import validate_params

from .export_cases import LAYER_CASES

BATCH = 2


def infer_layer(type_name, params, in_shape):
    """``(params in normal form, inferred shape or the ShapeError)`` for one layer on one input shape."""
    lt = get_layer_type(type_name)
    values = validate_params(lt.params, params)
    try:
        return values, tuple(lt.infer(values, (in_shape,), {}))
    except ShapeError as e:
        return values, e


def run_layer(namespace, type_name, values, in_shape):
    """The output shape (without the batch) of the layer's module from ``namespace`` (``engine.nn`` or
    ``torch.nn``) on a random batch, or the exception it raises on construction or call; layers without a
    module run their ``combine`` (tensor methods, the same for both)."""
    lt = get_layer_type(type_name)
    x = np.random.default_rng(0).standard_normal((BATCH, *in_shape)).astype(np.float32)
    try:
        tensor = engine.tensor(x) if namespace is nn else __import__("torch").tensor(x)
        if lt.module is None:
            return tuple(lt.combine([tensor], values).shape[1:])
        module = make_module(lt.module(values, (in_shape,)), namespace)
        return tuple((lt.apply(module, tensor) if lt.apply else module(tensor)).shape[1:])
    except Exception as e:  # any refusal counts: ValueError, RuntimeError, IndexError...
        return e


def refused(actual):
    """A module refuses by raising, or (PyTorch's transposed convolution) by returning an empty output, which
    the rules refuse on the node."""
    return isinstance(actual, Exception) or 0 in actual


def grid():
    cases = []
    for k, s, p, d, g in itertools.product([1, 2, 3, 5], [1, 2, 3], [0, 1, 2, "same", "valid", (0, 2)], [1, 2],
                                           [1, 2]):
        for shape in ((4, 3, 3), (4, 5, 7), (2, 8, 8)):
            cases.append(("Conv2d", {"out_channels": 4, "kernel_size": k, "stride": s, "padding": p, "dilation": d,
                                     "groups": g}, shape))
    cases.append(("Conv2d", {"out_channels": 3, "groups": 2}, (4, 8, 8)))  # groups must divide out_channels
    cases.append(("Conv2d", {"out_channels": 4, "kernel_size": (3, 1), "stride": (2, 1)}, (3, 9, 4)))
    for name, k, s, p, ceil in itertools.product(["MaxPool2d", "AvgPool2d"], [1, 2, 3, (3, 2)], [None, 1, 2, 3],
                                                 [0, 1, 2], [False, True]):
        for shape in ((2, 1, 1), (2, 3, 3), (2, 5, 7), (2, 8, 8)):
            cases.append((name, {"kernel_size": k, "stride": s, "padding": p, "ceil_mode": ceil}, shape))
    for shape in ((4,), (4, 5), (4, 5, 6), (4, 5, 6, 7)):
        cases += [("BatchNorm1d", {}, shape), ("BatchNorm2d", {}, shape), ("Flatten", {}, shape),
                  ("Linear", {"out_features": 3}, shape), ("Identity", {}, shape), ("Dropout", {"p": 0.2}, shape)]
        batch_dims = (0, -len(shape) - 1)  # refused on purpose (see test_softmax_refuses_the_batch_dimension)
        cases += [(n, {"dim": d}, shape) for n in ("Softmax", "LogSoftmax") for d in range(-6, 6)
                  if d not in batch_dims]
        cases += [(n, {}, shape) for n in ("ReLU", "GELU", "Sigmoid", "Tanh", "LeakyReLU")]
        cases += [(n, {}, shape) for n in ("SiLU", "Hardswish", "Hardsigmoid", "ReLU6", "Mish", "ELU", "SELU",
                                           "Softplus", "PReLU", "LayerNorm")]
        cases += [("PReLU", {"num_parameters": n}, shape) for n in (2, 4, 5)]
        cases += [("GroupNorm", {"num_groups": g}, shape) for g in (1, 2, 3, 4)]
        cases += [("Reshape", {"shape": s}, shape) for s in ((-1,), (2, -1), (-1, 5), (5, 4, -1), (7, -1), (3, 4))]
        cases += [("Permute", {"dims": d}, shape) for d in ((0,), (1, 0), (0, 2, 1), (2, 0, 1), (1, 1))]
        if len(shape) > 1:  # a batch of vectors is one unbatched sequence to PyTorch's attention
            cases += [("SelfAttention", {"num_heads": h}, shape) for h in (1, 2, 5)]
            cases.append(("PositionEmbedding", {}, shape))
        if len(shape) == 2:
            cases += [("TokenPool", {"mode": m}, shape) for m in ("mean", "first")] + [("ClassToken", {}, shape)]
        if len(shape) == 3:  # PyTorch takes other ranks too (unbatched, or extra leading dimensions)
            cases += [(n, {"output_size": o}, shape) for n in ("AdaptiveAvgPool2d", "AdaptiveMaxPool2d")
                      for o in (1, (2, 3), 9)]
            cases += [(n, {}, shape) for n in ("InstanceNorm2d", "LayerNorm2d", "Dropout2d")]
            cases += [("Mean", {"keepdim": k}, shape) for k in (False, True)]
            cases += [("PixelShuffle", {"upscale_factor": r}, shape) for r in (1, 2, 3)]
            cases += [("Upsample", {"scale_factor": f, "mode": m}, shape) for f in (1, 2, (3, 1))
                      for m in ("nearest", "bilinear")]
    for k, s, p, op, d, g in itertools.product([1, 2, 3], [1, 2, 3], [0, 1, 2], [0, 1, 2], [1, 2], [1, 2]):
        cases.append(("ConvTranspose2d", {"out_channels": 4, "kernel_size": k, "stride": s, "padding": p,
                                          "output_padding": op, "dilation": d, "groups": g}, (4, 3, 2)))
    cases.append(("ConvTranspose2d", {"out_channels": 3, "groups": 2}, (4, 3, 3)))
    return cases


GRID = grid()


def test_every_layer_rule_matches_the_engine_module():
    checked = refusals = 0
    for type_name, params, in_shape in GRID:
        values, inferred = infer_layer(type_name, params, in_shape)
        actual = run_layer(nn, type_name, values, in_shape)
        where = f"{type_name} {params} on {in_shape}: inferred {inferred!r}, engine {actual!r}"
        if isinstance(inferred, ShapeError):
            assert refused(actual), where
            assert str(inferred), where
            refusals += 1
        else:
            assert inferred == actual, where
            checked += 1
    assert checked > 1000 and refusals > 300  # the grid exercises both sides


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
def test_every_layer_rule_matches_pytorch():
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add contention
    try:
        for type_name, params, in_shape in GRID:
            if type_name == "ClassToken":  # its apply concatenates with engine.cat
                continue
            values, inferred = infer_layer(type_name, params, in_shape)
            actual = run_layer(torch.nn, type_name, values, in_shape)
            where = f"{type_name} {params} on {in_shape}: inferred {inferred!r}, torch {actual!r}"
            if isinstance(inferred, ShapeError):
                assert refused(actual), where
            else:
                assert inferred == actual, where
    finally:
        torch.set_num_threads(threads)


def shapes_while_running(net, model):
    """Run a batch through ``model`` recording each module node's input and output and each Conv2d's and
    Linear's MACs counted from the tensors; returns ``(output, {name: (in shape, out shape, macs)})``."""
    seen = {}

    def hook(name):
        def record(module, args, output):
            x = args[0]
            macs = None
            if isinstance(module, nn.Conv2d):
                macs = module.weight.numel() * output.shape[2] * output.shape[3]
            elif isinstance(module, nn.ConvTranspose2d):  # each input value meets the whole kernel
                macs = module.weight.numel() * x.shape[2] * x.shape[3]
            elif isinstance(module, nn.Linear):
                macs = module.weight.numel() * (x.numel() // x.shape[0] // module.in_features)
            if not isinstance(output, tuple):  # MultiheadAttention answers (output, weights): checked by apply
                seen[name] = (tuple(x.shape[1:]), tuple(output.shape[1:]), macs)
        return record

    for name, module in model.named_children():
        module.register_forward_hook(hook(name))
    x = engine.randn(BATCH, *net.input_node().params["shape"])
    model.eval()
    with engine.no_grad():
        return model(x), seen


def check_against_running_module(document):
    """``document``'s inference against its built module, layer by layer: the layers of the network it computes
    (``Inference.flat``, with the copies of repeated groups)."""
    inference = document.infer()
    assert inference.ok, [p.message for p in inference.errors]
    model = document.build()
    net = inference.flat
    output, seen = shapes_while_running(net, model)
    out_node = net.output_node()
    assert tuple(output.shape) == (BATCH, *inference.nodes[out_node.id].shape)
    verified = {net.input_node().id, out_node.id}
    modules = dict(model.named_children())
    sources = net.sources()
    for node_id in inference.used:
        node, info = net.nodes[node_id], inference.nodes[node_id]
        if node.name in modules:
            module = modules[node.name]
            if node.layer_type.apply is None:
                in_shape, out_shape, macs = seen[node.name]
                assert (in_shape, out_shape) == (info.in_shapes[0], info.shape), node.name
                if macs is not None:
                    assert info.macs == macs, node.name
            else:  # the module is called otherwise (LayerNorm2d channels last) or only its weight is read
                with engine.no_grad():
                    out = node.layer_type.apply(module, engine.randn(BATCH, *info.in_shapes[0]))
                assert tuple(out.shape) == (BATCH, *info.shape), node.name
            assert info.params == sum(p.numel() for p in module.parameters()), node.name
            verified |= {node_id, *sources[node_id]}  # the input seen is the producer's output
        else:
            assert node.layer_type.combine is not None or node.type in ("Input", "Output")
            assert info.params == 0
            if node.layer_type.combine is not None:  # merges and reshapes on batches of the inferred shapes
                xs = [engine.randn(BATCH, *shape) for shape in info.in_shapes]
                out = node.layer_type.combine(xs, node.params)
                outs = out if node.layer_type.multi_output else (out,)
                assert [tuple(o.shape) for o in outs] == [(BATCH, *shape) for shape in info.outputs], node.name
                verified.add(node_id)
    assert verified == set(inference.used)
    assert set(modules) == {net.nodes[i].name for i in inference.used if net.nodes[i].layer_type.module}
    assert inference.total_params == sum(p.numel() for p in model.parameters())
    unused = set(net.nodes) - inference.used
    assert {p.node_id for p in inference.problems if p.severity == "warning"} == unused
    return inference


@pytest.mark.parametrize("seed", range(30))
def test_random_networks_match_the_running_module(seed, random_network):
    check_against_running_module(random_network(seed))


def test_templates_match_the_running_module(template):
    check_against_running_module(template)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_export_cases_match_the_running_module(case):
    check_against_running_module(LAYER_CASES[case]())


@pytest.mark.parametrize("shape", [(10,), (4, 10), (3, 8, 8)])
def test_softmax_refuses_the_batch_dimension(shape):
    """PyTorch would normalise across the batch: never what a classifier wants, so it is an error here."""
    for dim in (0, -len(shape) - 1):
        _, inferred = infer_layer("Softmax", {"dim": dim}, shape)
        assert isinstance(inferred, ShapeError) and "non-batch dimension" in str(inferred)


def test_template_figures():
    from engine.graph.templates import load_template

    lenet = load_template("lenet_cifar10").infer()
    assert lenet.total_params == 62006
    # conv1 6×28×28 outputs × 75, conv2 16×10×10 × 150, fc 400×120 + 120×84 + 84×10 = 651,720, plus pools
    net = load_template("lenet_cifar10")
    macs = {net.nodes[i].name: info.macs for i, info in lenet.nodes.items()}
    assert (macs["conv1"], macs["conv2"], macs["fc1"], macs["fc2"], macs["fc3"]) == (352800, 240000, 48000,
                                                                                     10080, 840)
    assert macs["pool1"] == 6 * 14 * 14 * 4 and macs["relu1"] == 0
    assert load_template("resnet_cifar10").infer().total_params == 152_026


def network(*layers, dataset="CIFAR-10", shape=(3, 32, 32)):
    """A chain Input → layers... → Output from ``(type, params)`` pairs; returns it and the ids in order."""
    net = Network()
    ids = [net.add_node("Input", {"shape": shape, "dataset": dataset}).id]
    for type_name, params in (*layers, ("Output", {})):
        ids.append(net.add_node(type_name, params).id)
        net.connect(ids[-2], ids[-1])
    return net, ids


def test_an_error_stays_on_its_node_blocks_downstream_and_spares_other_branches():
    net = Network()
    inp = net.add_node("Input").id
    wide = net.add_node("Conv2d", {"out_channels": 32, "kernel_size": 3, "padding": 1, "stride": 4}, name="wide")
    narrow = net.add_node("Conv2d", {"out_channels": 16, "kernel_size": 3, "padding": 1, "stride": 4})
    add = net.add_node("Add")
    after = net.add_node("ReLU")
    other = net.add_node("Tanh")
    out = net.add_node("Output")
    for a, b in ((inp, wide.id), (inp, narrow.id), (narrow.id, add.id), (wide.id, add.id), (add.id, after.id),
                 (after.id, out.id), (inp, other.id)):
        net.connect(a, b)
    inference = net.infer()
    assert inference.nodes[add.id].error == "Add: inputs 16×8×8 and 32×8×8 differ"
    assert inference.nodes[add.id].shape is None and not inference.nodes[add.id].blocked
    for blocked in (after.id, out.id):
        info = inference.nodes[blocked]
        assert info.blocked and info.error is None and info.shape is None
    assert inference.nodes[other.id].shape == (3, 32, 32) and inference.nodes[other.id].warning
    assert inference.nodes[wide.id].shape == (32, 8, 8)
    errors = [(p.node_id, p.message) for p in inference.errors]
    assert errors == [(add.id, "Add 'add1': Add: inputs 16×8×8 and 32×8×8 differ")]
    assert not inference.ok


def test_linear_after_an_image_tells_to_add_a_flatten():
    net, ids = network(("Conv2d", {"out_channels": 16, "kernel_size": 5}), ("MaxPool2d", {"kernel_size": 5}),
                       ("Linear", {"in_features": 400, "out_features": 10}))
    info = net.infer().nodes[ids[3]]
    assert net.infer().nodes[ids[2]].shape == (16, 5, 5)
    assert info.error == "Linear expects 400 input features but receives 16×5×5 = 400: add a Flatten before it"
    assert net.infer().nodes[ids[4]].blocked


@pytest.mark.parametrize("layers, bad, message", [
    ([("Conv2d", {"in_channels": 1})], 1, "Conv2d expects 1 input channels but receives 3 (input 3×32×32)"),
    ([("Conv2d", {"groups": 2})], 1, "Conv2d: groups=2 must divide both the input channels (3)"),
    ([("Conv2d", {"padding": "same", "stride": 2})], 1, "Conv2d: padding='same' needs stride 1"),
    ([("Conv2d", {"kernel_size": 40})], 1, "Conv2d: kernel 40×40 (dilation 1×1) is larger than the padded input"),
    ([("MaxPool2d", {"kernel_size": 2, "padding": 2})], 1, "MaxPool2d: padding 2×2 must be at most half the kernel"),
    ([("AvgPool2d", {"kernel_size": 64})], 1, "AvgPool2d: kernel 64×64 is larger than the input 32×32"),
    ([("Flatten", {}), ("Conv2d", {})], 2, "Conv2d expects a C×H×W input but receives 3072; remove the Flatten"),
    ([("Flatten", {}), ("BatchNorm2d", {})], 2, "BatchNorm2d expects a C×H×W input but receives 3072"),
    ([("Flatten", {}), ("AdaptiveAvgPool2d", {})], 2, "AdaptiveAvgPool2d expects a C×H×W input but receives 3072"),
    ([("BatchNorm1d", {})], 1, "BatchNorm1d expects a C or C×L input but receives 3×32×32"),
    ([("BatchNorm2d", {"num_features": 8})], 1, "BatchNorm2d expects 8 features but receives 3"),
    ([("Flatten", {}), ("Linear", {"in_features": 100})], 2, "Linear expects 100 input features but receives 3072"),
    ([("Linear", {"in_features": 4})], 1, "Linear expects 4 input features but receives 3×32×32 (last dimension"),
    ([("Softmax", {"dim": 0})], 1, "Softmax: dim 0 must name a non-batch dimension of a 4-dimensional batch"),
    ([("LogSoftmax", {"dim": 4})], 1, "LogSoftmax: dim 4 must name a non-batch dimension"),
    ([("GroupNorm", {"num_groups": 2})], 1, "GroupNorm: num_groups=2 must divide the channels (3)"),
    ([("GroupNorm", {"num_channels": 4})], 1, "GroupNorm expects 4 channels but receives 3"),
    ([("Flatten", {}), ("InstanceNorm2d", {})], 2, "InstanceNorm2d expects a C×H×W input but receives 3072"),
    ([("Flatten", {}), ("LayerNorm2d", {})], 2, "LayerNorm2d expects a C×H×W input but receives 3072"),
    ([("LayerNorm", {"normalized_shape": 3})], 1, "LayerNorm expects 3 features but receives 32"),
    ([("PReLU", {"num_parameters": 4})], 1, "PReLU: num_parameters=4 must be 1 or the input channels (3)"),
    ([("Flatten", {}), ("Dropout2d", {})], 2, "Dropout2d expects a C×H×W input but receives 3072"),
    ([("PixelShuffle", {"upscale_factor": 2})], 1, "PixelShuffle: the channels (3) must be divisible by "
                                                   "upscale_factor² (4)"),
    ([("Flatten", {}), ("Upsample", {})], 2, "Upsample expects a C×H×W input but receives 3072"),
    ([("Mean", {"keepdim": False}), ("Mean", {})], 2, "Mean expects a C×H×W input but receives 3"),
    ([("ConvTranspose2d", {"output_padding": 2})], 1, "ConvTranspose2d: output_padding 2×2 must be smaller than "
                                                      "the stride 2×2 or the dilation 1×1"),
    ([("ConvTranspose2d", {"in_channels": 4})], 1, "ConvTranspose2d expects 4 input channels but receives 3"),
    ([("ConvTranspose2d", {"kernel_size": 1, "stride": 1, "padding": 16})], 1,
     "ConvTranspose2d: padding 16×16 leaves no output from the input 32×32"),
    ([("Reshape", {"shape": (5, -1)})], 1, "Reshape: 3×32×32 (3072 values) does not fit the shape 5×-1"),
    ([("Reshape", {"shape": (-1, -1)})], 1, "Reshape: the shape -1×-1 may hold positive sizes and at most one -1"),
    ([("Permute", {"dims": (1, 0)})], 1, "Permute: dims 1, 0 must order the 3 dimensions of 3×32×32, each once"),
    ([("Flatten", {}), ("Linear", {"out_features": 7})], 3, "CrossEntropyLoss expects 10 class scores for CIFAR-10"),
    ([("Flatten", {})], 2, None),  # 3072 class scores: refused by the Output, not by the Flatten
    ([], 1, "CrossEntropyLoss expects one score per class (a vector) but receives 3×32×32"),
    ([("Linear", {"out_features": 10})], 2, "CrossEntropyLoss expects one score per class (a vector) but receives "
                                            "3×32×10: add a Flatten before the Linear layers"),
])
def test_layer_errors_name_the_problem(layers, bad, message):
    net, ids = network(*layers)
    inference = net.infer()
    for k, node_id in enumerate(ids):
        info = inference.nodes[node_id]
        if k < bad:
            assert info.shape is not None and info.error is None
        elif k == bad and message is not None:
            assert message in info.error, info.error
            assert [p.node_id for p in inference.errors] == [node_id]
        elif k > bad:
            assert info.blocked or info.error


def test_dataset_and_input_shape_must_agree():
    net, ids = network(dataset="MNIST", shape=(3, 32, 32))
    assert net.infer().nodes[ids[0]].error == "MNIST images are 1×28×28, but the input is 3×32×32"
    net, ids = network(("Flatten", {}), ("Linear", {"out_features": 5}), dataset="Image folder", shape=(1, 9, 7))
    assert net.infer().ok and net.infer().nodes[ids[2]].shape == (5,)  # any size, any number of classes


def test_batchnorm1d_on_channels_by_length_and_concat_dims():
    net, ids = network(("BatchNorm1d", {}), ("Linear", {"out_features": 6}), ("Softmax", {"dim": -1}),
                       ("Flatten", {}), dataset="Image folder", shape=(4, 10))
    inference = check_against_running_module(net)
    assert inference.nodes[ids[1]].shape == (4, 10) and inference.nodes[ids[1]].params == 8
    assert inference.nodes[ids[2]].shape == (4, 6) and inference.nodes[ids[2]].macs == 4 * 10 * 6
    assert inference.nodes[ids[4]].shape == (24,)

    net = Network()
    inp = net.add_node("Input").id
    a = net.add_node("Conv2d", {"out_channels": 5, "kernel_size": 1}).id
    b = net.add_node("MaxPool2d").id
    cat = net.add_node("Concat", {"dim": 0}).id
    net.connect(inp, a)
    net.connect(inp, b)
    net.connect(b, cat, 1)
    net.connect(a, cat, 0)
    assert net.infer().nodes[cat].error == "Concat: inputs 5×32×32 and 3×16×16 differ outside dim 0"
    net.set_params(cat, {"dim": 3})
    assert net.infer().nodes[cat].error == "Concat: dim 3 is not a dimension of 5×32×32 (0 is the channels)"
    net.set_params(b, {"kernel_size": 1})
    net.set_params(cat, {"dim": 0})
    assert net.infer().nodes[cat].shape == (8, 32, 32)


def test_merges_take_their_inputs_in_port_order():
    """A Concat's output is its inputs in port order, whatever order the connections were made in."""
    net = Network()
    inp = net.add_node("Input", {"shape": (2, 3, 3), "dataset": "Image folder"}).id
    neg = net.add_node("LeakyReLU", {"negative_slope": 1.0}).id  # the identity, as a module
    pos = net.add_node("ReLU").id
    cat = net.add_node("Concat").id
    out = net.add_node("Output", {"loss": "MSELoss"}).id
    flat = net.add_node("Flatten").id
    for a, b in ((inp, neg), (inp, pos), (cat, flat), (flat, out)):
        net.connect(a, b)
    net.connect(pos, cat, 1)
    net.connect(neg, cat, 0)
    x = engine.randn(1, 2, 3, 3)
    y = net.build()(x).reshape(1, 4, 3, 3)
    np.testing.assert_array_equal(y[:, :2].numpy(), x.numpy())
    np.testing.assert_array_equal(y[:, 2:].numpy(), np.maximum(x.numpy(), 0))


@pytest.mark.parametrize("edit, message", [
    (lambda net: net.remove_node(net.input_node().id), "the network has no Input node"),
    (lambda net: net.remove_node(net.output_node().id), "the network has no Output node"),
    (lambda net: net.add_node("Input"), "Input 'input1': a network has one Input; remove this one"),
    (lambda net: net.add_node("Output"), "Output 'output1': a network has one Output; remove this one"),
    (lambda net: net.disconnect(net.input_edges(net.node_by_name("conv1").id)[0]),
     "Output 'output' is not connected to the Input"),
    (lambda net: net.disconnect(net.input_edges(net.node_by_name("conv1").id)[0]), "Conv2d 'conv1' needs an input"),
])
def test_graph_problems(edit, message):
    from engine.graph.templates import load_template

    net = load_template("lenet_cifar10")
    edit(net)
    assert message in [p.message for p in net.infer().errors]


def test_merge_with_one_input_needs_more():
    net = Network()
    inp = net.add_node("Input").id
    add = net.add_node("Add").id
    net.connect(inp, add)
    info = net.infer().nodes[add]
    assert info.error == "needs at least 2 inputs (has 1)"
    assert "Add 'add1' needs at least 2 inputs (has 1)" in [p.message for p in net.infer().errors]


def test_describe_shows_auto_parameters_from_the_input_shapes():
    from engine.graph import get_layer_type

    conv, linear = get_layer_type("Conv2d"), get_layer_type("Linear")
    params = {**conv.default_params(), "out_channels": 32, "padding": (1, 1)}
    assert conv.describe(params) == "?→32, k3, p1"
    assert conv.describe(params, ((16, 8, 8),)) == "16→32, k3, p1"
    assert conv.describe({**params, "in_channels": 4}, ((16, 8, 8),)) == "4→32, k3, p1"  # declared wins
    assert linear.describe(linear.default_params(), ((5, 400),)) == "400→10"
