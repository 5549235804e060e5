"""Frozen layers (transfer learning): the document marks them, the file keeps the mark (and only then writes
it), the built module's parameters take no gradients, an optimizer leaves them as they are while the rest
learns, and the exported code freezes the same layers in PyTorch."""

import json

import numpy as np
import pytest
import torch

import engine
from engine.graph import NetworkError, NetworkFileError, copy_fragment, load_network, network_from_json, paste_fragment
from engine.graph.export.model_code import model_class_source
from engine.graph.fileformat import network_to_json
from engine.graph.templates import load_template
from engine.training.recipe import prepare_training, trainable_problem


@pytest.fixture
def lenet():
    return load_template("lenet_cifar10")


def ids(network, *names):
    return [network.node_by_name(n).id for n in names]


def test_freezing_is_a_document_edit_with_its_old_values_returned(lenet):
    events = []
    lenet.subscribe(lambda event, payload: events.append(event))
    old = lenet.set_frozen(ids(lenet, "conv1", "conv2"), True)
    assert old == dict.fromkeys(ids(lenet, "conv1", "conv2"), False)
    assert lenet.node_by_name("conv1").frozen and not lenet.node_by_name("fc1").frozen
    assert events.count("node_changed") == 2 and events.count("changed") == 1
    assert lenet.infer().frozen_params == 456 + 2416


def test_the_file_keeps_the_mark_and_writes_it_only_when_set(lenet, tmp_path):
    plain = json.dumps(network_to_json(lenet))
    assert "frozen" not in plain
    lenet.set_frozen(ids(lenet, "conv1"), True)
    data = network_to_json(lenet)
    assert [n["name"] for n in data["nodes"] if n.get("frozen")] == ["conv1"]
    again = network_from_json(json.loads(json.dumps(data)))
    assert [n.name for n in again.nodes.values() if n.frozen] == ["conv1"]
    data["nodes"][1]["frozen"] = "yes"
    path = tmp_path / "bad.llnet"
    path.write_text(json.dumps(data))
    with pytest.raises(NetworkFileError, match="'frozen' must be true or false, got 'yes'"):
        load_network(path)


def test_copy_and_paste_keep_the_mark(lenet):
    lenet.set_frozen(ids(lenet, "conv1"), True)
    pasted = paste_fragment(lenet, copy_fragment(lenet, ids(lenet, "conv1")))
    assert pasted[0].frozen


def test_an_optimizer_leaves_frozen_layers_as_they_are_and_trains_the_rest(lenet):
    lenet.set_frozen(ids(lenet, "conv1", "fc1"), True)
    engine.manual_seed(0)
    model = lenet.build()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert all(p.requires_grad for p in model.conv2.parameters())
    before = {k: v.detach().numpy().copy() for k, v in model.state_dict().items()}
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    x, y = engine.randn(4, 3, 32, 32), engine.tensor([0, 1, 2, 3])
    for _ in range(2):
        optimizer.zero_grad()
        engine.nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    after = model.state_dict()
    for key in ("conv1.weight", "conv1.bias", "fc1.weight", "fc1.bias"):
        np.testing.assert_array_equal(after[key].numpy(), before[key], err_msg=key)
    for key in ("conv2.weight", "fc2.weight", "fc3.bias"):
        assert not np.array_equal(after[key].numpy(), before[key]), key


def test_the_exported_pytorch_code_freezes_the_same_layers(lenet):
    lenet.set_frozen(ids(lenet, "conv1"), True)
    source = model_class_source(lenet, lenet.infer(), "Frozen")
    line = next(line for line in source.splitlines() if "self.conv1 =" in line)
    assert line.endswith(".requires_grad_(False)")
    namespace = {"torch": torch, "nn": torch.nn}
    exec(compile(source, "model.py", "exec"), namespace)  # the class the exporter writes, run by PyTorch
    model = namespace["Frozen"]()
    assert not any(p.requires_grad for p in model.conv1.parameters())
    assert all(p.requires_grad for p in model.conv2.parameters())


def test_only_layers_with_parameters_freeze_and_a_fully_frozen_network_does_not_train(lenet):
    with pytest.raises(NetworkError, match="Input 'input' has no parameters to freeze"):
        lenet.set_frozen([lenet.input_node().id], True)
    assert trainable_problem(lenet) is None
    lenet.set_frozen([n.id for n in lenet.nodes.values() if n.layer_type.module is not None], True)
    assert "every layer with parameters is frozen" in trainable_problem(lenet)
    with pytest.raises(NetworkError, match="nothing to train"):
        prepare_training(lenet)
