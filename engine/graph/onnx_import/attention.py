"""Multi-head self-attention, recognised by what it computes rather than by how an exporter spelled it.

Exporters write attention in many forms (heads split by Reshape and Transpose or by Gather and Squeeze, the
scale on q, on the scores or on both q and k...). The importer finds the region between a projection to q, k
and v (a Linear from D to 3·D features) and the output projection (a Linear from D to D) that contains a
Softmax and reads nothing else computed by the network, then runs that region on random q, k, v (onnxruntime)
and compares it with softmax(q kᵀ / √d) v for each head count that divides D. A region that matches none is
refused by the rules as before; a match becomes one SelfAttention layer.
"""

import numpy as np

from .broadcast import last_axis_vector
from .names import candidate_name
from .regions import run_region

MAX_REGION = 400  # ONNX nodes between the two projections
# what exporters write attention with: products, the scale, softmax, and moving the heads about. Anything else
# (a clamp, a mask computed from the data) could agree with attention on one random batch and not on another.
ATTENTION_OPS = frozenset(("MatMul", "Gemm", "Add", "Sub", "Mul", "Div", "Sqrt", "Softmax", "Reshape", "Transpose",
                           "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Slice", "Split", "Constant", "Cast",
                           "Identity", "Dropout", "Mod", "Expand"))
BATCH = 2  # the batch size the region is run at
TOLERANCE = 1e-4


def closed_region(imp, starts, closes):
    """The nodes reading (transitively) the values ``starts``, up to the node ``closes(node)`` accepts on every
    path: ``(region nodes, the closing node)``, or None when the paths close at more than one node, the region
    grows too large, holds an operator attention is not written with, or is read from outside."""
    region, ends, frontier, seen = [], {}, list(starts), set()
    while frontier:
        for reader in imp.consumers.get(frontier.pop(), []):
            if id(reader) in seen:
                continue
            seen.add(id(reader))
            if closes(reader):
                ends[id(reader)] = reader
                continue
            region.append(reader)
            if len(region) > MAX_REGION:
                return None
            frontier.extend(o for o in reader.output if o)
    if len(ends) != 1 or any(n.op_type not in ATTENTION_OPS for n in region):
        return None
    inside = {id(n) for n in region} | set(ends)
    for node in region:  # nothing of the region may be read elsewhere (attention weights as an output...)
        for name in node.output:
            if name in imp.graph_outputs or any(id(r) not in inside for r in imp.consumers.get(name, [])):
                return None
    return region, next(iter(ends.values()))


def _region(imp, start):
    """The region from ``start`` to the first Linear-like MatMul/Gemm (a constant weight) on every path."""
    return closed_region(imp, [start], lambda node: node.op_type in ("MatMul", "Gemm") and
                         _has_constant_weight(imp, node))


def _has_constant_weight(imp, node):
    value = imp.value(node.input[1]) if len(node.input) > 1 else None
    return value is not None and value.is_const and value.const.ndim == 2


def reference_attention(qkv, heads):
    """softmax(q kᵀ / √d) v for ``qkv`` (batch, tokens, 3·D), heads joined again: (batch, tokens, D)."""
    batch, tokens, triple = qkv.shape
    dim = triple // 3
    q, k, v = (part.reshape(batch, tokens, heads, dim // heads).transpose(0, 2, 1, 3)
               for part in np.split(qkv.astype(np.float64), 3, axis=-1))
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(dim // heads)
    weights = np.exp(scores - scores.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)
    return (weights @ v).transpose(0, 2, 1, 3).reshape(batch, tokens, dim)


def heads_of_region(imp, region, qkv_name, joined_name, tokens, dim):
    """The head count for which ``region`` (from ``qkv_name`` to ``joined_name``) computes multi-head
    attention, or None."""
    qkv = np.random.default_rng(0).standard_normal((BATCH, tokens, 3 * dim)).astype(np.float32)
    got = run_region(imp, region, qkv_name, qkv, joined_name, batch=BATCH)
    if got is None or got.shape != (BATCH, tokens, dim):
        return None
    for heads in (h for h in range(1, dim + 1) if dim % h == 0):
        if np.allclose(got, reference_attention(qkv, heads), rtol=TOLERANCE, atol=TOLERANCE):
            return heads
    return None


def match(imp, start_node, qkv_name, x, weight, bias):
    """SelfAttention for a projection of ``x`` to q, k and v (``start_node``: x @ ``weight``ᵀ + ``bias``, its
    result ``qkv_name``), or None when what follows is not attention: ``{value name: Value}`` as rules return."""
    tokens_dim = imp.shapes.get(qkv_name)
    if tokens_dim is None or len(tokens_dim) != 3 or None in tokens_dim[1:]:
        return None
    tokens, dim = tokens_dim[1], weight.shape[1]
    found = _region(imp, qkv_name)
    if found is None:
        return None
    region, closing = found
    if not any(n.op_type == "Softmax" for n in region) or closing.op_type != "MatMul":
        return None
    joined = closing.input[0]
    out_weight = imp.value(closing.input[1]).const
    if out_weight.shape != (dim, dim):
        return None
    heads = heads_of_region(imp, region, qkv_name, joined, tokens, dim)
    if heads is None:
        return None
    add = imp.sole_consumer(closing.output[0], "Add")
    out_bias, last = None, closing
    if add is not None:
        other = imp.value(add.input[1] if add.input[0] == closing.output[0] else add.input[0])  # the bias
        vector = last_axis_vector(other.const, dim) if other is not None and other.is_const else None
        if vector is not None:
            out_bias, last = vector, add
    if (bias is None) != (out_bias is None):
        return None  # SelfAttention has biases on both projections or on neither
    imp.take(*region, closing, *([add] if last is add else []))
    weights = {"in_proj_weight": weight, "out_proj.weight": out_weight.T}
    if bias is not None:
        weights.update({"in_proj_bias": bias, "out_proj.bias": out_bias})
    value = imp.layer(last, "SelfAttention", {"num_heads": heads, "bias": bias is not None}, [x], weights,
                      name=candidate_name(start_node, last))
    return {last.output[0]: value}
