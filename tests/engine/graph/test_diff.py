"""``network_diff``: every kind of change between two versions of a document, none, renames, rebuilt ids."""

import json

import pytest

from engine.graph import Edge, network_from_json, network_to_json
from engine.graph.diff import match_nodes, network_diff
from engine.graph.templates import load_template


def copy(network):
    return network_from_json(network_to_json(network))


@pytest.fixture
def lenet():
    return load_template("lenet_cifar10")


def ids(network):
    return {n.name: n.id for n in network.nodes.values()}


def test_a_copy_and_a_moved_layout_are_no_change(lenet):
    other = copy(lenet)
    other.move(ids(other)["conv1"], (500.0, 20.0))
    diff = network_diff(lenet, other)
    assert diff.empty and diff.count == 0 and diff.lines() == [] and diff.summary() == "no changes"


def test_parameters_frozen_flags_and_settings(lenet):
    other = copy(lenet)
    n = ids(other)
    other.set_params(n["conv1"], {"out_channels": 8, "kernel_size": 3})
    other.set_params(n["conv2"], {"in_channels": 8})
    other.set_frozen([n["fc1"]], True)
    other.set_settings({"lr": 0.05, "optimizer": "Adam", "milestones": (3, 6)})
    diff = network_diff(lenet, other)
    assert diff.params == {"conv1": {"out_channels": (6, 8), "kernel_size": ((5, 5), (3, 3))},
                           "conv2": {"in_channels": (6, 8)}}
    assert diff.frozen == {"fc1": (False, True)}
    assert diff.settings == {"optimizer": ("SGD", "Adam"), "lr": (0.001, 0.05), "milestones": ((), (3, 6))}
    assert not (diff.added or diff.removed or diff.renamed or diff.connections_added or diff.connections_removed)
    assert diff.lines() == ["conv1: out_channels 6 → 8, kernel_size (5, 5) → (3, 3)", "conv2: in_channels 6 → 8",
                            "fc1: frozen", "optimizer SGD → Adam", "lr 0.001 → 0.05", "milestones () → (3, 6)"]
    assert diff.count == 7 and not diff.empty and diff.summary() == "7 changes"
    back = network_diff(other, lenet)  # the other way round
    assert back.settings["lr"] == (0.05, 0.001) and back.frozen == {"fc1": (True, False)}


def test_a_node_added_and_another_removed_with_their_connections(lenet):
    other = copy(lenet)
    n = ids(other)
    drop = other.add_node("Dropout", {"p": 0.3}, name="dropout1")
    other.disconnect(Edge(n["relu3"], n["fc2"]))
    other.connect(n["relu3"], drop.id)
    other.connect(drop.id, n["fc2"])
    other.remove_node(n["relu4"])
    other.connect(n["fc2"], n["fc3"])
    diff = network_diff(lenet, other)
    assert diff.added == [("dropout1", "Dropout")] and diff.removed == [("relu4", "ReLU")]
    assert sorted(diff.connections_added) == [("dropout1", 0, "fc2", 0), ("fc2", 0, "fc3", 0),
                                              ("relu3", 0, "dropout1", 0)]
    assert sorted(diff.connections_removed) == [("fc2", 0, "relu4", 0), ("relu3", 0, "fc2", 0),
                                                ("relu4", 0, "fc3", 0)]
    lines = diff.lines()
    assert lines[:2] == ["+ dropout1 (Dropout)", "- relu4 (ReLU)"]
    assert "+ relu3 → dropout1" in lines and "- relu3 → fc2" in lines
    assert diff.count == 8


def test_a_renamed_node_is_one_change_not_a_removal(lenet):
    other = copy(lenet)
    other.rename(ids(other)["conv1"], "features1")
    other.set_params(ids(other)["features1"], {"out_channels": 4})
    diff = network_diff(lenet, other)
    assert diff.renamed == [("conv1", "features1")]
    assert diff.params == {"features1": {"out_channels": (6, 4)}}
    assert not (diff.added or diff.removed or diff.connections_added or diff.connections_removed)
    assert diff.lines() == ["renamed conv1 → features1", "features1: out_channels 6 → 4"]


def test_rebuilt_documents_are_matched_by_name(lenet):
    """The same layers under other ids (an imported or rebuilt document): names decide."""
    renumber = {node_id: f"m{len(lenet.nodes) - i}" for i, node_id in enumerate(lenet.nodes)}
    text = json.dumps(network_to_json(lenet))
    for old_id, new_id in renumber.items():
        text = text.replace(f'"{old_id}"', f'"{new_id}"')
    rebuilt = network_from_json(json.loads(text))
    assert ids(rebuilt)["conv1"] != ids(lenet)["conv1"]
    assert set(match_nodes(lenet, rebuilt).items()) == {(i, renumber[i]) for i in lenet.nodes}
    assert network_diff(lenet, rebuilt).empty


def test_equal_ids_on_different_layers_are_not_trusted(lenet):
    """Ids that happen to be equal across two rebuilt documents do not pair conv1 with conv2."""
    other = copy(lenet)
    n = ids(other)
    other.rename(n["conv1"], "tmp")
    other.rename(n["conv2"], "conv1")
    other.rename(n["conv1"], "conv2")  # now n2 is called conv2 and n5 conv1
    matched = match_nodes(lenet, other)
    assert matched[ids(lenet)["conv1"]] == n["conv2"] and matched[ids(lenet)["conv2"]] == n["conv1"]
    diff = network_diff(lenet, other)
    assert not diff.renamed and not diff.added and not diff.removed
    assert diff.params == {"conv1": {"in_channels": (3, 6), "out_channels": (6, 16)},
                           "conv2": {"in_channels": (6, 3), "out_channels": (16, 6)}}
    assert ("input", 0, "conv2", 0) in diff.connections_added


def test_a_layer_of_another_type_under_the_same_name_is_removed_and_added(lenet):
    other = copy(lenet)
    n = ids(other)
    other.remove_node(n["relu1"])
    gelu = other.add_node("GELU", name="relu1")
    other.connect(n["conv1"], gelu.id)
    other.connect(gelu.id, n["pool1"])
    diff = network_diff(lenet, other)
    assert diff.added == [("relu1", "GELU")] and diff.removed == [("relu1", "ReLU")]


def test_groups_added_removed_and_changed(lenet):
    base = copy(lenet)
    n = ids(base)
    base.add_group([n["conv1"], n["relu1"], n["pool1"]], name="block1")
    base.add_group([n["fc2"], n["relu4"]], name="head")
    other = copy(base)
    other.remove_group(next(g.id for g in other.groups.values() if g.name == "head"))
    block = next(g for g in other.groups.values() if g.name == "block1")
    other.set_members(block.id, [n["conv1"], n["relu1"]])
    other.add_group([n["fc1"], n["relu3"]], name="mlp")
    diff = network_diff(base, other)
    assert diff.groups_added == [("mlp", ("fc1", "relu3"))]
    assert diff.groups_removed == [("head", ("fc2", "relu4"))]
    assert diff.groups_changed == {"block1": {"members": (("conv1", "relu1", "pool1"), ("conv1", "relu1"))}}
    assert diff.lines() == ["+ group mlp (fc1, relu3)", "- group head (fc2, relu4)",
                            "group block1: members (conv1, relu1, pool1) → (conv1, relu1)"]
    plain = network_diff(lenet, base)
    assert [name for name, _ in plain.groups_added] == ["block1", "head"] and plain.count == 2


def test_repeat_change_and_json_form(lenet):
    base = copy(lenet)
    n = ids(base)
    group = base.add_group([n["relu2"]], name="act")
    other = copy(base)
    other.set_group(group.id, repeat=3)
    other.set_settings({"batch_size": 32})
    diff = network_diff(base, other)
    assert diff.groups_changed == {"act": {"repeat": (1, 3)}}
    data = json.loads(json.dumps(diff.as_dict()))
    assert data["settings"] == {"batch_size": [4, 32]} and data["groups_changed"]["act"]["repeat"] == [1, 3]
    assert data["lines"] == ["group act: repeat 1 → 3", "batch_size 4 → 32"]
    assert diff.summary() == "group act: repeat 1 → 3; batch_size 4 → 32"
