"""The editing API of the network document: every method, its refusals, the events listeners get and the
undo pairs the editor's commands are made of."""

import itertools

import pytest

from engine.graph import (
    ConnectionRefused,
    Edge,
    Network,
    NetworkError,
    NetworkFileError,
    copy_fragment,
    network_to_json,
    paste_fragment,
)
from engine.graph.templates import load_template

from .recorder import Recorder


def chain(*types):
    """A Network with the given node types connected one after the other; returns it and the node ids."""
    net = Network()
    ids = [net.add_node(t).id for t in types]
    for a, b in itertools.pairwise(ids):
        net.connect(a, b)
    return net, ids


def test_add_node_names_ids_and_defaults():
    net = Network()
    conv = net.add_node("Conv2d", {"out_channels": 6, "kernel_size": 5}, position=(10, 20))
    second = net.add_node("Conv2d")
    assert (conv.id, conv.name, second.id, second.name) == ("n1", "conv1", "n2", "conv2")
    assert conv.params["kernel_size"] == (5, 5) and conv.params["stride"] == (1, 1)
    assert conv.position == (10.0, 20.0)
    named = net.add_node("ReLU", name="act", node_id="custom")
    assert net.node("custom") is named and net.node_by_name("act") is named
    assert net.add_node("ReLU").id == "n3"
    assert net.nodes_of_type("Conv2d") == [conv, second]


@pytest.mark.parametrize("args, kwargs, message", [
    (("Convolution",), {}, "unknown layer type 'Convolution'"),
    (("ReLU",), {"node_id": "n1"}, "a node with id 'n1' already exists"),
    (("Conv2d", {"kernel_size": "five"}), {}, "Conv2d 'conv1': 'kernel_size' must be an integer, got 'five'"),
    (("Conv2d", {"colour": 1}), {}, "Conv2d 'conv1': unknown parameter 'colour'"),
    (("ReLU",), {"position": ("a", 1)}, "a position must be two numbers"),
    (("ReLU",), {"position": (float("inf"), 1)}, "a position must be finite"),
])
def test_add_node_refusals(args, kwargs, message):
    net = Network()
    net.add_node("Input")
    with pytest.raises(NetworkError, match=message):
        net.add_node(*args, **kwargs)
    assert len(net.nodes) == 1


@pytest.mark.parametrize("name, reason", [
    ("2conv", "is not a valid name"),
    ("conv-1", "is not a valid name"),
    ("", None),  # empty means "choose one": the node gets a fresh name
    ("class", "is not a valid name"),
    ("lambda", "is not a valid name"),
    ("forward", "is reserved"),
    ("training", "is reserved"),
    ("parameters", "is reserved"),
    ("state_dict", "is reserved"),
    ("input_shape", "is reserved"),  # an attribute of the built GraphModule
    ("compile", "is reserved"),  # PyTorch's Module has it: exported code would break
    ("_modules", "starts with '_'"),
    ("_x", "starts with '_'"),
])
def test_names_that_cannot_name_a_node(name, reason):
    net = Network()
    if reason is None:
        assert net.add_node("ReLU", name=name).name == "relu1"
        return
    assert reason in net.check_name(name)
    with pytest.raises(NetworkError, match=reason):
        net.add_node("ReLU", name=name)
    node = net.add_node("ReLU")
    with pytest.raises(NetworkError, match=reason):
        net.rename(node.id, name)
    assert node.name == "relu1"


def test_duplicate_names_are_refused_and_rename_returns_the_old_name():
    net = Network()
    a, b = net.add_node("ReLU", name="a"), net.add_node("ReLU", name="b")
    assert "already used by ReLU 'a'" in net.check_name("a")
    assert net.check_name("a", node_id=a.id) is None  # a node may keep its own name
    with pytest.raises(NetworkError, match="the name 'a' is already used"):
        net.add_node("Tanh", name="a")
    with pytest.raises(NetworkError, match="already used"):
        net.rename(b.id, "a")
    assert net.rename(b.id, "c") == "b" and b.name == "c"
    assert net.unique_name("relu") == "relu1"


def test_queries_refuse_unknown_nodes():
    net = Network()
    with pytest.raises(NetworkError, match="no node with id 'n9'"):
        net.node("n9")
    with pytest.raises(NetworkError, match="no node named 'x'"):
        net.node_by_name("x")
    assert net.input_node() is None and net.output_node() is None


def test_can_connect_reasons():
    net, (inp, conv, relu, out) = chain("Input", "Conv2d", "ReLU", "Output")
    other = net.add_node("Tanh").id
    add = net.add_node("Add").id
    assert net.can_connect(inp, other) is None
    assert net.can_connect(relu, conv) == "connecting ReLU 'relu1' to Conv2d 'conv1' would make a cycle"
    assert net.can_connect(out, other) == "Output 'output1' has no output to connect from"
    assert net.can_connect(other, inp) == "Input 'input1' takes no inputs"
    assert net.can_connect(other, conv) == ("Conv2d 'conv1' takes a single input and already has one; "
                                            "disconnect it first")
    assert net.can_connect(other, conv, 1) == net.can_connect(other, conv)  # naming a port does not help
    assert net.can_connect(inp, conv) == "Input 'input1' already feeds Conv2d 'conv1'"
    assert net.can_connect(conv, conv) == "a node cannot feed itself"
    assert net.can_connect(conv, "n99") == "both ends must be nodes of this network"
    assert "no input 1" in net.can_connect(inp, other, 1)
    assert "not an input number" in net.can_connect(inp, add, -1)
    assert "not an input number" in net.can_connect(inp, add, "0")
    net.connect(conv, add, 3)
    assert net.can_connect(relu, add, 3) == "input 3 of Add 'add1' is already connected"
    assert net.can_connect(relu, add, 0) is None
    with pytest.raises(ConnectionRefused, match="cycle"):
        net.connect(relu, conv)
    assert len(net.edges) == 4


def test_a_longer_cycle_is_refused_even_into_a_merge_with_free_inputs():
    net, ids = chain("Input", "Add", "Tanh", "Identity", "Concat")
    assert net.can_connect(ids[4], ids[1]) == "connecting Concat 'cat1' to Add 'add1' would make a cycle"
    assert net.can_connect(ids[3], ids[1]) is not None and net.can_connect(ids[0], ids[4]) is None


def test_connect_picks_the_lowest_free_port_and_merges_order_inputs_by_port():
    net, (inp, a) = chain("Input", "Identity")
    b, c = net.add_node("Tanh").id, net.add_node("ReLU").id
    cat = net.add_node("Concat").id
    net.connect(inp, b)
    net.connect(inp, c)
    net.connect(c, cat, 1)
    first = net.connect(a, cat)
    assert first.port == 0
    assert net.predecessors(cat) == [a, c]
    net.disconnect(first)
    assert net.connect(b, cat).port == 0  # the replacement takes the freed first input
    assert net.predecessors(cat) == [b, c] and net.sources()[cat] == [b, c]
    assert [e.port for e in net.input_edges(cat)] == [0, 1]
    assert net.output_edges(inp) == [Edge(inp, a), Edge(inp, b), Edge(inp, c)]


def test_disconnect_refuses_an_unknown_edge():
    net, (a, b) = chain("Input", "ReLU")
    with pytest.raises(NetworkError, match="no connection from 'n2' to 'n1'"):
        net.disconnect(Edge(b, a))


def test_events_for_each_edit():
    net = Network()
    rec = Recorder(net)
    a = net.add_node("Input")
    assert rec.events == [("node_added", a), ("changed", None)]
    b = net.add_node("Conv2d")
    rec.clear()
    edge = net.connect(a.id, b.id)
    assert rec.events == [("edge_added", edge), ("changed", None)]
    rec.clear()
    net.set_params(b.id, {"out_channels": 8})
    net.rename(b.id, "features")
    net.move(b.id, (5, 5))
    net.set_settings({"lr": 0.1})
    assert rec.names() == ["node_changed", "changed", "node_changed", "changed", "node_moved", "changed",
                           "settings_changed", "changed"]
    assert rec.events[0][1] is b and rec.events[4][1] is b
    rec.clear()
    net.disconnect(edge)
    assert rec.events == [("edge_removed", edge), ("changed", None)]
    net.connect(a.id, b.id)
    rec.clear()
    net.remove_node(b.id)
    assert rec.names() == ["edge_removed", "node_removed", "changed"]
    net.unsubscribe(rec)
    net.add_node("ReLU")
    assert rec.names() == ["edge_removed", "node_removed", "changed"]


def test_batch_sends_one_changed_at_the_end_even_when_nested():
    net = Network()
    rec = Recorder(net)
    with net.batch():
        a = net.add_node("Input")
        with net.batch():
            b = net.add_node("ReLU")
            net.connect(a.id, b.id)
        assert "changed" not in rec.names()
        net.move(b.id, (1, 2))
    assert rec.names() == ["node_added", "node_added", "edge_added", "node_moved", "changed"]
    rec.clear()
    with net.batch():
        pass
    assert rec.events == []  # nothing changed, nothing to tell
    rec.clear()
    with pytest.raises(RuntimeError), net.batch():
        net.add_node("Tanh")
        raise RuntimeError
    assert rec.names() == ["node_added", "changed"]  # an aborted batch still reports what it did


def test_revision_and_the_inference_cache():
    net, (inp, relu) = chain("Input", "ReLU")
    first = net.infer()
    assert net.infer() is first
    revision = net.revision
    net.move(relu, (100, 0))
    assert net.revision == revision + 1 and net.infer() is first  # a move changes no shape
    net.set_params(inp, {"shape": (1, 28, 28), "dataset": "MNIST"})
    fresh = net.infer()
    assert fresh is not first and fresh.revision == net.revision and fresh.nodes[relu].shape == (1, 28, 28)


def test_set_params_returns_old_values_and_refuses_bad_ones():
    net = Network()
    conv = net.add_node("Conv2d", {"out_channels": 6})
    old = net.set_params(conv.id, {"out_channels": 16, "kernel_size": [5, 5]})
    assert old == {"out_channels": 6, "kernel_size": (3, 3)}
    assert conv.params["out_channels"] == 16 and conv.params["kernel_size"] == (5, 5)
    net.set_params(conv.id, old)  # undo
    assert conv.params["out_channels"] == 6 and conv.params["kernel_size"] == (3, 3)
    for bad, message in (({"groups": 0}, "'groups' must be between 1 and 65536, got 0"),
                         ({"size": 3}, "unknown parameter 'size'"), ({"bias": "yes"}, "'bias' must be true or false")):
        with pytest.raises(NetworkError, match=f"Conv2d 'conv1': {message}"):
            net.set_params(conv.id, bad)
    assert conv.params["out_channels"] == 6


def test_move_and_move_many_return_old_positions_for_undo():
    net = Network()
    rec = Recorder(net)
    a, b = net.add_node("Input"), net.add_node("ReLU", position=(3, 4))
    rec.clear()
    assert net.move(a.id, (10.04, -2.26)) == (0.0, 0.0)
    assert a.position == (10.0, -2.3)  # kept to 0.1, so that a saved file reloads equal
    old = net.move_many({a.id: (1, 1), b.id: (2, 2)})
    assert old == {a.id: (10.0, -2.3), b.id: (3.0, 4.0)}
    assert rec.names() == ["node_moved", "changed", "node_moved", "node_moved", "changed"]
    net.move_many(old)
    assert (a.position, b.position) == ((10.0, -2.3), (3.0, 4.0))


def test_set_settings_returns_old_values_and_refuses_bad_ones():
    net = Network()
    old = net.set_settings({"lr": 0.1, "optimizer": "Adam"})
    assert old == {"lr": 0.01, "optimizer": "SGD"}
    assert net.settings["lr"] == 0.1
    with pytest.raises(NetworkError, match="training settings: 'epochs' must be between 1 and"):
        net.set_settings({"epochs": 0, "lr": 1.0})
    with pytest.raises(NetworkError, match="unknown parameter 'colour'"):
        net.set_settings({"colour": "red"})
    assert net.settings["lr"] == 0.1 and net.settings["epochs"] == 2
    net.set_settings(old)
    assert net.settings["optimizer"] == "SGD"


def test_remove_and_restore_node_give_back_the_same_document(template):
    before = network_to_json(template)
    rec = Recorder(template)
    for node_id in list(template.nodes):
        node, edges = template.remove_node(node_id)
        assert node_id not in template.nodes
        assert all(node_id not in (e.src, e.dst) for e in template.edges)
        template.restore_node(node, edges)
        assert network_to_json(template) == before, node.name
    assert rec.names().count("changed") == 2 * len(template.nodes)  # one per remove, one per restore


def test_removing_several_nodes_and_restoring_them_in_reverse_gives_back_the_same_document():
    net = load_template("resnet_cifar10")
    before = network_to_json(net)
    names = ("block2_conv1", "block2_add", "block2_proj", "stem_relu", "output")
    records = [net.remove_node(net.node_by_name(n).id) for n in names]
    assert len(net.nodes) == len(before["nodes"]) - len(names)
    for node, edges in reversed(records):
        net.restore_node(node, edges)
    assert network_to_json(net) == before
    assert net.infer().total_params == 152_026


def test_restore_after_other_edits_still_restores_the_connections():
    net, (inp, relu, out) = chain("Input", "ReLU", "Output")
    node, edges = net.remove_node(relu)
    tanh = net.add_node("Tanh")
    net.restore_node(node, edges)
    assert net.predecessors(relu) == [inp] and net.predecessors(out) == [relu]
    assert list(net.nodes) == [inp, relu, out, tanh.id]


def test_copy_and_paste_give_new_ids_fresh_names_and_keep_internal_edges():
    net = load_template("resnet_cifar10")
    block = [net.node_by_name(n).id for n in ("block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2",
                                               "block1_bn2", "block1_add")]
    fragment = copy_fragment(net, reversed(block))  # the fragment keeps the document's order
    assert [n["name"] for n in fragment["nodes"]] == ["block1_conv1", "block1_bn1", "block1_relu1",
                                                      "block1_conv2", "block1_bn2", "block1_add"]
    assert len(fragment["edges"]) == 5  # block1_add's input from stem_relu is outside the fragment
    rec = Recorder(net)
    count = len(net.nodes)
    pasted = paste_fragment(net, fragment, offset=(0, 300))
    assert rec.names().count("changed") == 1 and len(net.nodes) == count + 6
    assert not {n.id for n in pasted} & set(block)
    assert [n.name for n in pasted] == ["conv1", "bn1", "relu1", "conv2", "bn2", "add1"]
    original = net.node(block[0])
    assert pasted[0].params == original.params and pasted[0].position == (original.position[0],
                                                                          original.position[1] + 300)
    ids = [n.id for n in pasted]
    assert [(e.src, e.dst, e.port) for e in net.edges if e.dst in ids] == [
        (ids[0], ids[1], 0), (ids[1], ids[2], 0), (ids[2], ids[3], 0), (ids[3], ids[4], 0), (ids[4], ids[5], 0)]
    again = paste_fragment(net, copy_fragment(net, [pasted[0].id]))
    assert again[0].name == "conv3"
    free = paste_fragment(Network(), fragment)
    assert [n.name for n in free] == ["block1_conv1", "block1_bn1", "block1_relu1", "block1_conv2",
                                      "block1_bn2", "block1_add"]  # no clash: names kept


@pytest.mark.parametrize("fragment, message", [
    ({"nodes": [{"id": "a", "type": "Conv", "name": "x"}], "edges": []}, "unknown layer type 'Conv'"),
    ({"nodes": [{"id": "a", "type": "ReLU", "name": "x"}, {"id": "b", "type": "ReLU", "name": "y"}],
      "edges": [{"from": "a", "to": "b"}, {"from": "b", "to": "a"}]}, "would make a cycle"),
    ({"nodes": [{"id": "a", "type": "ReLU", "name": "x"}], "edges": [{"from": "a", "to": "z"}]}, "dangling"),
    ({"nodes": [{"id": "a", "type": "ReLU", "name": "forward"}], "edges": []}, "'forward' is reserved"),
])
def test_paste_checks_the_whole_fragment_first(fragment, message):
    net, _ = chain("Input", "ReLU")
    before = network_to_json(net)
    rec = Recorder(net)
    with pytest.raises(NetworkFileError, match=f"^clipboard: .*{message}"):
        paste_fragment(net, fragment)
    assert network_to_json(net) == before and rec.events == []


def test_assign_replaces_the_content_and_tells_listeners():
    net, _ = chain("Input", "ReLU")
    rec = Recorder(net)
    other = load_template("lenet_cifar10")
    revision = net.revision
    net.assign(other)
    assert rec.names() == ["reset", "changed"]
    assert network_to_json(net) == network_to_json(other) and net.revision > revision
    assert net.infer().total_params == 62006
    assert net.add_node("ReLU").id == "n15"  # ids continue after the assigned document's
    with net.batch():
        net.assign(load_template("mlp_fashion_mnist"))
        assert rec.names()[-1] == "reset"
    assert rec.names()[-2:] == ["reset", "changed"]


def test_topological_order_breaks_ties_by_insertion_order_not_edge_order():
    net = Network()
    ids = [net.add_node(t).id for t in ("Input", "ReLU", "Tanh", "Add", "Sigmoid")]
    inp, relu, tanh, add, sig = ids
    net.connect(inp, tanh)
    net.connect(inp, relu)
    net.connect(relu, add)
    net.connect(tanh, add)
    net.connect(inp, sig)
    assert net.topological_order() == [inp, relu, tanh, add, sig]
    net.edges.reverse()
    assert net.topological_order() == [inp, relu, tanh, add, sig]
    # a later-added node that depends on nothing still comes before those waiting on their inputs
    first = Network()
    late = [first.add_node(t).id for t in ("Output", "ReLU", "Input")]
    first.connect(late[2], late[1])
    first.connect(late[1], late[0])
    assert first.topological_order() == [late[2], late[1], late[0]]


def _collapsed_group(net, node_id):
    group = net.group_of(node_id)
    return group if group is not None and group.collapsed else None


def _drawn(net, node_id, other):
    """Where a connection between ``node_id`` and ``other`` is drawn: at its collapsed group's box, unless both
    are inside that group (then it is seen expanded)."""
    group = _collapsed_group(net, node_id)
    return group.position if group is not None and _collapsed_group(net, other) is not group else \
        net.nodes[node_id].position


def test_layout_goes_left_to_right_without_overlaps(template, random_network):
    """As drawn, with each collapsed group one box: no two boxes or nodes overlap, nor do a group's members
    among themselves, and every connection goes left to right; the old positions undo it."""
    for net in (template, random_network(3), random_network(11)):
        rec = Recorder(net)
        old_positions, old_boxes = net.layout()
        assert rec.names()[-1] == "changed" and rec.names().count("changed") == 1
        drawn = [n.position for n in net.nodes.values() if _collapsed_group(net, n.id) is None]
        drawn += [g.position for g in net.groups.values() if g.collapsed]
        assert len(set(drawn)) == len(drawn)
        for group in net.groups.values():
            inside = [net.nodes[m].position for m in group.members]
            assert len(set(inside)) == len(inside), group.name
        for e in net.edges:
            src, dst = _drawn(net, e.src, e.dst), _drawn(net, e.dst, e.src)
            assert dst[0] > src[0], (e, src, dst)
        with net.batch():
            net.move_many(old_positions)
            for group_id, position in old_boxes.items():
                net.move_group(group_id, position, carry=False)
        assert {i: n.position for i, n in net.nodes.items()} == old_positions
        assert {i: g.position for i, g in net.groups.items()} == old_boxes
