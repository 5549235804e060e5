"""An imported network opens as its source's structure: the layers of each top-level module (``layer1`` of a
ResNet) form a collapsed group, those before the first and after the last form ``stem`` and ``head``, and the
layout draws each group as one box, left to right."""

import io
import warnings

import pytest

import engine
from engine import nn
from engine.graph.import_builder import scope_groups
from engine.graph.module_import import import_module
from engine.graph.module_import.source import build, model_class

MODELS = "tests/engine/graph/onnx_import/torch_models.py"
RESNET_GROUPS = ["stem", "layer1", "layer2", "layer3", "layer4", "head"]


def check_resnet18_groups(network):
    assert [g.name for g in network.groups.values()] == RESNET_GROUPS
    assert all(g.collapsed and g.repeat == 1 for g in network.groups.values())
    ungrouped = [n.type for n in network.nodes.values() if network.group_of(n.id) is None]
    assert ungrouped == ["Input", "Output"]
    groups = {g.name: g for g in network.groups.values()}
    for stage in ("layer1", "layer2", "layer3", "layer4"):
        members = [network.nodes[m] for m in groups[stage].members]
        convs = [n.name for n in members if n.type == "Conv2d"]  # a second call of a module is named otherwise
        assert len(convs) >= 4 and all(name.startswith(f"{stage}_") for name in convs), convs
        assert [n.type for n in members].count("Add") == 2  # two residual blocks
    assert {network.nodes[m].type for m in groups["head"].members} >= {"Flatten", "Linear"}
    assert network.nodes[groups["stem"].members[0]].type == "Conv2d"
    xs = [g.position[0] for g in network.groups.values()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # laid out as boxes, left to right
    inference = network.infer()
    assert inference.ok and all(info.error is None for info in inference.groups.values())


def test_resnet18_traced_from_its_pytorch_source_opens_as_stem_stages_and_head():
    engine.manual_seed(0)
    model = build(model_class(MODELS, "ResNet18"), {}, "ResNet18")
    imported, difference = import_module(model, (3, 32, 32), "ResNet18")
    assert difference < 1e-5
    check_resnet18_groups(imported.network)


def test_resnet18_exported_by_pytorch_to_onnx_opens_as_stem_stages_and_head():
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    torch_models = pytest.importorskip("tests.engine.graph.onnx_import.torch_models")
    from engine.graph.onnx_import import import_onnx_model, parse_model

    torch.manual_seed(0)
    model = torch_models.ResNet18().eval()
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its deprecation
        torch.onnx.export(model, (torch.randn(1, 3, 32, 32),), buffer, dynamo=False, opset_version=17,
                          input_names=["x"], output_names=["y"])
    imported = import_onnx_model(parse_model(buffer.getvalue(), "resnet18.onnx"), "resnet18.onnx")
    check_resnet18_groups(imported.network)


def test_a_group_takes_another_name_where_its_module_name_is_taken_or_not_a_name():
    """The ViT's classifier is a module named ``head``, so the layers after its blocks are ``head_group``; a
    Sequential's modules are named ``0``, ``1``..., which cannot name a group."""
    engine.manual_seed(0)
    vit, _ = import_module(build(model_class(MODELS, "ViT"), {}, "ViT"), (3, 32, 32), "ViT")
    assert [g.name for g in vit.network.groups.values()] == ["stem", "blocks", "head_group"]
    sequential = nn.Sequential(nn.Sequential(nn.Linear(4, 8), nn.ReLU()), nn.Sequential(nn.Linear(8, 8), nn.ReLU()),
                               nn.Linear(8, 3))
    imported, _ = import_module(sequential, (4,), "Sequential")
    network = imported.network
    assert {g.name: [network.nodes[m].type for m in g.members] for g in network.groups.values()} == {
        "group_0": ["Linear", "ReLU"], "group_1": ["Linear", "ReLU"]}


@pytest.mark.parametrize("scopes, expected", [
    # one-layer modules before and after the stages: stem and head
    ("a b s s t t c d", [("stem", "ab"), ("s", "ss"), ("t", "tt"), ("head", "cd")]),
    # a single layer before the first group, or after the last, stays a layer
    ("a s s t t c", [("s", "ss"), ("t", "tt")]),
    # the model's own code (no scope) between modules counts as ungrouped layers
    ("- - s s - t t - -", [("stem", "--"), ("s", "ss"), ("t", "tt"), ("head", "--")]),
    # a module called again later is a second run of its own
    ("s s t s s", [("s", "ss"), ("s", "ss")]),
    # no module of two layers: no groups, and no stem or head without one
    ("a b c d", []),
    # one group holding every layer tells nothing
    ("s s s s", []),
    # paths below the top-level module group by it
    ("a.x b s.0 s.1 t.0.c t.0.d", [("stem", "a.xb"), ("s", "s.0s.1"), ("t", "t.0.ct.0.d")]),
])
def test_runs_of_a_top_level_module_become_groups(scopes, expected):
    scopes = scopes.split()
    layers = [f"n{k}" for k in range(len(scopes))]
    by_node = {node: None if scope == "-" else tuple(scope.split(".")) for node, scope in zip(layers, scopes)}
    groups = scope_groups(layers, by_node)
    assert [(name, "".join(scopes[layers.index(m)] for m in members)) for name, members in groups] == expected
    grouped = [m for _, members in groups for m in members]
    assert len(grouped) == len(set(grouped))  # a layer is in one group at most


def test_a_large_module_is_split_by_the_modules_inside_it():
    scopes = [("stem",)] * 2 + [("features", "0", "0")] * 3 + [("features", "1", "conv", k) for k in "abcdefghij"] * 2 \
        + [("features", "2")] * 22 + [("features", "18")] + [None] * 2 + [("encoder", "layers", f"encoder_layer_{k}")
                                                                         for k in (0, 0, 1, 1)] * 11
    layers = [f"n{k}" for k in range(len(scopes))]
    groups = scope_groups(layers, dict(zip(layers, scopes)))
    names = [(name, len(members)) for name, members in groups]
    assert names[:4] == [("stem", 2), ("features_0", 3), ("features_1", 20), ("features_2", 22)]  # features.18: 1 layer
    assert {name for name, _ in names[4:]} == {"encoder_layer_0", "encoder_layer_1"} and len(names) == 4 + 22
    nested = [("encoder", "layers", f"block{k // 5}") for k in range(45)] + [("encoder", "ln")] * 2
    layers = [f"n{k}" for k in range(len(nested))]
    groups = scope_groups(["m0", *layers], {"m0": None, **dict(zip(layers, nested))})
    assert [(name, len(members)) for name, members in groups] == [
        *((f"encoder_layers_block{k}", 5) for k in range(9)), ("encoder_ln", 2)]  # named after their parents


def test_a_large_module_of_one_layer_modules_stays_one_group_and_one_container_still_splits():
    plain = [("features", str(k)) for k in range(42)] + [("classifier", "0"), ("classifier", "1")]
    layers = [f"n{k}" for k in range(len(plain))]
    assert [(name, len(m)) for name, m in scope_groups(layers, dict(zip(layers, plain)))] == [
        ("features", 42), ("classifier", 2)]  # (ONNX paths end with the layer's own module)
    body = [("body", str(k // 5)) for k in range(60)]
    layers = [f"n{k}" for k in range(len(body))]
    assert [(name, len(m)) for name, m in scope_groups(layers, dict(zip(layers, body)))] == [
        (f"body_{k}", 5) for k in range(12)]
