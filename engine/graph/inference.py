"""Validation and shape inference over a whole network at once.

Every node gets a ``NodeInfo``: its output shape, parameter count and MACs, or the error that stops it.
An error stays on its node; nodes downstream of it get no shape (``blocked``) but no error of their own,
and the rest of the graph is inferred as usual. Graph-level problems (no Input, two Outputs, layers
that do not reach the Output) are listed too. One pass in topological order: linear in the graph size.
"""

from dataclasses import dataclass, field

from .catalogue import ShapeError
from .datasets import DATASETS


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
