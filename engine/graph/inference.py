"""Validation and shape inference over a whole network at once.

Every node gets a ``NodeInfo``: its output shape, parameter count and MACs, or the error that stops it.
An error stays on its node; nodes downstream of it get no shape (``blocked``) but no error of their own,
and the rest of the graph is inferred as usual. Graph-level problems (no Input, two Outputs, layers
that do not reach the Output) are listed too. One pass in topological order: linear in the graph size.

Groups with a repeat count are checked on the document as drawn (one copy), then the network is inferred
again with their copies (``groups.repeated_network``): ``Inference.flat`` is the network that computes the
document, which the build and the exporters run. A group that cannot repeat gets an error and is not
copied. Every group gets a ``GroupInfo``.
"""

from dataclasses import dataclass, field

from .catalogue import ShapeError
from .datasets import DATASETS
from .groups import (
    GroupInfo,
    RepeatPlan,
    block_ends,
    copies_problem,
    copy_id,
    group_ports,
    inner_reads,
    repeated_network,
)


@dataclass
class NodeInfo:
    shape: tuple | None = None  # output shape without the batch dimension (the first output's)
    outputs: tuple = ()  # the shape of each output (Split and Chunk have several)
    params: int = 0
    macs: int = 0
    error: str | None = None
    warning: str | None = None
    blocked: bool = False  # an input has no shape because of a problem upstream
    in_shapes: tuple = ()
    frozen: bool = False  # the node's parameters take no updates in training


@dataclass(frozen=True)
class Problem:
    node_id: str | None
    message: str
    severity: str = "error"  # 'error' stops build and export; 'warning' does not


@dataclass
class Inference:
    revision: int  # the network's revision when computed; it stays current through moves, which change no shape
    nodes: dict = field(default_factory=dict)  # node id -> NodeInfo
    problems: list = field(default_factory=list)
    used: frozenset = frozenset()  # ids of the nodes the Output depends on
    flat: object = None  # the Network that computes the document: with the copies of repeated groups
    groups: dict = field(default_factory=dict)  # group id -> GroupInfo
    ports: dict = field(default_factory=dict)  # group id -> its Ports (groups.group_ports)

    @property
    def errors(self):
        return [p for p in self.problems if p.severity == "error"]

    @property
    def ok(self):
        return not self.errors

    @property
    def total_params(self):
        return sum(self.nodes[i].params for i in self.used)

    @property
    def frozen_params(self):
        return sum(self.nodes[i].params for i in self.used if self.nodes[i].frozen)

    @property
    def total_macs(self):
        return sum(self.nodes[i].macs for i in self.used)


def _ancestors(incoming, node_id):
    seen, stack = set(), [node_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(e.src for e in incoming[current])
    return seen


def _graph_problems(network, result, incoming):
    problems = []
    inputs, outputs = network.nodes_of_type("Input"), network.nodes_of_type("Output")
    if not inputs:
        problems.append(Problem(None, "the network has no Input node"))
    if not outputs:
        problems.append(Problem(None, "the network has no Output node"))
    for extra in inputs[1:]:
        problems.append(Problem(extra.id, f"{extra.label()}: a network has one Input; remove this one"))
    for extra in outputs[1:]:
        problems.append(Problem(extra.id, f"{extra.label()}: a network has one Output; remove this one"))
    if outputs:
        used = _ancestors(incoming, outputs[0].id)
        result.used = frozenset(used)
        if inputs and inputs[0].id not in used:
            problems.append(Problem(outputs[0].id, f"{outputs[0].label()} is not connected to the Input"))
        for node in network.nodes.values():
            if node.id not in used and node.type not in ("Input", "Output"):
                message = f"{node.label()} does not lead to the Output and is left out of the model"
                result.nodes[node.id].warning = message
                problems.append(Problem(node.id, message, "warning"))
    else:
        result.used = frozenset(network.nodes)
    return problems


def output_shapes(lt, params, in_shapes, context):
    """One shape per output of a node (``lt.infer``'s result, checked against ``lt.output_count``)."""
    shape = lt.infer(params, in_shapes, context)
    if not lt.multi_output:
        return (tuple(shape),)
    shapes = tuple(tuple(s) for s in shape)
    if len(shapes) != lt.output_count(params):
        raise AssertionError(f"{lt.name}: infer gave {len(shapes)} outputs, not {lt.output_count(params)}")
    return shapes


def infer(network):
    first = _infer_flat(network)
    first.flat = network
    ports = group_ports(network)
    plans, refusals = _repeat_plans(network, first, ports)
    result = first
    if plans:
        flat = repeated_network(network, plans)
        result = _infer_flat(flat)
        result.revision, result.flat = network.revision, flat
        copies = {copy_id(m, k) for plan in plans for m in plan.group.members for k in range(2, plan.group.repeat + 1)}
        # every copy takes the shape its block takes, so its problems are the block's: listed once
        result.problems = [p for p in result.problems if p.node_id not in copies]
    result.problems = [*refusals, *result.problems]
    result.ports = ports
    result.groups = _group_infos(network, result, {plan.group.id for plan in plans}, refusals)
    return result


def _repeat_plans(network, first, ports):
    """The ``RepeatPlan`` of each group that repeats, and a ``Problem`` for each that cannot."""
    plans, refusals = [], []
    if all(group.repeat == 1 for group in network.groups.values()):
        return plans, refusals
    read_inside = inner_reads(network)
    taken = {n.name for n in network.nodes.values()} | {g.name for g in network.groups.values()}
    size = len(network.nodes)  # with the copies planned so far
    for group in network.groups.values():
        if group.repeat == 1:
            continue
        entry, exit_, problem = block_ends(group, ports[group.id], read_inside)
        if problem is None:
            takes, gives = _port_shape(first, entry), _port_shape(first, exit_)
            if takes is None or gives is None:
                continue  # an error upstream or inside is reported where it is
            if takes != gives:
                problem = (f"{group.label()} repeats {group.repeat} times, so it must give back the shape it takes: "
                           f"it takes {_shape_text(takes)} and gives {_shape_text(gives)}")
        problem = problem or copies_problem(network, group, taken, size)
        if problem:
            refusals.append(Problem(group.id, problem))
        else:
            plans.append(RepeatPlan(group, entry, exit_))
            size += len(group.members) * (group.repeat - 1)
    return plans, refusals


def _port_shape(result, port):
    node_id, output = port
    outputs = result.nodes[node_id].outputs
    return outputs[output] if len(outputs) > output else None


def _shape_text(shape):
    return "×".join(map(str, shape)) if shape else "a scalar"


def _group_infos(network, result, copied, refusals):
    ports = result.ports
    errors = {p.node_id: p.message for p in refusals}
    infos = {}
    for group in network.groups.values():
        count = group.repeat if group.id in copied else 1
        info = GroupInfo(error=errors.get(group.id), layers=len(group.members) * count)
        for member in group.members:
            ids = [member, *(copy_id(member, k) for k in range(2, count + 1))]
            info.copies[member] = ids[1:]
            for node_id in ids:
                node_info = result.nodes[node_id]
                info.params += node_info.params
                info.macs += node_info.macs
                info.frozen_params += node_info.params if node_info.frozen else 0
            first = result.nodes[member]
            info.member_errors += first.error is not None
            info.member_warnings += first.warning is not None
        info.in_shapes = tuple(_port_shape(result, port) for port in ports[group.id].inputs)
        last = {member: ids[-1] for member, ids in info.copies.items() if ids}
        info.outputs = tuple(_port_shape(result, (last.get(m, m), out)) for m, out in ports[group.id].outputs)
        infos[group.id] = info
    return infos


def _infer_flat(network):
    result = Inference(network.revision)
    first_input = network.input_node()
    dataset = DATASETS[first_input.params["dataset"]] if first_input is not None else None
    context = {"dataset": dataset.name if dataset else None, "num_classes": dataset.num_classes if dataset else None}
    incoming = network.feeds()
    node_problems = []
    for node_id in network.topological_order():
        node = network.nodes[node_id]
        lt = node.layer_type
        info = result.nodes[node_id] = NodeInfo(frozen=node.frozen)
        edges = incoming[node_id]
        if len(edges) < lt.min_inputs:
            need = "an input" if lt.min_inputs == 1 else f"at least {lt.min_inputs} inputs"
            info.error = f"needs {need}" + (f" (has {len(edges)})" if edges else "")
            node_problems.append(Problem(node_id, f"{node.label()} {info.error}"))
            continue
        in_shapes = tuple(result.nodes[e.src].outputs[e.out_port] if result.nodes[e.src].outputs else None
                          for e in edges)
        if any(s is None for s in in_shapes):
            info.blocked = True
            continue
        info.in_shapes = in_shapes
        try:
            outputs = output_shapes(lt, node.params, in_shapes, context)
        except ShapeError as e:
            info.error = str(e)
            node_problems.append(Problem(node_id, f"{node.label()}: {e}"))
            continue
        info.outputs, info.shape = outputs, outputs[0]
        out_shape = outputs if lt.multi_output else info.shape
        info.params = lt.count_params(node.params, in_shapes, out_shape)
        info.macs = lt.count_macs(node.params, in_shapes, out_shape)
    result.problems = _graph_problems(network, result, incoming) + node_problems
    return result
