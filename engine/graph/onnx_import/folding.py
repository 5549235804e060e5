"""Constant folding: an ONNX node whose inputs are all constants is computed once, at import, by ONNX's
reference implementation in the model's operator-set version. ``Shape`` of a computed value folds to its
declared shape with ``BATCH`` for the batch size, so the exporters' shape arithmetic (Shape, Gather,
Unsqueeze, Concat feeding a Reshape) folds to a target shape; arithmetic on the batch size itself has no
layer and is refused."""

import math

import numpy as np
from onnx import AttributeProto, helper, numpy_helper, shape_inference
from onnx.reference import ReferenceEvaluator

from .values import BATCH, holds_batch

MAX_FOLDED = 1 << 26  # elements a folded constant may have (256 MiB of float32)
MOVES_VALUES = frozenset(("Gather", "Concat", "Unsqueeze", "Squeeze", "Slice", "Identity", "Cast", "Reshape",
                          "Flatten", "Shape", "Where"))
GROWS = {"ConstantOfShape": lambda xs: math.prod(int(v) for v in xs[0].ravel()),
         "Expand": lambda xs: math.prod(np.broadcast_shapes(xs[0].shape, tuple(int(v) for v in xs[1].ravel()))),
         "Tile": lambda xs: xs[0].size * math.prod(int(v) for v in xs[1].ravel()),
         "Range": lambda xs: math.ceil((float(xs[1]) - float(xs[0])) / float(xs[2]) if float(xs[2]) else math.inf)}


def fold_problem(node, arrays, opset):
    """Why ``node`` cannot be folded on ``arrays`` (its input constants, None for an absent one), or None: it
    computes with the batch size, holds a subgraph (a Loop could run for ever), or would make (or could not be
    shown not to make) a constant over ``MAX_FOLDED`` elements."""
    if any(a.type in (AttributeProto.GRAPH, AttributeProto.GRAPHS) for a in node.attribute):
        return "a loop or branch of constants is not computed at import; LayerLab has no layer for it"
    present = [a for a in arrays if a is not None]
    if node.op_type == "Equal" and _certain_comparison(*arrays):
        pass
    elif node.op_type not in MOVES_VALUES and any(holds_batch(a) for a in present):
        return f"computes with the batch size ({node.op_type} of a shape); a layer's shape cannot depend on it"
    grows = GROWS.get(node.op_type)
    if grows is not None:
        try:
            size = grows(arrays)
        except (ValueError, TypeError, ZeroDivisionError):
            return "its constant inputs do not fit together"
        if not 0 <= size <= MAX_FOLDED:
            return f"would make a constant of {size:,} elements (at most {MAX_FOLDED:,})"
    else:
        sizes = _output_sizes(node, arrays, opset)
        if sizes is None or any(not 0 <= n <= MAX_FOLDED for n in sizes):
            shown = "an unknown number of" if sizes is None else f"{max(sizes):,}"
            return f"would make a constant of {shown} elements (at most {MAX_FOLDED:,})"
    return None


def _output_sizes(node, arrays, opset):
    """The element counts of ``node``'s outputs on the constants ``arrays``, by shape inference (nothing is
    computed), or None when inference cannot tell."""
    names = [name for name, a in zip(node.input, arrays) if a is not None and name]
    if any(holds_batch(a) for a in arrays if a is not None):
        arrays = [None if a is None else np.where(a == BATCH, 1, a) for a in arrays]  # the sizes, not the values
    initializers = [numpy_helper.from_array(np.asarray(a), n) for n, a in zip(node.input, arrays) if n in names]
    graph = helper.make_graph([node], "size", [], [helper.make_empty_tensor_value_info(o) for o in node.output if o],
                              initializer=initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    try:
        inferred = shape_inference.infer_shapes(model, data_prop=True).graph.output
    except Exception:  # inference refuses what it cannot type: then the size is unknown
        return None
    sizes = []
    for info in inferred:
        dims = info.type.tensor_type.shape.dim if info.type.tensor_type.HasField("shape") else None
        if dims is None or any(not d.HasField("dim_value") for d in dims):
            return None
        sizes.append(math.prod(d.dim_value for d in dims))
    return sizes


def _certain_comparison(a, b):
    """Whether Equal of ``a`` and ``b`` has the same answer for every batch size: the batch is only compared
    with negative numbers (PyTorch's expand writes Equal(shape, -1))."""
    try:
        a, b = np.broadcast_arrays(a, b)
    except ValueError:
        return False
    return bool(np.all(b[a == BATCH] < 0) and np.all(a[b == BATCH] < 0))


def fold(node, arrays, opset):
    """The outputs of ``node`` computed on the constant ``arrays`` (None for an absent input)."""
    feeds, inputs = {}, []
    for name, array in zip(node.input, arrays):
        if array is None:
            continue
        feeds[name] = array
        inputs.append(helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(array.dtype), array.shape))
    outputs = [helper.make_empty_tensor_value_info(name) for name in node.output if name]
    graph = helper.make_graph([node], "fold", inputs, outputs)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return [np.asarray(r) for r in ReferenceEvaluator(model).run(None, feeds)]


def shape_constant(shape):
    """The folded ``Shape`` of a computed value declared ``shape`` (its batch None): BATCH for the batch."""
    return np.array([BATCH if d is None else d for d in shape], np.int64)
