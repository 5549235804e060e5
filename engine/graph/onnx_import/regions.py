"""Running a region of the ONNX graph as a model of its own, to learn what it computes: its nodes in file
order, the one value it starts from as the model's input, and every constant it reads as an initializer
(folded shapes holding the batch size get the batch size the region is run at)."""

import heapq

import numpy as np
import onnxruntime
from onnx import TensorProto, helper, numpy_helper

from .values import BATCH, holds_batch


def run_region(imp, nodes, start, x, output, batch=1):
    """``output`` of the ``nodes`` (ONNX nodes) fed ``x`` (float32 array) as the value ``start``, with folded
    batch sizes made ``batch``; None when the region reads another computed value or onnxruntime cannot run
    it."""
    nodes = sorted(nodes, key=lambda n: imp.order[id(n)])
    made = {o for n in nodes for o in n.output}
    initializers = []
    for name in dict.fromkeys(i for n in nodes for i in n.input if i and i not in made and i != start):
        value = imp.value(name)
        if value is None or not value.is_const:
            return None
        array = np.where(value.const == BATCH, batch, value.const) if holds_batch(value.const) else value.const
        initializers.append(numpy_helper.from_array(np.asarray(array), name))
    graph = helper.make_graph(nodes, "region", [helper.make_tensor_value_info(start, TensorProto.FLOAT, x.shape)],
                              [helper.make_empty_tensor_value_info(output)], initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", imp.opset)], ir_version=8)
    try:
        session = onnxruntime.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        return session.run(None, {start: x})[0]
    except Exception:  # onnxruntime refuses what it cannot type or run: then the region is not one we can read
        return None


def grow(imp, start_node, x_name, ops, constant_ok, limit, siblings=False):
    """The nodes from ``start_node`` on, of the operators ``ops``, that read only ``x_name``, each other and
    constants ``constant_ok`` accepts, in file order (following the readers of what the run makes, nearest
    first, and with ``siblings`` the later readers of x too); at most ``limit``."""
    run, inside = [start_node], set(start_node.output)
    starts = [*start_node.output, *([x_name] if siblings else [])]
    waiting = [(imp.order[id(r)], id(r), r) for name in starts for r in imp.consumers.get(name, [])
               if imp.order[id(r)] > imp.order[id(start_node)]]
    heapq.heapify(waiting)
    seen = set()
    while waiting and len(run) < limit:
        _, key, node = heapq.heappop(waiting)
        if key in seen:
            continue
        seen.add(key)
        reads = [name for name in node.input if name]
        if key in imp.taken or node.op_type not in ops or not all(
                name in inside or name == x_name or constant_ok(name) for name in reads):
            continue
        run.append(node)
        inside.update(node.output)
        for name in node.output:
            for reader in imp.consumers.get(name, []):
                heapq.heappush(waiting, (imp.order[id(reader)], id(reader), reader))
    return run


def single_exit(imp, nodes):
    """The one value of ``nodes`` read outside them (or a graph output), when it is the last node's."""
    inside = {id(n) for n in nodes}
    exits = {name for n in nodes for name in n.output
             if name in imp.graph_outputs or any(id(r) not in inside for r in imp.consumers.get(name, []))}
    return nodes[-1].output[0] if exits == {nodes[-1].output[0]} else None
