"""A valid network document becomes an ``engine.nn.Module`` that runs its DAG in topological order.

Each layer node is a sub-module registered under the node's name, so ``state_dict`` keys are
``conv1.weight``, ``bn1.running_mean``...: weights saved from the module load back into a module built
from the same document, and into the PyTorch code the exporter writes. Only the nodes the Output depends
on are built. Intermediate values are dropped as soon as their last consumer has run. A frozen node's
parameters do not require gradients, so optimizers leave them as they are (its batch-norm statistics still
follow the data in training mode, as in PyTorch).
"""

from .. import nn
from .catalogue import ModuleCall
from .errors import NetworkError


def errors_text(inference, network):
    lines = [f"  - {p.message}" for p in inference.errors]
    return f"the network '{network.title}' has {len(lines)} error{'s' if len(lines) != 1 else ''}:\n" + "\n".join(
        lines)


def require_valid(network):
    """The network's inference, or ``NetworkError`` listing every error (for build and export)."""
    inference = network.infer()
    if not inference.ok:
        raise NetworkError(errors_text(inference, network))
    return inference


def make_module(call, namespace=nn):
    return getattr(namespace, call.cls)(*call.args, **call.kwargs)


def execution_plan(inference):
    """``[(node, inputs, slots to free after it)]`` for the nodes the Output needs, in order (repeated groups
    copied, as ``inference.flat`` has them). An input is ``(slot, output)``: the value of an earlier step, and
    which of its outputs (None for a node with one output, whose value is the tensor itself; a node with
    several holds a tuple)."""
    network = inference.flat  # with the copies of repeated groups
    order = [i for i in network.topological_order() if i in inference.used]
    slot = {node_id: k for k, node_id in enumerate(order)}
    incoming = network.feeds()
    last_use = {}
    steps = []
    for k, node_id in enumerate(order):
        sources = [(slot[e.src], e.out_port if network.nodes[e.src].layer_type.multi_output else None)
                   for e in incoming[node_id]]
        for s, _output in sources:
            last_use[s] = k
        steps.append([network.nodes[node_id], sources, []])
    for source, k in last_use.items():
        steps[k][2].append(source)
    return [tuple(step) for step in steps]


class GraphModule(nn.Module):
    """The module of a network document. ``forward(x)`` takes a batch shaped like the Input node."""

    input_shape = ()  # declared here too, so that no node can take the name (see document.reserved_names)

    def __init__(self, network):
        super().__init__()
        inference = require_valid(network)
        self.input_shape = network.input_node().params["shape"]
        runners = []  # (layer name or None, call(layer, inputs) or None, sources, free), no layer object held:
        for node, sources, free in execution_plan(inference):  # a replaced or deep-copied layer is the one run
            lt = node.layer_type
            if lt.module is not None:
                module = make_module(lt.module(node.params, inference.nodes[node.id].in_shapes))
                if node.frozen:
                    module.requires_grad_(False)
                self.add_module(node.name, module)
                runners.append((node.name, _call_module(lt.apply), sources, free))
            elif lt.combine is not None:
                runners.append((None, _combiner(lt.combine, node.params), sources, free))
            else:  # Input and Output pass their value on
                runners.append((None, None, sources, free))
        self._runners = runners

    def forward(self, x):
        values = [None] * len(self._runners)
        modules = self._modules
        result = x
        for k, (name, run, sources, free) in enumerate(self._runners):
            inputs = [values[s] if output is None else values[s][output] for s, output in sources]
            if run is None:
                result = inputs[0] if inputs else x
            else:
                result = run(None if name is None else modules[name], inputs)
            values[k] = result
            for s in free:
                values[s] = None
        return result


def _call_module(apply):
    if apply is not None:
        return lambda module, xs: apply(module, xs[0])
    return lambda module, xs: module(xs[0])


def _combiner(combine, params):
    return lambda module, xs: combine(xs, params)


LOSS_OPTIONS = {"CrossEntropyLoss": ("label_smoothing",)}


def loss_call(network):
    """The ``ModuleCall`` of the Output node's loss (also used by the code exporters)."""
    output = network.output_node()
    if output is None:
        raise NetworkError(f"the network '{network.title}' has no Output node, so no loss")
    name = output.params["loss"]
    kwargs = {k: output.params[k] for k in LOSS_OPTIONS.get(name, ()) if output.params[k]}
    return ModuleCall(name, (), kwargs)


def build_loss(network):
    return make_module(loss_call(network))
