"""Groups: named sets of a network's layer nodes, drawn as one box with the group's ports, and repeat blocks.

A group annotates the flat graph; it changes what is computed only through its ``repeat`` count, which
stacks that many copies of the block one after another. A node belongs to at most one group, and the Input
and Output stay outside groups. A group's ports follow from its connections: an input port for each
outside output that feeds its members, an output port for each member output used outside.

Copies are made when the network is computed (``repeated_network``), never stored: the first copy is the
block itself, copy ``k`` of node ``conv1`` is named ``conv1_r{k}`` (the name of its weights) and has id
``{id}~{k}``. A repeated block must have one input and one output, and give back the shape it takes.
"""

from dataclasses import dataclass, field, replace

from .limits import MAX_NAME_LENGTH, MAX_NODES

MAX_REPEAT = 64


@dataclass
class Group:
    id: str
    name: str
    members: list  # node ids, in the order they were grouped
    repeat: int = 1
    collapsed: bool = True  # drawn as one box; expanded, its members are drawn inside a frame
    position: tuple = (0.0, 0.0)  # of the collapsed box
    fold_cut: float = 0.0  # collapsed: how far right of the box the layout was closed up from (layout.fold_moves)

    def label(self):
        return f"group '{self.name}'"


@dataclass(frozen=True)
class Ports:
    """``inputs``: ``(node id, output)`` of each outside value the members read; ``outputs``: ``(member id,
    output)`` of each member value read outside; both in the order of the document's connections."""

    inputs: tuple = ()
    outputs: tuple = ()


def copy_id(node_id, k):
    return f"{node_id}~{k}"


def copy_name(name, k):
    return f"{name}_r{k}"


def copy_of(network, node_id):
    """``(document node id, copy number)`` of a node of the computed network (copy 1: the block itself)."""
    base, mark, k = node_id.rpartition("~")
    return (base, int(k)) if node_id not in network.nodes and mark and k.isdigit() else (node_id, 1)


def membership(groups):
    """``{node id: group id}``."""
    return {member: group.id for group in groups.values() for member in group.members}


def group_ports(network, groups=None):
    """``{group id: Ports}`` for every group, in one pass over the connections."""
    groups = network.groups if groups is None else groups
    owner = membership(groups)
    inputs = {gid: {} for gid in groups}  # dicts as ordered sets
    outputs = {gid: {} for gid in groups}
    for e in network.edges:
        src_group, dst_group = owner.get(e.src), owner.get(e.dst)
        if src_group == dst_group:
            continue
        if dst_group is not None:
            inputs[dst_group][(e.src, e.out_port)] = None
        if src_group is not None:
            outputs[src_group][(e.src, e.out_port)] = None
    return {gid: Ports(tuple(inputs[gid]), tuple(outputs[gid])) for gid in groups}


@dataclass(frozen=True)
class RepeatPlan:
    """How a valid repeated group is stacked: its input ``entry`` and its output ``exit`` (``(node id,
    output)`` each)."""

    group: Group
    entry: tuple
    exit: tuple


def block_ends(group, ports, read_inside):
    """``(entry, exit, problem)`` of a group to be repeated: its one input, its one output, or why not.
    ``read_inside``: the ids of the nodes whose value a node of their own group reads (``inner_reads``)."""
    if len(ports.inputs) != 1:
        return None, None, (f"{group.label()} repeats {group.repeat} times, so it must take one input; "
                            f"it takes {len(ports.inputs)}")
    exits = ports.outputs
    if not exits:  # not used outside yet: the member whose value nothing inside reads
        exits = tuple((m, 0) for m in group.members if m not in read_inside)
    if len(exits) != 1:
        return None, None, (f"{group.label()} repeats {group.repeat} times, so it must give one output; "
                            f"it gives {len(exits)}")
    return ports.inputs[0], exits[0], None


def inner_reads(network):
    """The ids of the grouped nodes whose value a node of the same group reads, in one pass."""
    owner = membership(network.groups)
    return {e.src for e in network.edges if e.src in owner and owner[e.src] == owner.get(e.dst)}


def copies_problem(network, group, taken, size):
    """Why the names, ids or number of ``group``'s copies do not fit the network, or None. ``taken``: the
    names of its nodes and groups; ``size``: its layers, the copies of the groups already planned counted."""
    extra = len(group.members) * (group.repeat - 1)
    if size + extra > MAX_NODES:
        return (f"{group.label()} repeated {group.repeat} times makes {size + extra:,} layers, over "
                f"the {MAX_NODES:,} a network may have")
    for member in group.members:
        name = network.nodes[member].name
        for k in range(2, group.repeat + 1):
            copy = copy_name(name, k)
            if copy in taken:
                return f"{group.label()}: copy {k} of '{name}' would be named '{copy}', which is taken; rename one"
            if len(copy) > MAX_NAME_LENGTH:
                return f"{group.label()}: the name '{name}' is too long to number its copies; shorten it"
            other = network.nodes.get(copy_id(member, k))
            if other is not None:
                return (f"{group.label()}: copy {k} of '{name}' would have the id '{copy_id(member, k)}', which "
                        f"{other.label()} has; give that node another id")
    return None


def repeated_network(network, plans):
    """A new flat Network (sharing the Node objects of ``network``) in which every ``RepeatPlan``'s block is
    followed by its copies: copy ``k`` reads copy ``k - 1``'s exit where the block reads its entry, and what
    read the block's exit reads the last copy's. Linear in the size of the result."""
    nodes, edges = dict(network.nodes), []
    owner, last = {}, {}
    for plan in plans:
        for member in plan.group.members:
            owner[member] = plan
        exit_id, exit_out = plan.exit
        last[plan.exit] = (copy_id(exit_id, plan.group.repeat), exit_out)
    inbound = {plan.group.id: [] for plan in plans}  # the edges into each block's members, in order
    for e in network.edges:
        plan = owner.get(e.dst)
        if plan is not None:
            inbound[plan.group.id].append(e)
        plan = owner.get(e.src)
        if plan is not None and (e.src, e.out_port) == plan.exit and owner.get(e.dst) is not plan:
            src, out = last[plan.exit]
            e = replace(e, src=src, out_port=out)
        edges.append(e)
    for plan in plans:
        group = plan.group
        for k in range(2, group.repeat + 1):
            for member in group.members:
                node = network.nodes[member]
                nodes[copy_id(member, k)] = replace(node, id=copy_id(member, k), name=copy_name(node.name, k))
            for e in inbound[group.id]:
                if owner.get(e.src) is plan:
                    edges.append(replace(e, src=copy_id(e.src, k), dst=copy_id(e.dst, k)))
                else:  # the entry: the previous copy's exit instead
                    previous = plan.exit[0] if k == 2 else copy_id(plan.exit[0], k - 1)
                    edges.append(replace(e, src=previous, dst=copy_id(e.dst, k), out_port=plan.exit[1]))
    return type(network)(network.title, network.description, nodes, edges, network.settings)


@dataclass
class GroupInfo:
    """What a collapsed group shows: the shape of each input and output port (after the last copy), the
    parameters and MACs of every copy together, its own problem, and how many of its layers have errors."""

    in_shapes: tuple = ()
    outputs: tuple = ()
    params: int = 0
    macs: int = 0
    frozen_params: int = 0
    error: str | None = None
    member_errors: int = 0
    member_warnings: int = 0
    layers: int = 0  # layer nodes with every copy counted
    copies: dict = field(default_factory=dict)  # member id -> [its copies' ids]
