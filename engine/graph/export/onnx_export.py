"""ONNX export (opset 17): the document's execution plan becomes an ONNX graph, one rule per layer type.

The graph's input is ``input`` (the Input node's shape behind a dynamic ``batch`` dimension) and its output
``output``; every other value is named after its node and the weights keep their ``state_dict`` names, so
the graph reads like the document in a viewer such as Netron. Layers run as in evaluation mode:
BatchNormalization uses the running statistics, Dropout is the identity. The model's ``metadata_props`` hold
``model_info``'s class names, normalisation and input shape. The model passes ``onnx.checker`` (with shape
inference) before it is written.

A rule is ``rule(graph, node, info, inputs, out) -> value name``: it adds the ONNX nodes computing
``node`` (``info`` is its ``NodeInfo``; ``inputs`` the names of its input values) and returns the name of
its result, normally ``out``; a node with several outputs (Split) returns the list of their names,
``out:0``, ``out:1``...
"""

import math

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ...utils.files import atomic_write
from ..build import execution_plan, require_valid
from . import onnx_attention
from .errors import ExportError
from .model_info import PRODUCER

OPSET = 17
IR_VERSION = 8  # the IR version that came with opset 17, so runtimes of that age load the file
GRAPH_INPUT, GRAPH_OUTPUT = "input", "output"


class NoOnnxRuleError(ExportError, NotImplementedError):
    """A layer type of the catalogue that the ONNX exporter has no rule for."""


class _Graph:
    """The ONNX nodes and initializers being collected."""

    def __init__(self, arrays):
        self.arrays = arrays
        self.nodes = []
        self.initializers = {}

    def op(self, op_type, inputs, output, **attrs):
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], name=output, **attrs))
        return output

    def op_outputs(self, op_type, inputs, name, count, **attrs):
        """An ONNX node with ``count`` outputs, named ``name:0``, ``name:1``...; returns their names."""
        outputs = [f"{name}:{k}" for k in range(count)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, name=name, **attrs))
        return outputs

    def weight(self, key):
        """The initializer holding ``state_dict[key]``, added on first use."""
        if key not in self.initializers:
            self.initializers[key] = numpy_helper.from_array(self.arrays[key], key)
        return key

    def const(self, name, values, dtype=np.float32):
        self.initializers[name] = numpy_helper.from_array(np.asarray(values, dtype), name)
        return name


def _pads(padding):
    """ONNX pads (begin of each axis, then end of each) for symmetric (height, width) padding."""
    return [padding[0], padding[1], padding[0], padding[1]]


def _input(g, node, info, xs, out):
    return GRAPH_INPUT


def _output(g, node, info, xs, out):
    return g.op("Identity", xs, GRAPH_OUTPUT)


def _conv(g, node, info, xs, out):
    p = node.params
    k, d = p["kernel_size"], p["dilation"]
    if p["padding"] == "same":  # as PyTorch: an odd total puts the extra row/column at the end
        total = [d[i] * (k[i] - 1) for i in (0, 1)]
        pads = [total[0] // 2, total[1] // 2, total[0] - total[0] // 2, total[1] - total[1] // 2]
    else:
        pads = _pads((0, 0) if p["padding"] == "valid" else p["padding"])
    inputs = [xs[0], g.weight(f"{node.name}.weight")] + ([g.weight(f"{node.name}.bias")] if p["bias"] else [])
    return g.op("Conv", inputs, out, kernel_shape=list(k), strides=list(p["stride"]), dilations=list(d),
                group=p["groups"], pads=pads)


def _pool(op_type, **extra):
    def rule(g, node, info, xs, out):
        p = node.params
        k, pad, ceil = p["kernel_size"], p["padding"], p["ceil_mode"]
        stride = p["stride"] if p["stride"] is not None else k
        # with ceil_mode ONNX keeps a last window that starts in the end padding, which PyTorch drops: crop it
        onnx_size = tuple(-(-(n + 2 * q - kk) // ss) + 1 for n, q, kk, ss in zip(info.in_shapes[0][1:], pad, k, stride))
        crop = ceil and onnx_size != info.shape[1:]
        pooled = g.op(op_type, xs, f"{node.name}/pool" if crop else out, kernel_shape=list(k), strides=list(stride),
                      pads=_pads(pad), ceil_mode=int(ceil), **extra)
        if not crop:
            return pooled
        bounds = [g.const(f"{node.name}/{name}", values, np.int64)
                for name, values in (("starts", [0, 0]), ("ends", info.shape[1:]), ("axes", [2, 3]))]
        return g.op("Slice", [pooled, *bounds], out)

    return rule


def adaptive_matrix(size, out):
    """``(out, size)`` averaging matrix of PyTorch's adaptive windows [floor(i*size/out), ceil((i+1)*size/out))."""
    matrix = np.zeros((out, size), np.float32)
    for i in range(out):
        start, stop = (i * size) // out, -(-((i + 1) * size) // out)
        matrix[i, start:stop] = 1.0 / (stop - start)
    return matrix


def _tiling_pool(g, op_type, info, node, xs, out):
    """Adaptive pooling whose windows tile the input evenly: the global operator for 1×1, else ``op_type`` with
    kernel and stride the input's size over the output's."""
    (_, h, w), (oh, ow) = info.in_shapes[0], node.params["output_size"]
    if (oh, ow) == (1, 1):
        return g.op(f"Global{op_type}", xs, out)
    kernel = [h // oh, w // ow]
    return g.op(op_type, xs, out, kernel_shape=kernel, strides=kernel)


def _adaptive_avg_pool(g, node, info, xs, out):
    """GlobalAveragePool for 1×1, AveragePool when the windows tile the input evenly; otherwise the windows
    overlap or differ in size, and the pooling is written as the linear map it is: A_h @ x @ A_w^T."""
    (_, h, w), (oh, ow) = info.in_shapes[0], node.params["output_size"]
    if h % oh == 0 and w % ow == 0:  # (1×1 among them)
        return _tiling_pool(g, "AveragePool", info, node, xs, out)
    rows = g.op("MatMul", [xs[0], g.const(f"{node.name}/width_t", adaptive_matrix(w, ow).T)], f"{node.name}/rows")
    return g.op("MatMul", [g.const(f"{node.name}/height", adaptive_matrix(h, oh)), rows], out)


def _linear(g, node, info, xs, out):
    weight = g.weight(f"{node.name}.weight")
    bias = [g.weight(f"{node.name}.bias")] if node.params["bias"] else []
    if len(info.in_shapes[0]) == 1:  # (batch, features): one Gemm
        return g.op("Gemm", [xs[0], weight, *bias], out, transB=1)
    transposed = g.op("Transpose", [weight], f"{node.name}/weight_t", perm=[1, 0])
    product = g.op("MatMul", [xs[0], transposed], f"{node.name}/matmul" if bias else out)
    return g.op("Add", [product, bias[0]], out) if bias else product


def _batch_norm(g, node, info, xs, out):
    name, channels = node.name, info.in_shapes[0][0]
    if node.params["affine"]:
        scale, shift = g.weight(f"{name}.weight"), g.weight(f"{name}.bias")
    else:
        scale, shift = g.const(f"{name}/scale", np.ones(channels)), g.const(f"{name}/shift", np.zeros(channels))
    stats = [g.weight(f"{name}.running_mean"), g.weight(f"{name}.running_var")]
    return g.op("BatchNormalization", [xs[0], scale, shift, *stats], out, epsilon=node.params["eps"])


def _gelu(g, node, info, xs, out):
    """GELU as its formula (the Gelu operator only exists from opset 20)."""
    x, n = xs[0], node.name
    if node.params["approximate"] == "tanh":  # tanh(sqrt(2/pi) * (x + 0.044715 x^3))
        cube = g.op("Mul", [g.op("Mul", [x, x], f"{n}/x2"), x], f"{n}/x3")
        inner = g.op("Add", [x, g.op("Mul", [cube, g.const(f"{n}/c", 0.044715)], f"{n}/cx3")], f"{n}/inner")
        core = g.op("Tanh", [g.op("Mul", [inner, g.const(f"{n}/k", math.sqrt(2 / math.pi))], f"{n}/scaled")],
                    f"{n}/tanh")
    else:  # erf(x / sqrt(2))
        core = g.op("Erf", [g.op("Mul", [x, g.const(f"{n}/k", 1 / math.sqrt(2))], f"{n}/scaled")], f"{n}/erf")
    gate = g.op("Mul", [g.op("Add", [core, g.const(f"{n}/one", 1.0)], f"{n}/plus1"), g.const(f"{n}/half", 0.5)],
                f"{n}/gate")
    return g.op("Mul", [x, gate], out)


def _conv_transpose(g, node, info, xs, out):
    p = node.params
    inputs = [xs[0], g.weight(f"{node.name}.weight")] + ([g.weight(f"{node.name}.bias")] if p["bias"] else [])
    return g.op("ConvTranspose", inputs, out, kernel_shape=list(p["kernel_size"]), strides=list(p["stride"]),
                dilations=list(p["dilation"]), group=p["groups"], pads=_pads(p["padding"]),
                output_padding=list(p["output_padding"]))


def _adaptive_max_pool(g, node, info, xs, out):
    """GlobalMaxPool for 1×1, MaxPool when the windows tile the input evenly; otherwise each window row, then
    each window column, is a Slice reduced by ReduceMax (the maximum over a rectangle is the maximum of
    its rows' maxima), concatenated."""
    (_, h, w), (oh, ow) = info.in_shapes[0], node.params["output_size"]
    if h % oh == 0 and w % ow == 0:  # (1×1 among them)
        return _tiling_pool(g, "MaxPool", info, node, xs, out)
    value = xs[0]
    for axis, size, count in ((2, h, oh), (3, w, ow)):
        axes = g.const(f"{node.name}/axis{axis}", [axis], np.int64)
        parts = []
        for i in range(count):
            start, stop = (i * size) // count, -(-((i + 1) * size) // count)
            bounds = [g.const(f"{node.name}/{name}{axis}_{i}", [v], np.int64)
                      for name, v in (("start", start), ("stop", stop))]
            window = g.op("Slice", [value, *bounds, axes], f"{node.name}/window{axis}_{i}")
            parts.append(g.op("ReduceMax", [window], f"{node.name}/max{axis}_{i}", axes=[axis], keepdims=1))
        value = g.op("Concat", parts, out if axis == 3 else f"{node.name}/rows", axis=axis)
    return value


def _upsample(g, node, info, xs, out):
    p, n = node.params, node.name
    scales = g.const(f"{n}/scales", [1, 1, *p["scale_factor"]])
    if p["mode"] == "nearest":  # PyTorch's nearest: source index floor(i / scale)
        attrs = {"mode": "nearest", "coordinate_transformation_mode": "asymmetric", "nearest_mode": "floor"}
    else:
        attrs = {"mode": "linear",
                 "coordinate_transformation_mode": "align_corners" if p["align_corners"] else "pytorch_half_pixel"}
    return g.op("Resize", [xs[0], "", scales], out, **attrs)


def _channel_shaped(g, key, rank):
    """``state_dict[key]`` (one value per channel) shaped C×1×…, to broadcast over a sample of ``rank``."""
    if rank == 1:
        return g.weight(key)
    return g.op("Unsqueeze", [g.weight(key), g.const(f"{key}/axes", list(range(1, rank)), np.int64)],
                f"{key}/per_channel")


def _affine(g, node, info, value, out):
    """``value * weight + bias`` per channel, for norms whose ONNX operator has no per-channel scale."""
    rank = len(info.in_shapes[0])
    scaled = g.op("Mul", [value, _channel_shaped(g, f"{node.name}.weight", rank)], f"{node.name}/scaled")
    return g.op("Add", [scaled, _channel_shaped(g, f"{node.name}.bias", rank)], out)


def _group_norm(g, node, info, xs, out):
    """GroupNormalization is opset 18: the groups are the channels of an N×G×(rest) view, normalised by
    InstanceNormalization, then the per-channel affine."""
    p, n, shape = node.params, node.name, info.in_shapes[0]
    groups = p["num_groups"]
    grouped = g.op("Reshape", [xs[0], g.const(f"{n}/grouped_shape", [0, groups, -1], np.int64)], f"{n}/grouped")
    normed = g.op("InstanceNormalization", [grouped, g.const(f"{n}/ones", np.ones(groups)),
                                            g.const(f"{n}/zeros", np.zeros(groups))], f"{n}/normed",
                  epsilon=p["eps"])
    back = g.op("Reshape", [normed, g.const(f"{n}/shape", [0, *shape], np.int64)], f"{n}/ungrouped" if p["affine"]
                else out)
    return _affine(g, node, info, back, out) if p["affine"] else back


def _instance_norm(g, node, info, xs, out):
    p, n, channels = node.params, node.name, info.in_shapes[0][0]
    if p["track_running_stats"]:  # evaluation uses the running statistics, as batch norm does
        return _batch_norm(g, node, info, xs, out)
    if p["affine"]:
        scale, shift = g.weight(f"{n}.weight"), g.weight(f"{n}.bias")
    else:
        scale, shift = g.const(f"{n}/scale", np.ones(channels)), g.const(f"{n}/shift", np.zeros(channels))
    return g.op("InstanceNormalization", [xs[0], scale, shift], out, epsilon=p["eps"])


def _layer_norm_last(g, node, info, x, out, size):
    p, n = node.params, node.name
    if p["elementwise_affine"]:
        inputs = [x, g.weight(f"{n}.weight")] + ([g.weight(f"{n}.bias")] if p["bias"] else [])
    else:
        inputs = [x, g.const(f"{n}/scale", np.ones(size))]
    return g.op("LayerNormalization", inputs, out, axis=-1, epsilon=p["eps"])


def _layer_norm(g, node, info, xs, out):
    return _layer_norm_last(g, node, info, xs[0], out, info.in_shapes[0][-1])


def _layer_norm_2d(g, node, info, xs, out):
    """Channels last, LayerNormalization over them, channels first again."""
    n = node.name
    last = g.op("Transpose", xs, f"{n}/channels_last", perm=[0, 2, 3, 1])
    normed = _layer_norm_last(g, node, info, last, f"{n}/normed", info.in_shapes[0][0])
    return g.op("Transpose", [normed], out, perm=[0, 3, 1, 2])


def _prelu(g, node, info, xs, out):
    slope = _channel_shaped(g, f"{node.name}.weight", len(info.in_shapes[0]) if node.params["num_parameters"] > 1
                            else 1)
    return g.op("PRelu", [xs[0], slope], out)


def _silu(g, node, info, xs, out):
    return g.op("Mul", [xs[0], g.op("Sigmoid", xs, f"{node.name}/sigmoid")], out)


def _mish(g, node, info, xs, out):
    """Mish is opset 18: x * tanh(softplus(x))."""
    n = node.name
    return g.op("Mul", [xs[0], g.op("Tanh", [g.op("Softplus", xs, f"{n}/softplus")], f"{n}/tanh")], out)


def _relu6(g, node, info, xs, out):
    n = node.name
    return g.op("Clip", [xs[0], g.const(f"{n}/min", 0.0), g.const(f"{n}/max", 6.0)], out)


def _softplus(g, node, info, xs, out):
    """ONNX's Softplus has no beta or threshold: softplus(beta x) / beta, and x where beta x > threshold."""
    p, n, x = node.params, node.name, xs[0]
    scaled = g.op("Mul", [x, g.const(f"{n}/beta", p["beta"])], f"{n}/scaled")
    soft = g.op("Div", [g.op("Softplus", [scaled], f"{n}/softplus"), g.const(f"{n}/beta_div", p["beta"])],
                f"{n}/smooth")
    linear = g.op("Greater", [scaled, g.const(f"{n}/threshold", p["threshold"])], f"{n}/linear")
    return g.op("Where", [linear, x, soft], out)


def _chain(op_type):
    """A chain of ``op_type`` (Add, Mul), left to right, as the engine combines its inputs (so rounding
    matches)."""
    def rule(g, node, info, xs, out):
        total = xs[0]
        for k, x in enumerate(xs[1:], 2):
            total = g.op(op_type, [total, x], out if k == len(xs) else f"{node.name}/{op_type.lower()}{k}")
        return total

    return rule


def _simple(op_type, attrs=lambda params: {}):
    return lambda g, node, info, xs, out: g.op(op_type, xs, out, **attrs(node.params))


def _split(g, node, info, xs, out):
    """Split and Chunk: ONNX ``Split`` with the sizes of the pieces inference found."""
    axis = node.params["dim"] + 1
    sizes = [shape[axis - 1] for shape in info.outputs]
    return g.op_outputs("Split", [xs[0], g.const(f"{node.name}/sizes", sizes, np.int64)], out, len(sizes),
                        axis=axis)


RULES = {
    "Input": _input,
    "Output": _output,
    "Conv2d": _conv,
    "ConvTranspose2d": _conv_transpose,
    "MaxPool2d": _pool("MaxPool"),
    "AvgPool2d": _pool("AveragePool", count_include_pad=1),  # PyTorch's AvgPool2d default
    "AdaptiveAvgPool2d": _adaptive_avg_pool,
    "AdaptiveMaxPool2d": _adaptive_max_pool,
    "Mean": lambda g, node, info, xs, out: g.op("ReduceMean", xs, out, axes=[2, 3],
                                                 keepdims=int(node.params["keepdim"])),
    "Upsample": _upsample,
    "PixelShuffle": _simple("DepthToSpace", lambda p: {"blocksize": p["upscale_factor"], "mode": "CRD"}),
    "Linear": _linear,
    "BatchNorm1d": _batch_norm,
    "BatchNorm2d": _batch_norm,
    "GroupNorm": _group_norm,
    "InstanceNorm2d": _instance_norm,
    "LayerNorm": _layer_norm,
    "LayerNorm2d": _layer_norm_2d,
    "ReLU": _simple("Relu"),
    "LeakyReLU": _simple("LeakyRelu", lambda p: {"alpha": p["negative_slope"]}),
    "GELU": _gelu,
    "Sigmoid": _simple("Sigmoid"),
    "Tanh": _simple("Tanh"),
    "SiLU": _silu,
    "Hardswish": _simple("HardSwish"),
    "Hardsigmoid": _simple("HardSigmoid", lambda p: {"alpha": 1 / 6, "beta": 0.5}),
    "ReLU6": _relu6,
    "Mish": _mish,
    "ELU": _simple("Elu", lambda p: {"alpha": p["alpha"]}),
    "SELU": _simple("Selu"),
    "Softplus": _softplus,
    "PReLU": _prelu,
    "Softmax": _simple("Softmax", lambda p: {"axis": p["dim"]}),
    "LogSoftmax": _simple("LogSoftmax", lambda p: {"axis": p["dim"]}),
    "Dropout": _simple("Identity"),  # inference
    "Dropout2d": _simple("Identity"),
    "Add": _chain("Add"),
    "Multiply": _chain("Mul"),
    "Concat": _simple("Concat", lambda p: {"axis": p["dim"] + 1}),
    "Flatten": _simple("Flatten", lambda p: {"axis": 1}),
    "Identity": _simple("Identity"),
    "Reshape": lambda g, node, info, xs, out: g.op(
        "Reshape", [xs[0], g.const(f"{node.name}/shape", [0, *info.shape], np.int64)], out),
    "Permute": _simple("Transpose", lambda p: {"perm": [0, *(d + 1 for d in p["dims"])]}),
    "Split": _split,
    "Chunk": _split,
    **onnx_attention.RULES,
}


def _value_name(node):
    return f"{node.name}/out" if node.name in (GRAPH_INPUT, GRAPH_OUTPUT) else node.name


def onnx_model(network, arrays, info):
    """The checked ``onnx.ModelProto`` of ``network`` with weights ``arrays`` (name -> array, as
    ``weights.checked_arrays`` gives) and ``info`` (a ``ModelInfo``) as metadata."""
    inference = require_valid(network)
    g = _Graph(arrays)
    values = []
    for node, sources, _free in execution_plan(inference):
        rule = RULES.get(node.type)
        if rule is None:
            raise NoOnnxRuleError(f"{node.label()}: the ONNX exporter has no rule for layer type {node.type!r}; "
                                  f"add one to RULES in {__name__}")
        inputs = [values[s] if output is None else values[s][output] for s, output in sources]
        values.append(rule(g, node, inference.nodes[node.id], inputs, _value_name(node)))
    in_shape = network.input_node().params["shape"]
    out_shape = inference.nodes[network.output_node().id].shape
    graph = helper.make_graph(
        g.nodes, network.title,
        [helper.make_tensor_value_info(GRAPH_INPUT, TensorProto.FLOAT, ["batch", *in_shape])],
        [helper.make_tensor_value_info(GRAPH_OUTPUT, TensorProto.FLOAT, ["batch", *out_shape])],
        initializer=list(g.initializers.values()))
    model = helper.make_model(graph, producer_name=PRODUCER, opset_imports=[helper.make_opsetid("", OPSET)],
                              ir_version=IR_VERSION, doc_string=network.description)
    helper.set_model_props(model, info.metadata())
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(network, arrays, path, info):
    data = onnx_model(network, arrays, info).SerializeToString()
    atomic_write(path, lambda fh, _tmp: fh.write(data))
    return [path]
