"""Self-attention as PyTorch's exporter writes ``nn.MultiheadAttention``: the tokens moved in front of the batch
(Transpose 1, 0, 2), the projections and heads computed there, and the result moved back. The region between
the two transposes is found, its projection weights and biases are the constants of their shapes inside it,
and it is run on random tokens (onnxruntime) and compared with multi-head attention with those weights for
each head count (and each orientation of the square output weight); a match becomes one SelfAttention
layer, anything else is left to the rules, which refuse it."""

import itertools

import numpy as np

from .attention import BATCH, TOLERANCE, closed_region, reference_attention
from .names import candidate_name
from .regions import run_region

SWAP = [1, 0, 2]


def _region(imp, start_node, sample):
    """The region from ``start_node`` to the Transpose that swaps the batch back to tokens of ``sample`` (tokens,
    D) on every path (the heads' own swaps have head-sized features)."""
    def closes(node):
        shape = imp.shapes.get(node.output[0])
        return node.op_type == "Transpose" and [int(p) for p in imp.attr(node, "perm", [])] == SWAP and \
            shape is not None and tuple(shape[1:]) == tuple(sample)

    return closed_region(imp, start_node.output, closes)


def _constants(imp, region, shape):
    """The constants of ``shape`` the region's nodes read."""
    found = {}
    for node in region:
        for name in node.input:
            value = imp.value(name) if name else None
            if value is not None and value.is_const and value.const.shape == shape:
                found[name] = value.const
    return list(found.values())


def _attention(x, w_in, b_in, w_out, b_out, heads):
    """Multi-head self-attention of ``x`` (batch, tokens, D) with PyTorch's projection weights (float64)."""
    x = x.astype(np.float64)
    qkv = x @ w_in.T + (0 if b_in is None else b_in)
    mixed = reference_attention(qkv, heads)
    return mixed @ w_out.T + (0 if b_out is None else b_out)


def match(imp, node):
    """SelfAttention for the region starting at the Transpose ``node`` (tokens first), or None."""
    sample = imp.sample_shape(node, node.input[0])
    if [int(p) for p in imp.attr(node, "perm", [])] != SWAP or len(sample) != 2:
        return None
    tokens, dim = sample
    found = _region(imp, node, sample)
    if found is None or not any(n.op_type == "Softmax" for n in found[0]):
        return None
    region, closing = found
    inputs = [c if c.shape == (3 * dim, dim) else c.T for c in
              _constants(imp, region, (dim, 3 * dim)) + _constants(imp, region, (3 * dim, dim))]
    squares = _constants(imp, region, (dim, dim))
    in_biases, out_biases = _constants(imp, region, (3 * dim,)), _constants(imp, region, (dim,))
    if len(inputs) != 1 or len(squares) != 1 or len(in_biases) > 1 or len(out_biases) > 1 or \
            len(in_biases) != len(out_biases):
        return None
    x = np.random.default_rng(0).standard_normal((BATCH, tokens, dim)).astype(np.float32)
    got = run_region(imp, [node, *region, closing], node.input[0], x, closing.output[0], batch=BATCH)
    if got is None or got.shape != x.shape:
        return None
    b_in, b_out = (in_biases[0], out_biases[0]) if in_biases else (None, None)
    scale = max(1.0, float(np.abs(got).max()))
    for heads, w_out in itertools.product((h for h in range(1, dim + 1) if dim % h == 0), (squares[0], squares[0].T)):
        if np.allclose(got, _attention(x, inputs[0], b_in, w_out, b_out, heads), rtol=TOLERANCE,
                       atol=TOLERANCE * scale):
            break
    else:
        return None
    imp.take(*region, closing)
    weights = {"in_proj_weight": inputs[0], "out_proj.weight": w_out}
    if b_in is not None:
        weights.update({"in_proj_bias": b_in, "out_proj.bias": b_out})
    value = imp.layer(closing, "SelfAttention", {"num_heads": heads, "bias": b_in is not None},
                      [imp.computed(node, 0)], weights, name=candidate_name(node, closing))
    return {closing.output[0]: value}
