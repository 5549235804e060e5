"""Groups in the network document: adding, changing and removing them (refusals that name the layer or group,
events, undo pairs that give back the same document, members leaving and coming back with their nodes), what
the inference says of them (``GroupInfo``, the rules a repeated block must keep), the collapsed layout, and
the file: version 3 round trips, version 2 still opens, malformed groups refused naming the group, and the
clipboard carrying whole groups. Repeat blocks computed, trained and exported: ``test_groups_repeat.py``."""

import gc
import itertools
import json
import time
import warnings

import pytest

from engine.graph import (
    Network,
    NetworkError,
    NetworkFileError,
    copy_fragment,
    load_network,
    network_from_json,
    network_to_json,
    paste_fragment,
    save_network,
)
from engine.graph import groups as groups_module
from engine.graph.document import PartRefused
from engine.graph.fileformat import VERSION, fragment_from_json
from engine.graph.groups import MAX_REPEAT, Group, copy_id, copy_name, group_ports
from engine.graph.inference import infer
from engine.graph.layout import LAYER_SPACING, ROW_SPACING, fold_moves, grouped_positions, layered_positions
from engine.utils.files import FileWarning

from .recorder import Recorder

CIFAR = {"shape": (3, 32, 32), "dataset": "CIFAR-10"}
CONV8 = {"out_channels": 8, "kernel_size": 3, "padding": 1}
BLOCK = ("conv1", "bn1", "relu1", "conv2", "add", "relu2")


def residual(repeat=3, *, group=True):
    """Input (CIFAR-10) → stem conv → residual block (conv1, bn1, relu1, conv2, add with the block's input,
    relu2), grouped as 'block' with ``repeat`` → pool → flat → fc → Output. Returns the network and ``{name: id}``."""
    net = Network("residual")
    add = net.add_node
    ids = {"input": add("Input", CIFAR, name="input").id, "stem": add("Conv2d", CONV8, name="stem").id}
    for name, type_name, params in (("conv1", "Conv2d", CONV8), ("bn1", "BatchNorm2d", {}), ("relu1", "ReLU", {}),
                                    ("conv2", "Conv2d", CONV8), ("add", "Add", {}), ("relu2", "ReLU", {}),
                                    ("pool", "AdaptiveAvgPool2d", {"output_size": 1}), ("flat", "Flatten", {}),
                                    ("fc", "Linear", {"out_features": 10}), ("output", "Output", {})):
        ids[name] = add(type_name, params, name=name).id
    for a, b in (("input", "stem"), ("stem", "conv1"), ("conv1", "bn1"), ("bn1", "relu1"), ("relu1", "conv2"),
                 ("conv2", "add"), ("stem", "add"), ("add", "relu2"), ("relu2", "pool"), ("pool", "flat"),
                 ("flat", "fc"), ("fc", "output")):
        net.connect(ids[a], ids[b])
    if group:
        net.add_group([ids[n] for n in BLOCK], name="block", repeat=repeat, group_id="g1")
    return net, ids


def chain(*types):
    """Input (CIFAR-10) → ``types`` → Output; returns the network and the ids of all its nodes in order."""
    net = Network()
    ids = [net.add_node("Input", CIFAR).id] + [net.add_node(t).id for t in types] + [net.add_node("Output").id]
    for a, b in itertools.pairwise(ids):
        net.connect(a, b)
    return net, ids


def problems(net):
    return [(p.node_id, p.message, p.severity) for p in net.infer().problems]


# ----- the document -----
def test_add_group_takes_defaults_and_tells_listeners():
    net, ids = chain("Conv2d", "ReLU", "Flatten")
    net.move(ids[1], (240, 130))
    rec = Recorder(net)
    revision = net.revision
    group = net.add_group([ids[2], ids[1]])
    assert (group.id, group.name, group.members, group.repeat, group.collapsed) == ("g1", "group1", [ids[2], ids[1]],
                                                                                    1, True)
    assert group.position == (0.0, 0.0)  # the first member's (the members keep the order given)
    assert net.groups == {"g1": group} and net.group("g1") is group
    assert net.group_of(ids[1]) is group and net.group_of(ids[3]) is None
    assert rec.names() == ["group_added", "changed"] and rec.events[0][1] is group
    assert net.revision == revision + 1
    second = net.add_group([ids[3]], name="head", position=(5.04, -7))
    assert (second.id, second.name, second.position) == ("g2", "head", (5.0, -7.0))
    at_member = net.add_group([net.add_node("ReLU", position=(33, 44)).id])
    assert at_member.position == (33.0, 44.0)
    with pytest.raises(NetworkError, match="no group with id 'g9'"):
        net.group("g9")


def test_group_names_and_node_names_share_one_namespace():
    net, ids = chain("ReLU", "Tanh")
    net.add_group([ids[2]], name="relu2")
    assert net.add_node("ReLU").name == "relu3"  # relu1 is a node, relu2 a group
    assert net.unique_name("relu") == "relu4"
    with pytest.raises(NetworkError, match="the name 'relu2' is already used by group 'relu2'"):
        net.rename(ids[1], "relu2")
    with pytest.raises(NetworkError, match="the name 'relu2' is already used by group 'relu2'"):
        net.add_node("ReLU", name="relu2")
    assert net.add_group([ids[1]]).name == "group1"


REFUSALS = [
    ([], {}, "a group needs at least one layer"),
    (["input"], {}, "Input 'input' stays outside groups: a group holds layers between the Input and the Output"),
    (["relu1", "output"], {}, "Output 'output' stays outside groups"),
    (["conv1", "conv1"], {}, "a group lists a layer twice"),
    (["conv1", "n99"], {}, "a group's member 'n99' is not a node of this network"),
    (["stem"], {}, "Conv2d 'stem' already belongs to group 'first'; a layer is in one group at most"),
    (["conv1"], {"name": "conv2"}, "the name 'conv2' is already used by Conv2d 'conv2'"),
    (["conv1"], {"name": "first"}, "the name 'first' is already used by group 'first'"),
    (["conv1"], {"name": "my block"}, "'my block' is not a valid name"),
    (["conv1"], {"name": "forward"}, "'forward' is reserved"),
    (["conv1"], {"repeat": 0}, f"a group's repeat count is a whole number from 1 to {MAX_REPEAT}, got 0"),
    (["conv1"], {"repeat": MAX_REPEAT + 1}, "a group's repeat count is a whole number from 1 to 64, got 65"),
    (["conv1"], {"repeat": True}, "a group's repeat count is a whole number from 1 to 64, got True"),
    (["conv1"], {"repeat": 2.0}, "a group's repeat count is a whole number from 1 to 64, got 2.0"),
    (["conv1"], {"collapsed": "yes"}, "a group is collapsed or not (true or false), got 'yes'"),
    (["conv1"], {"position": ("a", 1)}, "a position must be two numbers"),
    (["conv1"], {"position": (float("nan"), 1)}, "a position must be finite"),
    (["conv1"], {"group_id": "g1"}, "a group with id 'g1' already exists"),
]


@pytest.mark.parametrize("members, kwargs, message", REFUSALS, ids=[r[2][:40] for r in REFUSALS])
def test_add_group_refusals_name_the_layer_or_group_and_change_nothing(members, kwargs, message):
    net, ids = residual(group=False)
    net.add_group([ids["stem"]], name="first", group_id="g1")
    before, revision = network_to_json(net), net.revision
    rec = Recorder(net)
    with pytest.raises(NetworkError) as info:
        net.add_group([ids.get(m, m) for m in members], **kwargs)
    assert message in str(info.value)
    assert network_to_json(net) == before and net.revision == revision and rec.events == []
    assert list(net.groups) == ["g1"] and net.group_of(ids["conv1"]) is None


def test_node_ids_and_group_ids_never_coincide():
    net, ids = chain("ReLU", "ReLU")
    with pytest.raises(NetworkError, match=f"the id '{ids[1]}' is a node's; a group needs another"):
        net.add_group([ids[1]], group_id=ids[1])
    net.add_group([ids[1]], group_id="n50")
    net.add_group([ids[2]], group_id="g1")
    with pytest.raises(NetworkError, match="the id 'g1' is a group's; a node needs another"):
        net.add_node("ReLU", node_id="g1")
    assert net.new_id() != "n50" and net.new_group_id() not in net.nodes
    net._next_id = 50
    assert net.new_id() == "n51"


def test_add_groups_checks_each_group_as_add_group_does():
    net, ids = residual(group=False)
    rec = Recorder(net)
    made = net.add_groups([Group(None, "a", [ids["conv1"]]), Group("x9", "b", [ids["bn1"]], 2, False, (1, 2))])
    assert [(g.id, g.name, g.repeat, g.collapsed, g.position) for g in made] == [
        ("g1", "a", 1, True, (0.0, 0.0)), ("x9", "b", 2, False, (1.0, 2.0))]
    assert rec.names().count("changed") == 1 and rec.names().count("group_added") == 2
    with pytest.raises(PartRefused) as info:
        net.add_groups([Group(None, "c", [ids["relu1"]]), Group(None, "c", [ids["conv2"]]),
                        Group(None, "d", [ids["conv1"]])])
    assert info.value.index == 1 and info.value.part.name == "c"
    assert str(info.value) == "the name 'c' is already used by group 'c'"
    assert list(net.groups) == ["g1", "x9", "g2"]  # those before the refused one stay, as one by one
    with pytest.raises(PartRefused, match="Conv2d 'conv1' already belongs to group 'a'"):
        net.add_groups([Group(None, "e", [ids["conv1"]])])


def test_remove_group_keeps_the_members_and_restore_puts_it_back_in_its_place():
    net, ids = residual(group=False)
    first = net.add_group([ids["stem"]], name="first")
    middle = net.add_group([ids["conv1"], ids["bn1"]], name="middle", repeat=2, collapsed=False, position=(7, 8))
    last = net.add_group([ids["fc"]], name="last")
    before = network_to_json(net)
    rec = Recorder(net)
    removed = net.remove_group(middle.id)
    assert removed is middle and list(net.groups) == [first.id, last.id]
    assert net.group_of(ids["conv1"]) is None and len(net.nodes) == 12  # ungrouping keeps the layers
    assert rec.names() == ["group_removed", "changed"]
    assert net.add_node("ReLU", name="middle").name == "middle"  # the name is free again
    net.remove_node(net.node_by_name("middle").id)
    rec.events.clear()
    restored = net.restore_group(removed)
    assert restored is middle and list(net.groups) == [first.id, middle.id, last.id]
    assert network_to_json(net) == before
    assert net.group_of(ids["bn1"]) is middle
    assert rec.group_events() == [("group_added", middle.id)]
    with pytest.raises(NetworkError, match="Conv2d 'conv1' already belongs to group 'middle'"):
        net.restore_group(middle)
    net.remove_group(middle.id)
    net.add_group([ids["relu1"]], name="newcomer", group_id=middle.id)
    with pytest.raises(NetworkError, match="a group with id 'g2' already exists"):
        net.restore_group(middle)  # never in the place of another group
    assert net.group("g2").name == "newcomer"


def test_restore_group_refuses_members_taken_meanwhile():
    net, ids = residual()
    group = net.remove_group("g1")
    net.add_group([ids["relu1"]], name="other")
    with pytest.raises(NetworkError, match="ReLU 'relu1' already belongs to group 'other'"):
        net.restore_group(group)
    assert list(net.groups) == ["g2"] and net.group("g2").name == "other"  # ids are never handed out twice


@pytest.mark.parametrize("order", list(itertools.permutations(["conv1", "add", "relu2"])))
def test_deleting_members_at_once_and_undoing_gives_back_the_groups(order):
    net, ids = residual(repeat=1)
    net.set_members("g1", [ids["conv1"], ids["add"], ids["relu2"]])
    net.add_group([ids["fc"]], name="head")
    net.add_group([ids["bn1"], ids["relu1"]], name="inner", collapsed=False)
    before = network_to_json(net)
    rec = Recorder(net)
    records = net.remove_nodes([ids[n] for n in order])
    assert list(net.groups) == ["g2", "g3"]  # the emptied group went with its last member
    assert rec.group_events()[-1] == ("group_removed", "g1")
    assert [e for e, _ in rec.group_events()] == ["group_changed", "group_changed", "group_removed"]
    net.restore_nodes(records)
    assert network_to_json(net) == before
    assert list(net.groups) == ["g1", "g2", "g3"] and net.group("g1").members == [ids[n] for n in ("conv1", "add",
                                                                                                   "relu2")]
    assert net.infer().ok and net.infer().groups["g1"].layers == 3


def test_deleting_members_one_command_each_and_undoing_them_all_gives_back_the_group():
    net, ids = residual()
    before = network_to_json(net)
    stack = []
    for name in ("relu1", "conv1", "relu2", "add", "bn1", "conv2"):  # the last one takes the group with it
        stack.append(net.remove_nodes([ids[name]]))
        assert net.group_of(ids[name]) is None
    assert net.groups == {}
    while stack:
        net.restore_nodes(stack.pop())
    assert network_to_json(net) == before
    assert net.group("g1").members == [ids[n] for n in BLOCK]
    # the group is back: so is its repeat, three blocks of parameters
    assert net.infer().groups["g1"].params == 3 * 1184


def test_undoing_a_delete_after_undoing_an_ungroup_puts_the_member_back():
    """Delete a member, ungroup, then undo both: the group the undo of the ungroup put back is the one the
    member returns to."""
    net, ids = residual()
    before = network_to_json(net)
    records = net.remove_nodes([ids["relu1"]])
    group = net.remove_group("g1")
    net.restore_group(group)
    net.restore_nodes(records)
    assert network_to_json(net) == before


def test_undoing_a_delete_after_the_group_was_ungrouped_leaves_the_node_outside():
    net, ids = residual()
    records = net.remove_nodes([ids["relu1"]])
    net.remove_group("g1")
    net.restore_nodes(records)
    assert ids["relu1"] in net.nodes and net.groups == {} and net.infer().ok


def test_set_members_checks_and_returns_the_old_members():
    net, ids = residual()
    net.add_group([ids["fc"]], name="head")
    rec = Recorder(net)
    old = net.set_members("g1", [ids["conv1"], ids["bn1"]])
    assert old == [ids[n] for n in BLOCK] and net.group("g1").members == [ids["conv1"], ids["bn1"]]
    assert rec.group_events() == [("group_changed", "g1")] and net.group_of(ids["relu2"]) is None
    for members, message in (([ids["fc"]], "group 'block': Linear 'fc' already belongs to group 'head'"),
                             ([], "group 'block': a group needs at least one layer"),
                             ([ids["input"]], "group 'block': Input 'input' stays outside groups")):
        with pytest.raises(NetworkError, match=message):
            net.set_members("g1", members)
    net.set_members("g1", old)
    assert net.group("g1").members == old


def test_move_group_carries_its_members_and_changes_no_shape():
    net, ids = residual()
    net.move(ids["conv1"], (100, 50))
    net.set_group("g1", position=(90, 40))
    inference = net.infer()
    rec = Recorder(net)
    old = net.move_group("g1", (190, -60))
    assert old == (90.0, 40.0) and net.group("g1").position == (190.0, -60.0)
    assert net.nodes[ids["conv1"]].position == (200.0, -50.0)
    assert net.nodes[ids["relu2"]].position == (100.0, -100.0) and net.nodes[ids["stem"]].position == (0.0, 0.0)
    assert rec.names().count("changed") == 1 and rec.names()[-1] == "changed"
    assert rec.names().count("node_moved") == 6 and rec.group_events() == [("group_changed", "g1")]
    assert net.infer() is inference  # a move changes no shape
    net.move_group("g1", (0, 0), carry=False)
    assert net.group("g1").position == (0.0, 0.0) and net.nodes[ids["conv1"]].position == (200.0, -50.0)


def test_set_group_checks_every_field_and_returns_the_old_values():
    net, _ = residual()
    rec = Recorder(net)
    inference = net.infer()
    assert net.set_group("g1", collapsed=False, position=(3, 4)) == {"collapsed": True, "position": (0.0, 0.0)}
    assert net.infer() is inference  # folding and moving change no shape
    assert rec.group_events() == [("group_changed", "g1")] and rec.names()[-1] == "changed"
    assert net.set_group("g1", name="block", repeat=2) == {"name": "block", "repeat": 3}  # its own name is fine
    assert net.infer() is not inference and net.infer().groups["g1"].layers == 12
    for changes, message in (({"colour": "red"}, "a group has no field 'colour'"),
                             ({"name": "conv1"}, "group 'block': the name 'conv1' is already used by Conv2d 'conv1'"),
                             ({"name": "2nd"}, "group 'block': '2nd' is not a valid name"),
                             ({"repeat": 0}, "group 'block': a group's repeat count is a whole number from 1 to 64"),
                             ({"repeat": 65}, "got 65"), ({"repeat": True}, "got True"),
                             ({"collapsed": 1}, "group 'block': a group is collapsed or not (true or false), got 1"),
                             ({"position": (1, 2, 3)}, "group 'block': a position must be two numbers")):
        with pytest.raises(NetworkError) as info:
            net.set_group("g1", **changes)
        assert message in str(info.value)
    group = net.group("g1")
    assert (group.name, group.repeat, group.collapsed, group.position) == ("block", 2, False, (3.0, 4.0))
    net.set_group("g1", name="stage")
    assert net.add_node("ReLU", name="block").name == "block"  # the old name is free
    with pytest.raises(NetworkError, match="already used by group 'stage'"):
        net.add_node("ReLU", name="stage")


def test_assign_takes_over_the_groups_and_forgets_the_undo_records():
    net, ids = residual()
    other, _ = residual(repeat=2)
    other.set_group("g1", name="stage")
    net.remove_group("g1")
    net.assign(other)
    assert list(net.groups) == ["g1"] and net.group("g1").name == "stage"
    assert net.group_of(ids["conv1"]).name == "stage"
    assert net.infer().groups["g1"].layers == 12


def test_group_ports_follow_the_connections():
    net, ids = residual()
    ports = group_ports(net)["g1"]
    assert ports.inputs == ((ids["stem"], 0),) and ports.outputs == ((ids["relu2"], 0),)
    net.add_group([ids["pool"], ids["flat"]], name="head")
    ports = group_ports(net)
    assert ports["g2"].inputs == ((ids["relu2"], 0),) and ports["g2"].outputs == ((ids["flat"], 0),)


# ----- the inference -----
BLOCK_PARAMS = 584 + 16 + 584  # conv1, bn1 and conv2 of the residual block


def test_group_info_counts_every_copy():
    net, ids = residual(repeat=3)
    inference = net.infer()
    assert inference.ok and inference.problems == []
    info = inference.groups["g1"]
    assert info.in_shapes == ((8, 32, 32),) and info.outputs == ((8, 32, 32),)
    assert info.params == 3 * BLOCK_PARAMS and info.layers == 18 and info.error is None
    assert info.macs == 3 * sum(inference.nodes[ids[n]].macs for n in BLOCK)
    assert info.copies == {ids[n]: [copy_id(ids[n], 2), copy_id(ids[n], 3)] for n in BLOCK}
    assert (info.member_errors, info.member_warnings, info.frozen_params) == (0, 0, 0)
    assert inference.total_params == 224 + 3 * BLOCK_PARAMS + 90
    assert list(net.nodes) == list(ids.values())  # copies are computed, never stored
    flat = inference.flat
    assert len(flat.nodes) == 12 + 2 * 6 and flat.nodes[copy_id(ids["conv2"], 3)].name == "conv2_r3"
    assert flat.predecessors(ids["pool"]) == [copy_id(ids["relu2"], 3)]
    assert sorted(flat.predecessors(copy_id(ids["add"], 2))) == sorted([copy_id(ids["conv2"], 2), ids["relu2"]])
    assert flat.predecessors(copy_id(ids["conv1"], 3)) == [copy_id(ids["relu2"], 2)]
    assert inference.used == frozenset(flat.nodes)
    single = residual(repeat=1)[0].infer()
    assert single.flat is not None and len(single.flat.nodes) == 12
    assert single.groups["g1"].params == BLOCK_PARAMS and single.groups["g1"].copies == {ids[n]: [] for n in BLOCK}


def test_group_info_counts_frozen_copies():
    net, ids = residual(repeat=4)
    net.set_frozen([ids["conv1"]], True)
    info = net.infer().groups["g1"]
    assert info.frozen_params == 4 * 584 and net.infer().frozen_params == 4 * 584


def test_group_info_of_a_group_with_several_ports():
    net, ids = residual()
    net.set_members("g1", [ids["conv1"], ids["bn1"]])
    net.set_group("g1", repeat=1)
    cut = net.add_node("Split", {"sizes": (3, 5), "dim": 0})
    net.connect(ids["bn1"], cut.id)
    net.add_group([cut.id, ids["stem"]], name="cut")
    info = net.infer().groups
    assert info["g1"].in_shapes == ((8, 32, 32),) and info["g1"].outputs == ((8, 32, 32),)
    assert info["g2"].in_shapes == ((3, 32, 32), (8, 32, 32)) and info["g2"].outputs == ((8, 32, 32),)
    assert info["g2"].member_warnings == 1  # the Split leads nowhere


def shape_changing():
    net, ids = chain("Conv2d", "ReLU", "Flatten", "Linear")
    net.set_params(ids[1], CONV8)
    net.add_group(ids[1:3], name="grow", repeat=2)
    return net, ids


def test_a_repeated_block_must_give_back_the_shape_it_takes():
    net, ids = shape_changing()
    message = ("group 'grow' repeats 2 times, so it must give back the shape it takes: it takes 3×32×32 and "
               "gives 8×32×32")
    assert problems(net) == [("g1", message, "error")]
    inference = net.infer()
    assert inference.groups["g1"].error == message and inference.flat is net  # nothing was copied
    assert inference.groups["g1"].layers == 2 and inference.groups["g1"].copies == {ids[1]: [], ids[2]: []}
    with pytest.raises(NetworkError, match="gives 8×32×32"):
        net.build()
    net.set_group("g1", repeat=1)
    assert net.infer().ok
    net.set_group("g1", repeat=2)
    net.set_params(ids[1], {"out_channels": 3})
    assert net.infer().ok and len(net.infer().flat.nodes) == 8


def test_a_repeated_block_must_take_one_input():
    net, ids = residual()
    net.set_members("g1", [ids[n] for n in ("bn1", "relu1", "conv2", "add", "relu2")])  # add reads stem, bn1 conv1
    assert problems(net) == [("g1", "group 'block' repeats 3 times, so it must take one input; it takes 2",
                              "error")]
    assert net.infer().groups["g1"].in_shapes == ((8, 32, 32), (8, 32, 32))


def test_a_repeated_block_must_give_one_output():
    net, ids = residual()
    extra = net.add_node("Concat", {"dim": 0})  # reads relu1 (inside) and relu2 (the block's output)
    net.connect(ids["relu1"], extra.id)
    net.connect(ids["relu2"], extra.id)
    net.disconnect(net.input_edges(ids["pool"])[0])
    net.connect(extra.id, ids["pool"])
    message = "group 'block' repeats 3 times, so it must give one output; it gives 2"
    assert problems(net) == [("g1", message, "error")]
    assert net.infer().groups["g1"].outputs == ((8, 32, 32), (8, 32, 32))


def test_a_block_not_used_yet_repeats_from_the_member_nothing_reads():
    net, ids = chain("Conv2d", "ReLU")
    net.set_params(ids[1], {"out_channels": 3, "kernel_size": 1})
    loose = [net.add_node("Conv2d", {"out_channels": 3, "kernel_size": 1}).id, net.add_node("Tanh").id]
    net.connect(ids[2], loose[0])
    net.connect(loose[0], loose[1])
    net.add_group(loose, name="unused", repeat=3)
    inference = net.infer()
    assert inference.groups["g1"].error is None and inference.groups["g1"].layers == 6
    assert inference.flat.predecessors(copy_id(loose[0], 2)) == [loose[1]]
    dead = net.add_node("Identity")
    net.connect(loose[0], dead.id)
    net.set_members("g1", [*loose, dead.id])
    assert ("g1", "group 'unused' repeats 3 times, so it must give one output; it gives 2", "error") in problems(net)


def test_copies_may_not_take_a_name_that_is_taken():
    net, ids = residual()
    net.rename(ids["fc"], "conv1_r3")
    assert problems(net) == [("g1", "group 'block': copy 3 of 'conv1' would be named 'conv1_r3', which is taken; "
                                    "rename one", "error")]
    net.rename(ids["fc"], "fc")
    net.add_group([ids["fc"]], name="relu2_r2")
    assert problems(net)[0][1] == "group 'block': copy 2 of 'relu2' would be named 'relu2_r2', which is taken; " \
                                  "rename one"
    net.remove_group("g2")
    net.rename(ids["conv1"], "c" * 198)
    assert problems(net) == [("g1", f"group 'block': the name '{'c' * 198}' is too long to number its copies; "
                                    "shorten it", "error")]


def test_copies_may_not_take_an_id_that_is_taken():
    """Ids come from files too, so ``conv1``'s copy id may be a node's already: refused, never overwritten."""
    net, ids = residual(repeat=2)
    squatter = net.add_node("Identity", name="squatter", node_id=copy_id(ids["conv1"], 2))
    message = f"group 'block': copy 2 of 'conv1' would have the id '{squatter.id}', which Identity 'squatter' has"
    assert any(p[0] == "g1" and p[1].startswith(message) for p in problems(net)), problems(net)
    assert net.infer().flat is net


def test_the_copies_of_all_groups_count_against_the_node_limit(monkeypatch):
    monkeypatch.setattr(groups_module, "MAX_NODES", 40)
    net, ids = residual(repeat=3)
    last = net.add_node("Identity", name="last")  # 13 + 12 layers
    net.disconnect(net.input_edges(ids["output"])[0])
    net.connect(ids["fc"], last.id)
    net.connect(last.id, ids["output"])
    net.add_group([last.id], name="head", repeat=15)  # 14 more: 39
    assert net.infer().ok and len(net.infer().flat.nodes) == 39
    net.set_group("g2", repeat=17)
    assert problems(net) == [("g2", "group 'head' repeated 17 times makes 41 layers, over the 40 a network may "
                                    "have", "error")]


def test_copies_list_their_problems_once():
    net, ids = residual()
    dead = net.add_node("Conv2d", {"in_channels": 5, "out_channels": 2, "kernel_size": 1}, name="dead")
    net.connect(ids["relu1"], dead.id)
    net.set_members("g1", [*net.group("g1").members, dead.id])
    found = problems(net)
    assert [p[0] for p in found] == [dead.id, dead.id], found  # its error and its warning, for one copy only
    assert {p[2] for p in found} == {"error", "warning"}
    assert not any("~" in (p[0] or "") or "_r2" in p[1] for p in found)
    info = net.infer().groups["g1"]
    assert (info.member_errors, info.member_warnings, info.error) == (1, 1, None)
    assert info.layers == 21  # the block repeats: its problem is its own layer's


def test_problems_upstream_leave_the_repeat_unchecked():
    net, ids = residual()
    net.set_params(ids["stem"], {"in_channels": 4})
    found = problems(net)
    assert [p[0] for p in found] == [ids["stem"]]  # no "gives back the shape" error for a block with no shape
    info = net.infer().groups["g1"]
    assert info.in_shapes == (None,) and info.error is None and info.layers == 6


# ----- the layout -----
def test_a_collapsed_group_is_laid_out_as_one_box_and_its_members_from_it():
    net, ids = residual()
    nodes, boxes = grouped_positions(net)
    x = [k * LAYER_SPACING for k in range(8)]
    assert boxes == {"g1": (x[2], 0.0)}
    assert [nodes[ids[n]] for n in ("input", "stem", "pool", "flat", "fc", "output")] == [
        (x[0], 0.0), (x[1], 0.0), (x[3], 0.0), (x[4], 0.0), (x[5], 0.0), (x[6], 0.0)]
    assert [nodes[ids[n]] for n in BLOCK] == [(x[2] + k * LAYER_SPACING, 0.0) for k in range(6)]
    old_nodes, old_groups = net.layout()
    assert old_groups == {"g1": (0.0, 0.0)} and set(old_nodes) == set(ids.values())
    assert net.group("g1").position == (x[2], 0.0) and net.nodes[ids["pool"]].position == (x[3], 0.0)
    box, cut, nodes, boxes = fold_moves(net, net.group("g1"))  # unfolding moves what is right of the box
    assert box == (x[2], 0.0) and cut == 0.0 and boxes == {}
    assert nodes == {ids[n]: (net.nodes[ids[n]].position[0] + 5 * LAYER_SPACING, 0.0)
                     for n in ("pool", "flat", "fc", "output")}
    net.set_group("g1", collapsed=False)
    nodes, boxes = grouped_positions(net)
    assert nodes == layered_positions(net) and boxes == {"g1": (x[2], 0.0)}  # an open group's box: its corner


def fold(net, group_id):
    box, cut, nodes, boxes = fold_moves(net, net.group(group_id))
    net.set_group(group_id, collapsed=not net.group(group_id).collapsed, position=box, fold_cut=cut)
    net.move_many(nodes)
    assert boxes == {}
    return box


def test_folding_closes_up_only_beyond_other_layers_in_the_groups_columns_and_unfolding_gives_them_back():
    """A main row c1 → c2 → c3 with a branch p1 → p2 → p3 below it; grouping c1 and c2 must not stack p3 on p2."""
    net = Network()
    ids = {"input": net.add_node("Input", CIFAR, name="input").id}
    for name in ("c1", "c2", "c3", "p1", "p2", "p3"):
        ids[name] = net.add_node("ReLU", name=name).id
    for a, b in (("input", "c1"), ("c1", "c2"), ("c2", "c3"), ("input", "p1"), ("p1", "p2"), ("p2", "p3")):
        net.connect(ids[a], ids[b])
    net.layout()
    net.add_group([ids["c1"], ids["c2"]], name="pair", group_id="g1", collapsed=False)
    before = {i: n.position for i, n in net.nodes.items()}
    fold(net, "g1")
    assert net.group("g1").fold_cut == LAYER_SPACING  # p2 sits in the group's second column
    outside = [net.nodes[ids[n]].position for n in ("input", "c3", "p1", "p2", "p3")]
    assert len(outside) == len(set(outside)) and net.nodes[ids["p3"]].position == before[ids["p3"]]  # not on p2
    saved = network_from_json(json.loads(json.dumps(network_to_json(net))))
    assert saved.group("g1").fold_cut == LAYER_SPACING  # kept in the file while folded
    fold(net, "g1")
    assert {i: n.position for i, n in net.nodes.items()} == before and net.group("g1").fold_cut == 0.0


def test_unfolding_then_folding_gives_back_the_layout():
    net, ids = residual(repeat=1)
    net.layout()
    before = {i: n.position for i, n in net.nodes.items()}
    fold(net, "g1")
    assert net.nodes[ids["pool"]].position[0] > before[ids["pool"]][0]  # made room for the open group
    fold(net, "g1")
    assert {i: n.position for i, n in net.nodes.items()} == before


def test_folding_puts_the_box_where_the_layers_are_and_closes_up_what_lies_beyond():
    net, _ = residual(repeat=1)
    net.layout()
    fold(net, "g1")
    for member in net.group("g1").members:  # the user moves the open group's layers down and right
        x, y = net.nodes[member].position
        net.move(member, (x + 120, y + 400))
    xs = [net.nodes[m].position[0] for m in net.group("g1").members]
    width, right = max(xs) - min(xs), max(xs)
    open_positions = {i: n.position for i, n in net.nodes.items()}
    box = fold(net, "g1")
    assert box == (min(xs), min(net.nodes[m].position[1] for m in net.group("g1").members))
    for i, (x, y) in open_positions.items():
        if i not in net.group("g1").members:
            assert net.nodes[i].position == ((x - width, y) if x > right else (x, y))


def test_the_layout_puts_a_branch_below_and_a_group_between_its_neighbours():
    net, ids = residual(repeat=1)
    net.set_members("g1", [ids["conv1"], ids["bn1"], ids["relu1"], ids["conv2"]])  # the shortcut goes round it
    nodes, boxes = grouped_positions(net)
    assert boxes["g1"][0] == 2 * LAYER_SPACING
    assert nodes[ids["add"]] == (3 * LAYER_SPACING, 0.0)
    members = [nodes[ids[n]] for n in ("conv1", "bn1", "relu1", "conv2")]
    assert members == [(boxes["g1"][0] + k * LAYER_SPACING, boxes["g1"][1]) for k in range(4)]
    again = residual(repeat=1)[0]
    again.add_group([again.node_by_name("fc").id], name="head")  # two boxes
    again.set_group("g1", collapsed=True)
    _, boxes = grouped_positions(again)
    assert boxes == {"g1": (2 * LAYER_SPACING, 0.0), "g2": (5 * LAYER_SPACING, 0.0)}


def test_a_group_that_leaves_its_path_and_comes_back_is_laid_out():
    net, ids = chain("ReLU", "Tanh", "Sigmoid")
    side = net.add_node("Identity")
    net.connect(ids[1], side.id)
    net.add_group([ids[1], ids[3]], name="apart")  # reads tanh, which reads relu: a cycle of boxes
    nodes, boxes = grouped_positions(net)
    assert set(nodes) == set(net.nodes) and set(boxes) == {"g1"}
    assert boxes["g1"] == (LAYER_SPACING, 0.0) and nodes[ids[1]] == boxes["g1"]  # relu, the first member, at the box
    assert nodes[ids[3]] == (LAYER_SPACING, ROW_SPACING)  # sigmoid reads no member: the box's first layer too
    shown = [boxes["g1"], *(nodes[i] for i in (ids[0], ids[2], ids[4], side.id))]
    assert len(set(shown)) == len(shown)  # what a collapsed group shows does not overlap
    assert nodes[ids[2]][0] > boxes["g1"][0] and nodes[side.id][0] > boxes["g1"][0]


# ----- the file -----
def grouped_document():
    net, ids = residual(repeat=3)
    net.set_group("g1", collapsed=False, position=(12.5, -40))
    net.add_group([ids["pool"], ids["flat"]], name="head", group_id="h7")
    return net


def test_version_3_round_trips_the_groups(tmp_path):
    net = grouped_document()
    data = network_to_json(net)
    assert data["version"] == VERSION == 3
    assert data["groups"] == [
        {"id": "g1", "name": "block", "members": ["n3", "n4", "n5", "n6", "n7", "n8"], "repeat": 3,
         "collapsed": False, "position": [12.5, -40.0]},
        {"id": "h7", "name": "head", "members": ["n9", "n10"], "repeat": 1, "collapsed": True,
         "position": [0.0, 0.0]}]
    again = network_from_json(json.loads(json.dumps(data)))
    assert again == net and network_to_json(again) == data and again.revision == 0
    save_network(net, tmp_path / "g.llnet")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loaded = load_network(tmp_path / "g.llnet")
    assert network_to_json(loaded) == data
    assert loaded.group_of("n5").name == "block" and loaded.infer().groups["g1"].layers == 18
    assert loaded.add_group(["n11"]).id == "g2"  # after the highest g-number taken


def test_version_2_files_open_without_groups():
    data = network_to_json(residual(group=False)[0])
    data["version"] = 2
    del data["groups"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = network_from_json(data)
    assert net.groups == {} and net.infer().ok
    assert network_to_json(net) == {**data, "version": 3, "groups": []}


def test_groups_left_out_take_their_defaults():
    data = network_to_json(residual(group=False)[0])
    data["groups"] = [{"id": "g1", "name": "block", "members": ["n3", "n4"]}]
    group = network_from_json(data).group("g1")
    assert (group.repeat, group.collapsed, group.position) == (1, True, (0.0, 0.0))


def with_group(**changes):
    data = network_to_json(grouped_document())
    data["groups"][0].update(changes)
    return data


def edited(change):
    data = network_to_json(grouped_document())
    change(data)
    return data


BROKEN = {
    "groups not a list": (edited(lambda d: d.update(groups={})), "'groups' must be a list, got {}"),
    "group not an object": (edited(lambda d: d["groups"].append("g3")), "group 3 must be a JSON object, got str"),
    "no id": (edited(lambda d: d["groups"][0].pop("id")), "group 1 has no 'id' field"),
    "empty id": (with_group(id=""), "group 1: an id has 1 to 200 characters, got ''"),
    "id not text": (with_group(id=1), "group 1: 'id' must be str, got 1"),
    "no name": (edited(lambda d: d["groups"][1].pop("name")), "group 2 has no 'name' field"),
    "members not a list": (with_group(members="n3"), "group 'block': 'members' must be list, got 'n3'"),
    "member not an id": (with_group(members=["n3", 4]), "group 'block': 'members' must be a list of node ids"),
    "no members": (with_group(members=[]), "group 'block': a group needs at least one layer"),
    "unknown member": (with_group(members=["n3", "n99"]),
                       "group 'block': a group's member 'n99' is not a node of this network"),
    "member twice": (with_group(members=["n3", "n4", "n3"]), "group 'block': a group lists a layer twice"),
    "member in two groups": (with_group(members=["n3", "n9"]),
                             "group 'head': AdaptiveAvgPool2d 'pool' already belongs to group 'block'"),
    "the Input": (with_group(members=["n1", "n3"]), "group 'block': Input 'input' stays outside groups"),
    "repeat 0": (with_group(repeat=0), "group 'block': a group's repeat count is a whole number from 1 to 64, got 0"),
    "repeat 65": (with_group(repeat=65), "group 'block': a group's repeat count is a whole number from 1 to 64"),
    "repeat true": (with_group(repeat=True), "group 'block': 'repeat' must be int, got True"),
    "repeat 2.0": (with_group(repeat=2.0), "group 'block': 'repeat' must be int, got 2.0"),
    "collapsed 1": (with_group(collapsed=1), "group 'block': 'collapsed' must be bool, got 1"),
    "short position": (with_group(position=[1]), "group 'block': 'position' must be [x, y], got [1]"),
    "position text": (with_group(position="12"), "group 'block': 'position' must be [x, y], got '12'"),
    "position bools": (with_group(position=[True, False]), "group 'block': 'position' must be [x, y]"),
    "name not text": (with_group(name=["block"]), "group 1: 'name' must be str, got ['block']"),
    "invalid name": (with_group(name="my block"), "group 'my block': 'my block' is not a valid name"),
    "empty name": (with_group(name=""), "group '': '' is not a valid name"),
    "name of a node": (with_group(name="conv1"), "group 'conv1': the name 'conv1' is already used by Conv2d 'conv1'"),
    "name of a group": (edited(lambda d: d["groups"][1].update(name="block")),
                        "group 'block': the name 'block' is already used by group 'block'"),
    "id twice": (edited(lambda d: d["groups"][1].update(id="g1")), "group 'head': a group with id 'g1' already exists"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_malformed_groups_are_refused_naming_the_group(case, tmp_path):
    data, message = BROKEN[case]
    path = tmp_path / "broken.llnet"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(NetworkFileError) as info:
        load_network(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value), str(info.value)


def test_a_refused_group_leaves_the_open_document_as_it_was():
    net = grouped_document()
    before = network_to_json(net)
    with pytest.raises(NetworkFileError):
        net.assign(network_from_json(with_group(members=["n3", "n99"])))
    assert network_to_json(net) == before


def test_unknown_group_keys_warn_and_still_load():
    data = edited(lambda d: (d["groups"][0].update(colour="red"), d["groups"][1].update(note=1)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = network_from_json(data, "g.llnet")
    messages = [str(w.message) for w in caught if issubclass(w.category, FileWarning)]
    assert messages == ["g.llnet: unknown keys 'colour', 'note' in groups 'block', 'head'; ignored"]
    assert network_to_json(net) == network_to_json(grouped_document())


def test_a_newer_version_is_refused():
    data = edited(lambda d: d.update(version=VERSION + 1))
    with pytest.raises(NetworkFileError, match=f"the file is version {VERSION + 1}, newer than this LayerLab"):
        network_from_json(data)


def long_grouped_chain(n, repeat=1):
    """Input → n - 2 ReLUs → Output as a file, the ReLUs in groups of two."""
    ids = [f"n{k}" for k in range(1, n + 1)]
    types = ["Input"] + ["ReLU"] * (n - 2) + ["Output"]
    nodes = [{"id": i, "type": t, "name": f"{t.lower()}{k}"} for k, (i, t) in enumerate(zip(ids, types))]
    edges = [{"from": a, "to": b} for a, b in itertools.pairwise(ids)]
    groups = [{"id": f"g{j}", "name": f"group{j}", "members": ids[1 + 2 * j:3 + 2 * j], "repeat": repeat}
              for j in range((n - 2) // 2)]
    return {"format": "layerlab.network", "version": 3, "nodes": nodes, "edges": edges, "groups": groups}


def timed(work):
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        result = work()
        return result, time.perf_counter() - start
    finally:
        gc.enable()


def test_many_groups_load_and_repeat_in_linear_time():
    """Thousands of groups (a file may hold them): loading and inferring stay linear, not a search per group."""
    small, big = long_grouped_chain(1_002, repeat=2), long_grouped_chain(10_002, repeat=2)
    t_small = min(timed(lambda: network_from_json(small))[1] for _ in range(3))
    net, t_big = timed(lambda: network_from_json(big))
    assert len(net.groups) == 5_000 and t_big < 10 and t_big < 30 * t_small, (t_small, t_big)
    small_net = network_from_json(small)
    i_small = min(timed(lambda: infer(small_net))[1] for _ in range(3))
    inference, i_big = timed(lambda: infer(net))
    assert len(inference.flat.nodes) == 20_002 and i_big < 10 and i_big < 30 * i_small, (i_small, i_big)
    l_small = min(timed(lambda: grouped_positions(small_net))[1] for _ in range(3))
    _, l_big = timed(lambda: grouped_positions(net))
    assert l_big < 10 and l_big < 30 * l_small, (l_small, l_big)


# ----- the clipboard -----
def test_copy_takes_whole_groups_and_paste_gives_them_fresh_names_and_ids():
    net, ids = residual()
    net.add_group([ids["pool"], ids["flat"]], name="head")
    net.set_group("g1", position=(100, 200), collapsed=False)
    chosen = [ids[n] for n in (*BLOCK, "pool")]  # all of block, half of head
    fragment = copy_fragment(net, chosen)
    assert [g["name"] for g in fragment["groups"]] == ["block"]
    assert json.loads(json.dumps(fragment)) == fragment
    rec = Recorder(net)
    added = paste_fragment(net, fragment, offset=(40, 40))
    assert rec.names().count("changed") == 1
    mapping = dict(zip(chosen, (n.id for n in added)))
    assert list(net.groups) == ["g1", "g2", "g3"]
    pasted = net.group("g3")
    assert pasted.name == "block1" and pasted.members == [mapping[ids[n]] for n in BLOCK]
    assert (pasted.repeat, pasted.collapsed, pasted.position) == (3, False, (140.0, 240.0))
    assert net.group("g1").members == [ids[n] for n in BLOCK]  # the original is untouched
    assert [n.name for n in added[:2]] == ["conv3", "bn2"]
    again = paste_fragment(net, fragment)
    assert net.group_of(again[0].id).name == "block2"
    assert net.infer().groups["g3"].error == ("group 'block1' repeats 3 times, so it must take one input; "
                                              "it takes 0")  # the pasted block is not connected yet
    other = Network()
    paste_fragment(other, fragment)
    assert [g.name for g in other.groups.values()] == ["block"]


def test_paste_renames_a_group_whose_name_a_node_has():
    net, ids = residual()
    fragment = copy_fragment(net, [ids[n] for n in BLOCK])
    target, target_ids = chain("ReLU")
    target.rename(target_ids[1], "block")
    paste_fragment(target, fragment)
    assert [g.name for g in target.groups.values()] == ["block1"]


def test_a_fragment_with_a_group_of_missing_members_is_refused():
    net, ids = residual()
    fragment = copy_fragment(net, [ids[n] for n in BLOCK])
    fragment["groups"][0]["members"].append("n11")
    with pytest.raises(NetworkFileError, match="^clipboard: group 'block': a group's member 'n11' is not a node"):
        paste_fragment(net, fragment)
    assert list(net.groups) == ["g1"] and len(net.nodes) == 12
    assert fragment_from_json(copy_fragment(net, [ids["conv1"]]))


def test_copy_names_and_ids():
    assert copy_name("conv1", 2) == "conv1_r2" and copy_id("n3", 12) == "n3~12"
