"""The automatic layout and the templates' layout agree: a chain stays on one row (the canvas scrolls)
instead of wrapping into a long diagonal connection, and a branch takes the row below its main path; a
collapsed group is one box, its members laid out among themselves from it."""

from itertools import pairwise

from engine.graph import Network
from engine.graph.layout import LAYER_SPACING, ROW_SPACING, grouped_positions, layered_positions
from engine.graph.templates import load_template


def test_each_template_is_laid_out_as_auto_layout_would(template):
    positions = {node_id: node.position for node_id, node in template.nodes.items()}
    boxes = {group_id: group.position for group_id, group in template.groups.items()}
    assert (positions, boxes) == grouped_positions(template)


def drawn_position(net, node_id, other):
    """Where a connection between ``node_id`` and ``other`` is drawn from: its collapsed group's box, unless
    both are inside that group (then it is seen expanded)."""
    group = net.group_of(node_id)
    if group is not None and group.collapsed and net.group_of(other) is not group:
        return group.position
    return net.nodes[node_id].position


def test_no_template_connection_runs_far_diagonally(template):
    for e in template.edges:
        (x1, y1), (x2, y2) = drawn_position(template, e.src, e.dst), drawn_position(template, e.dst, e.src)
        assert x2 > x1, e  # left to right: no wrap back to the start of a row
        assert abs(y2 - y1) <= ROW_SPACING, e  # at most one row up or down


def test_a_long_chain_stays_on_one_row():
    net = Network()
    ids = [net.add_node("Input").id] + [net.add_node("ReLU").id for _ in range(30)]
    for a, b in pairwise(ids):
        net.connect(a, b)
    positions = layered_positions(net)
    assert {y for _, y in positions.values()} == {0.0}
    assert [positions[i][0] for i in ids] == [k * LAYER_SPACING for k in range(len(ids))]


def test_residual_main_path_stays_straight_and_its_projection_goes_below():
    net = load_template("resnet_cifar10")
    positions = layered_positions(net)
    projections = {n.id for n in net.nodes.values() if n.name.endswith(("_proj", "_proj_bn"))}
    assert projections
    for node_id, (_, y) in positions.items():
        assert y == (ROW_SPACING if node_id in projections else 0.0), net.nodes[node_id].name
