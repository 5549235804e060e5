"""The network as Python source: an ``nn.Module`` class whose sub-modules are the document's nodes.

The same source serves PyTorch (``from torch import nn``) and the engine (``import engine as torch``).
Constructor lines come from each layer type's ``module`` description, the one ``GraphModule`` is built
from; attributes are named after the nodes, assigned in execution order, so the class's ``state_dict``
keys and their order are the ``GraphModule``'s; a module applied other than as ``module(x)`` (the
channel LayerNorm2d: permute, LayerNorm, permute back) is written with ``LayerType.apply_code``, so the
PyTorch file needs no class of its own. ``forward`` follows the DAG: a value whose only consumer
is the next line lives in ``x``, as in hand-written code; others keep their node's name. Merges are
written with ``LayerType.code``. A node with several outputs (Split) holds a tuple, always under its name,
and its consumers take ``split1[1]``. The layers of a group are headed by a comment with its name (and which
copy, for a repeated group), in both methods.
"""

import re
from collections import defaultdict

from ..build import execution_plan
from ..groups import copy_of
from .errors import ExportError

FORWARD_NAMES = frozenset({"self", "x", "torch", "nn"})  # names forward itself uses


def class_name(title, taken=()):
    """A class name from the document's title: ``'LeNet (CIFAR-10 tutorial)'`` -> ``LeNetCIFAR10Tutorial``."""
    name = "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", title)) or "Network"
    if name[0].isdigit():
        name = "Net" + name
    while name in taken:
        name += "Net"
    return name


def format_call(call, prefix="", first=()):
    """``ModuleCall`` as source: ``prefix + cls(first..., args..., key=value...)``, values written by ``repr``."""
    args = [*first, *(repr(a) for a in call.args), *(f"{k}={v!r}" for k, v in call.kwargs.items())]
    return f"{prefix}{call.cls}({', '.join(args)})"


def docstring_text(text):
    """``text`` made safe inside a triple-quoted string."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


def _variables(plan):
    consumers = defaultdict(list)
    for k, (_node, sources, _free) in enumerate(plan):
        for s, _output in sources:
            consumers[s].append(k)
    node_names = {node.name for node, _sources, _free in plan}
    names = []
    for k, (node, _sources, _free) in enumerate(plan):
        if consumers[k] == [k + 1] and not node.layer_type.multi_output:
            names.append("x")
            continue
        name = node.name
        while name in FORWARD_NAMES or (name != node.name and name in node_names):
            name += "_"
        names.append(name)
    return names


def _shape_comment(info):
    return f"  # {', '.join('x'.join(map(str, shape)) for shape in info.outputs)}" if info.shape else ""


def _group_heading(network, node_id):
    """``# layer1``, ``# encoder (copy 2 of 4)``, or None for a node in no group."""
    base, copy = copy_of(network, node_id)
    group = network.group_of(base)
    if group is None:
        return None
    return f"# {group.name}" + (f" (copy {copy} of {group.repeat})" if group.repeat > 1 else "")


def model_class_source(network, inference, cls_name):
    """The ``class cls_name(nn.Module)`` source of a valid network."""
    plan = execution_plan(inference)
    names = _variables(plan)
    init, forward = [], []
    heading = None
    for k, (node, sources, _free) in enumerate(plan):
        lt, info = node.layer_type, inference.nodes[node.id]
        previous, heading = heading, _group_heading(network, node.id)
        if heading is not None and heading != previous:
            init.append(heading)
            forward.append(heading)
        inputs = [names[s] if output is None else f"{names[s]}[{output}]" for s, output in sources]
        if node.type == "Input":
            if names[k] != "x":
                forward.append(f"{names[k]} = x")
        elif node.type == "Output":
            forward.append(f"return {inputs[0]}")
        elif lt.module is not None:
            frozen = ".requires_grad_(False)" if node.frozen else ""
            init.append(f"self.{node.name} = {format_call(lt.module(node.params, info.in_shapes), 'nn.')}{frozen}")
            call = (lt.apply_code(f"self.{node.name}", inputs[0]) if lt.apply_code is not None
                    else f"self.{node.name}({inputs[0]})")
            forward.append(f"{names[k]} = {call}{_shape_comment(info)}")
        elif lt.code is not None:
            forward.append(f"{names[k]} = {lt.code(inputs, node.params)}{_shape_comment(info)}")
        else:
            raise ExportError(f"{node.label()}: layer type {node.type!r} has neither a module nor code to export")
    body = ["    def __init__(self):", "        super().__init__()", *(f"        {line}" for line in init), "",
            "    def forward(self, x):", *(f"        {line}" for line in forward)]
    summary = f"{docstring_text(network.title)}: {inference.total_params:,} parameters."
    return "\n".join([f"class {cls_name}(nn.Module):", f'    """{summary}"""', "", *body]) + "\n"
