"""ONNX rules for the attention layer types (tokens N×D per sample), in opset 17's operators: attention
written out as its matrix products (the Attention operator only exists from opset 23), the class token
broadcast over the batch from the input's own shape. Weights keep their ``state_dict`` names."""

import math

import numpy as np
from onnx import helper


def self_attention(g, node, info, xs, out):
    """``nn.MultiheadAttention(x, x, x)``: one projection to q, k and v, split; heads as a dimension; softmax of
    the scaled scores; the heads joined again and projected."""
    n, (tokens, dim), heads = node.name, info.in_shapes[0], node.params["num_heads"]
    head_dim, bias = dim // heads, node.params["bias"]

    def project(x, key, name):
        weight = g.op("Transpose", [g.weight(f"{key}weight")], f"{name}_weight_t", perm=[1, 0])
        product = g.op("MatMul", [x, weight], f"{name}_matmul" if bias else name)
        return g.op("Add", [product, g.weight(f"{key}bias")], name) if bias else product

    qkv = project(xs[0], f"{n}.in_proj_", f"{n}/qkv")
    parts = [f"{n}/q", f"{n}/k", f"{n}/v"]
    g.nodes.append(helper.make_node("Split", [qkv, g.const(f"{n}/split", [dim] * 3, np.int64)], parts, axis=2,
                                    name=f"{n}/split"))
    by_head = g.const(f"{n}/by_head", [0, tokens, heads, head_dim], np.int64)
    q, k, v = (g.op("Transpose", [g.op("Reshape", [part, by_head], f"{part}_heads")], f"{part}_t", perm=perm)
               for part, perm in zip(parts, ([0, 2, 1, 3], [0, 2, 3, 1], [0, 2, 1, 3])))
    q = g.op("Mul", [q, g.const(f"{n}/scale", 1 / math.sqrt(head_dim))], f"{n}/q_scaled")
    weights = g.op("Softmax", [g.op("MatMul", [q, k], f"{n}/scores")], f"{n}/weights", axis=-1)
    heads_out = g.op("Transpose", [g.op("MatMul", [weights, v], f"{n}/mixed")], f"{n}/mixed_t", perm=[0, 2, 1, 3])
    joined = g.op("Reshape", [heads_out, g.const(f"{n}/joined_shape", [0, tokens, dim], np.int64)], f"{n}/joined")
    return project(joined, f"{n}.out_proj.", out)


def position_embedding(g, node, info, xs, out):
    return g.op("Add", [xs[0], g.weight(f"{node.name}.weight")], out)


def class_token(g, node, info, xs, out):
    """The 1×D token expanded to batch×1×D (the batch read from the input's shape) and put first."""
    n, dim = node.name, info.in_shapes[0][1]
    batch = g.op("Shape", xs, f"{n}/batch", start=0, end=1)
    shape = g.op("Concat", [batch, g.const(f"{n}/token_shape", [1, dim], np.int64)], f"{n}/shape", axis=0)
    token = g.op("Unsqueeze", [g.weight(f"{n}.weight"), g.const(f"{n}/axes", [0], np.int64)], f"{n}/token")
    return g.op("Concat", [g.op("Expand", [token, shape], f"{n}/tokens"), xs[0]], out, axis=1)


def token_pool(g, node, info, xs, out):
    if node.params["mode"] == "mean":
        return g.op("ReduceMean", xs, out, axes=[1], keepdims=0)
    return g.op("Gather", [xs[0], g.const(f"{node.name}/first", 0, np.int64)], out, axis=1)


RULES = {"SelfAttention": self_attention, "PositionEmbedding": position_embedding, "ClassToken": class_token,
         "TokenPool": token_pool}
