"""The templates open as readable stages: every layer of the larger ones is in a collapsed group (ResNet-18 is
stem, layer1..layer4, head), the ViT's encoder is one block repeated, and the architecture is the one the
descriptions' accuracies were measured with (their parameter counts)."""

import importlib.util
import os

import pytest

import engine
from engine.graph import network_to_json
from engine.graph.templates import TEMPLATE_DIR, list_templates, load_template

# key -> (group names in order, total parameters of the network computed)
GROUPED = {
    "resnet18_cifar10": (["stem", "layer1", "layer2", "layer3", "layer4", "head"], 11_173_962),
    "se_resnet_cifar10": (["stem", "layer1", "layer2", "layer3", "head"], 718_682),
    "mobilenet_v2_cifar10": (["stem", "stage1", "stage2", "stage3", "stage4", "head"], 135_434),
    "convnext_cifar10": (["stem", "stage1", "stage2", "stage3", "head"], 908_218),
    "vit_cifar10": (["patch_embedding", "encoder", "head"], 311_338),
    "resnet_cifar10": (["stem", "block1", "block2", "block3", "block4", "head"], 152_026),
    "vgg_cifar10": (["stage1", "stage2", "stage3", "head"], 551_018),
}
FLAT = {"lenet_cifar10", "mlp_fashion_mnist"}  # the tutorials: a handful of layers, shown as they are


def test_every_template_is_either_grouped_or_one_of_the_small_flat_ones():
    assert {t.key for t in list_templates()} == set(GROUPED) | FLAT
    for key in FLAT:
        assert not load_template(key).groups


@pytest.mark.parametrize("key", sorted(GROUPED))
def test_each_larger_template_opens_as_its_stages_with_its_architecture(key):
    names, params = GROUPED[key]
    net = load_template(key)
    assert [g.name for g in net.groups.values()] == names
    assert all(g.collapsed for g in net.groups.values())
    ungrouped = [n.type for n in net.nodes.values() if net.group_of(n.id) is None]
    assert ungrouped == ["Input", "Output"]
    inference = net.infer()
    assert inference.ok and not inference.problems, [p.message for p in inference.problems]
    assert all(info.error is None and not info.member_errors for info in inference.groups.values())
    assert inference.total_params == params
    assert sum(info.params for info in inference.groups.values()) == params
    xs = [g.position[0] for g in net.groups.values()]
    assert xs == sorted(xs) and len(set(xs)) == len(xs)  # laid out as boxes, left to right


def test_resnet18_stages_hold_two_residual_blocks_each():
    net = load_template("resnet18_cifar10")
    for group in net.groups.values():
        adds = [m for m in group.members if net.nodes[m].type == "Add"]
        assert len(adds) == (2 if group.name.startswith("layer") else 0), group.name


def test_the_vit_encoder_is_one_block_repeated():
    net = load_template("vit_cifar10")
    encoder = next(g for g in net.groups.values() if g.name == "encoder")
    assert encoder.repeat == 4
    assert [net.nodes[m].type for m in encoder.members].count("SelfAttention") == 1  # drawn once
    inference = net.infer()
    info = inference.groups[encoder.id]
    assert info.error is None and info.layers == 4 * len(encoder.members)
    assert info.in_shapes == ((65, 96),) and info.outputs == ((65, 96),)
    computed = [n.type for n in inference.flat.nodes.values()]
    assert computed.count("SelfAttention") == 4 and computed.count("Add") == 8
    model = net.build()
    assert {"block_attention", "block_attention_r4"} <= dict(model.named_children()).keys()
    with engine.no_grad():
        out = model.eval()(engine.randn(2, 3, 32, 32))
    assert tuple(out.shape) == (2, 10)


def test_the_generated_templates_are_what_make_templates_writes():
    """A change to a block goes through scripts/make_templates.py; the files it wrote are its current output."""
    path = os.path.join(os.path.dirname(TEMPLATE_DIR.rstrip(os.sep)), os.pardir, "scripts", "make_templates.py")
    spec = importlib.util.spec_from_file_location("make_templates", os.path.normpath(path))
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for key, (make, accuracy) in script.TEMPLATES.items():
        assert network_to_json(make(accuracy)) == network_to_json(load_template(key)), key
