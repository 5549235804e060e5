"""One rule per ONNX operator: ``rule(imp, node) -> {value name: Value}`` adds the layers computing ``node``
(``imp`` is the ``GraphImport``) and says which document outputs its ONNX outputs are. A rule that sees the
start of a pattern (x · sigmoid(x), the erf form of GELU, MatMul then Add, a transpose around a layer norm)
takes the pattern's other nodes with ``imp.take`` and answers for the pattern's last output. Anything a
layer cannot compute exactly is refused with what is missing."""

import math

import numpy as np

from ...creation import from_numpy
from ...nn.functional import adaptive_max_pool2d
from ..export.onnx_export import adaptive_matrix
from . import attention, attention_sequence_first, elementwise, regions
from .broadcast import channel_vector, last_axis_vector
from .names import parameter_name
from .values import BATCH


def _one(node, value):
    return {node.output[0]: value}


def other_input(node, name):
    """The input of the two-input ``node`` that is not the value ``name``."""
    return node.input[1] if node.input[0] == name else node.input[0]


def _rank(imp, node, k=0):
    return len(imp.sample_shape(node, node.input[k])) + 1


def _axis(imp, node, axis, k=0):
    """``axis`` (maybe negative) of input ``k`` as a non-negative axis counting the batch."""
    return axis + _rank(imp, node, k) if axis < 0 else axis


def _pads(imp, node, spatial, kernel, strides, dilations, allow_same=False):
    """PyTorch's padding for an ONNX ``pads``/``auto_pad``: the same on both sides of each axis, else
    ``'same'`` (PyTorch's, the odd pixel at the end) where ``allow_same``; anything else is refused."""
    auto = imp.attr(node, "auto_pad", "NOTSET")
    if auto == "VALID":
        return (0, 0)
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max((-(-n // s) - 1) * s + d * (k - 1) + 1 - n, 0)
                  for n, k, s, d in zip(spatial, kernel, strides, dilations)]
        begins = [t // 2 if auto == "SAME_UPPER" else t - t // 2 for t in totals]
        pads = [*begins, *(t - b for t, b in zip(totals, begins))]
    else:
        pads = list(imp.attr(node, "pads", [0, 0, 0, 0]))
    if pads[:2] == pads[2:]:
        return tuple(pads[:2])
    totals = [d * (k - 1) for k, d in zip(kernel, dilations)]
    if allow_same and tuple(strides) == (1, 1) and pads == [t // 2 for t in totals] + [t - t // 2 for t in totals]:
        return "same"
    imp.refuse(node, f"pads {pads} differ between the start and the end of an axis; PyTorch's layers pad both "
                     "sides alike")


def _image(imp, node, problem=None):
    """The C×H×W shape of the node's input; refused (with ``problem``, or saying what it is) otherwise."""
    shape = imp.sample_shape(node, node.input[0])
    if len(shape) != 3:
        imp.refuse(node, problem or f"only 2-D images (C×H×W) have a layer for {node.op_type}; the input is "
                                    f"{'×'.join(map(str, shape))}")
    return shape


def _spatial(imp, node):
    return _image(imp, node)[1:]


def _ints(imp, node, name, default):
    return tuple(int(v) for v in imp.attr(node, name, default))


# ----- convolution and pooling -----
def conv(imp, node):
    x, weight = imp.computed(node, 0), imp.const(node, 1, "weight")
    bias = imp.const(node, 2, "bias", optional=True)
    if weight.ndim != 4:
        imp.refuse(node, f"only 2-D convolutions have a layer (Conv2d); this one is {weight.ndim - 2}-D")
    kernel = _ints(imp, node, "kernel_shape", weight.shape[2:])
    strides, dilations = _ints(imp, node, "strides", (1, 1)), _ints(imp, node, "dilations", (1, 1))
    groups = int(imp.attr(node, "group", 1))
    padding = _pads(imp, node, _spatial(imp, node), kernel, strides, dilations, allow_same=True)
    params = {"in_channels": weight.shape[1] * groups, "out_channels": weight.shape[0], "kernel_size": kernel,
              "stride": strides, "padding": padding, "dilation": dilations, "groups": groups,
              "bias": bias is not None}
    weights = {"weight": weight, **({"bias": bias} if bias is not None else {})}
    return _one(node, imp.layer(node, "Conv2d", params, [x], weights))


def conv_transpose(imp, node):
    x, weight = imp.computed(node, 0), imp.const(node, 1, "weight")
    bias = imp.const(node, 2, "bias", optional=True)
    if weight.ndim != 4:
        imp.refuse(node, f"only 2-D transposed convolutions have a layer; this one is {weight.ndim - 2}-D")
    if imp.attr(node, "output_shape") is not None or imp.attr(node, "auto_pad", "NOTSET") != "NOTSET":
        imp.refuse(node, "an output_shape or auto_pad has no ConvTranspose2d parameter; export with pads and "
                         "output_padding")
    kernel = _ints(imp, node, "kernel_shape", weight.shape[2:])
    strides, dilations = _ints(imp, node, "strides", (1, 1)), _ints(imp, node, "dilations", (1, 1))
    groups = int(imp.attr(node, "group", 1))
    params = {"in_channels": weight.shape[0], "out_channels": weight.shape[1] * groups, "kernel_size": kernel,
              "stride": strides, "padding": _pads(imp, node, _spatial(imp, node), kernel, strides, dilations),
              "output_padding": _ints(imp, node, "output_padding", (0, 0)), "dilation": dilations, "groups": groups,
              "bias": bias is not None}
    weights = {"weight": weight, **({"bias": bias} if bias is not None else {})}
    return _one(node, imp.layer(node, "ConvTranspose2d", params, [x], weights))


def _pool(type_name):
    def rule(imp, node):
        x = imp.computed(node, 0)
        if len(node.output) > 1 and node.output[1] and imp.consumers.get(node.output[1]):
            imp.refuse(node, "its indices output has no layer")
        if any(d != 1 for d in _ints(imp, node, "dilations", (1, 1))):
            imp.refuse(node, "pooling with dilation has no layer")
        spatial = _spatial(imp, node)
        kernel = _ints(imp, node, "kernel_shape", ())
        strides = _ints(imp, node, "strides", (1, 1))
        padding = _pads(imp, node, spatial, kernel, strides, (1, 1))
        ceil = bool(imp.attr(node, "ceil_mode", 0))
        if type_name == "AvgPool2d" and padding != (0, 0) and not imp.attr(node, "count_include_pad", 0):
            imp.refuse(node, "averaging that leaves the padding out of the count has no layer (AvgPool2d counts "
                             "it)")
        torch_size = tuple(_pooled(n, k, s, p, ceil) for n, k, s, p in zip(spatial, kernel, strides, padding))
        onnx_size = tuple(_pooled(n, k, s, p, ceil, onnx=True) for n, k, s, p in zip(spatial, kernel, strides, padding))
        last = node
        if onnx_size != torch_size:  # ONNX keeps a last window that starts in the padding: a crop must follow
            last = _crop_to(imp, node, torch_size)
            if last is None:
                imp.refuse(node, f"gives {onnx_size} where PyTorch's {type_name} gives {torch_size} (a ceil_mode "
                                 "window that starts in the padding), and no crop follows")
        params = {"kernel_size": kernel, "stride": strides, "padding": padding, "ceil_mode": ceil}
        return _one(last, imp.layer(last, type_name, params, [x]))

    return rule


def _pooled(n, k, s, p, ceil, onnx=False):
    size = (n + 2 * p - k + (s - 1 if ceil else 0)) // s + 1
    if ceil and not onnx and (size - 1) * s >= n + p:  # PyTorch: the last window starts inside the input or left
        size -= 1  # padding
    return size


def _crop_to(imp, node, size):
    """The Slice after ``node`` that keeps the first ``size`` (H, W) positions, taken; None when there is none."""
    crop = imp.sole_consumer(node.output[0], "Slice")
    if crop is None:
        return None
    starts, ends = imp.const(crop, 1, "starts"), imp.const(crop, 2, "ends")
    axes = imp.const(crop, 3, "axes", optional=True) if len(crop.input) > 3 else None
    steps = imp.const(crop, 4, "steps", optional=True) if len(crop.input) > 4 else None
    rank = 4
    axes = [a + rank if a < 0 else a for a in (range(len(starts)) if axes is None else axes.ravel().tolist())]
    bounds = {a: (int(b), int(e)) for a, b, e in zip(axes, starts.ravel(), ends.ravel())}
    wanted = {2: (0, size[0]), 3: (0, size[1])}
    if (steps is not None and np.any(steps != 1)) or any(wanted.get(a) != v for a, v in bounds.items()):
        return None
    imp.take(crop)
    return crop


def _global_pool(type_name):
    def rule(imp, node):
        _spatial(imp, node)
        return _one(node, imp.layer(node, type_name, {"output_size": (1, 1)}, [imp.computed(node, 0)]))

    return rule


def _reduce_axes(imp, node):
    axes = _axes(imp, node)
    if axes is None:
        imp.refuse(node, "a reduction over every axis (the batch included) has no layer")
    return sorted(_axis(imp, node, int(a)) for a in axes)


def reduce_mean(imp, node):
    x, axes, keep = imp.computed(node, 0), _reduce_axes(imp, node), bool(imp.attr(node, "keepdims", 1))
    rank = _rank(imp, node)
    if rank == 4 and axes == [2, 3]:
        return _one(node, imp.layer(node, "Mean", {"keepdim": keep}, [x]))
    if rank == 3 and axes == [1] and not keep:
        return _one(node, imp.layer(node, "TokenPool", {"mode": "mean"}, [x]))
    imp.refuse(node, f"a mean over axes {axes} of a rank-{rank} tensor has no layer (Mean takes H and W of "
                     "N×C×H×W, TokenPool the tokens of N×T×D)")


def gather(imp, node):
    x, index = imp.computed(node, 0), imp.const(node, 1, "index")
    if _rank(imp, node) == 3 and _axis(imp, node, int(imp.attr(node, "axis", 0))) == 1 and index.shape == () \
            and int(index) == 0:
        return _one(node, imp.layer(node, "TokenPool", {"mode": "first"}, [x]))
    imp.refuse(node, "only taking the first token (index 0 of axis 1 of N×T×D) has a layer (TokenPool)")


def slice_(imp, node):
    """Adaptive max pooling with windows of different sizes, as window Slices reduced by ReduceMax and joined by
    Concat: recognised by running the region on a random map and comparing with PyTorch's windows."""
    x_name = node.input[0]
    channels, h, w = _image(imp, node, "Slice has no layer (except in adaptive max pooling of C×H×W maps)")
    nodes = regions.grow(imp, node, x_name, ("Slice", "ReduceMax", "Concat"), imp.is_constant, 4 * (h + w) + 4,
                         siblings=True)
    out = regions.single_exit(imp, nodes)
    x = np.random.default_rng(0).standard_normal((1, channels, h, w)).astype(np.float32)
    got = None if out is None else regions.run_region(imp, nodes, x_name, x, out)
    if got is not None and got.ndim == 4 and got.shape[:2] == (1, channels) and \
            np.array_equal(got, adaptive_max_pool2d(from_numpy(x), got.shape[2:]).numpy()):
        imp.take(*nodes[1:])
        return _one(nodes[-1], imp.layer(nodes[-1], "AdaptiveMaxPool2d", {"output_size": got.shape[2:]},
                                         [imp.computed(node, 0)]))
    imp.refuse(node, "Slice has no layer (except in PyTorch's adaptive max pooling written as window slices)")


# ----- linear -----
def _linear(imp, node, x, weight, bias, last):
    params = {"in_features": weight.shape[1], "out_features": weight.shape[0], "bias": bias is not None}
    weights = {"weight": weight, **({"bias": bias} if bias is not None else {})}
    return _one(last, imp.layer(last, "Linear", params, [x], weights))


def _bias_vector(imp, node, array, features):
    if array is None:
        return None
    if array.size == 1:
        return np.full(features, float(array.ravel()[0]), np.float32)
    vector = last_axis_vector(array, features)
    if vector is None:
        imp.refuse(node, f"a bias of shape {array.shape} is not one value per output feature ({features})")
    return vector


def gemm(imp, node):
    x, b = imp.computed(node, 0), imp.const(node, 1, "weight")
    c = imp.const(node, 2, "bias", optional=True)
    if imp.attr(node, "transA", 0):
        imp.refuse(node, "a transposed input (transA) has no layer")
    weight = (b if imp.attr(node, "transB", 0) else b.T) * float(imp.attr(node, "alpha", 1.0))
    bias = None if c is None else c * float(imp.attr(node, "beta", 1.0))
    return _linear(imp, node, x, weight, _bias_vector(imp, node, bias, weight.shape[0]), node)


def matmul(imp, node):
    """x @ W with a constant W is a Linear (W transposed), and the Add of a constant bias after it joins it."""
    x, w = imp.computed(node, 0), imp.const(node, 1, "second factor")
    pooled = _adaptive_average(imp, node, x, w)
    if pooled is not None:
        return pooled
    if w.ndim != 2:
        imp.refuse(node, f"a product with a constant of rank {w.ndim} has no layer; Linear's weight is a matrix")
    add = imp.sole_consumer(node.output[0], "Add")
    bias, last = None, node
    if add is not None:
        value = imp.value(other_input(add, node.output[0]))
        vector = last_axis_vector(value.const, w.shape[1]) if value is not None and value.is_const else None
        if vector is not None:
            bias, last = vector, add
            imp.take(add)
    if w.shape[1] == 3 * w.shape[0]:
        found = attention.match(imp, node, last.output[0], x, w.T, bias)
        if found is not None:
            return found
    return _linear(imp, node, x, w.T, bias, last)


def _adaptive_average(imp, node, x, width_t):
    """Adaptive average pooling written as its linear map, A_h @ x @ A_wᵀ (windows that overlap or differ in
    size): AdaptiveAvgPool2d, when both matrices are PyTorch's averaging windows."""
    shape = imp.sample_shape(node, node.input[0])
    rows = imp.sole_consumer(node.output[0], "MatMul")
    if len(shape) != 3 or width_t.ndim != 2 or rows is None or rows.input[1] != node.output[0]:
        return None
    height = imp.value(rows.input[0])
    (_, h, w), (ow, oh) = shape, (width_t.shape[1], height.const.shape[0] if height.is_const else 0)
    if not (height.is_const and height.const.shape == (oh, h) and width_t.shape[0] == w
            and np.allclose(width_t, adaptive_matrix(w, ow).T) and np.allclose(height.const, adaptive_matrix(h, oh))):
        return None
    imp.take(rows)
    return _one(rows, imp.layer(rows, "AdaptiveAvgPool2d", {"output_size": (oh, ow)}, [x]))


# ----- merges and constants -----
def add(imp, node):
    a, b = (imp.value(name) for name in node.input)
    if a.node is not None and b.node is not None and node.input[0] != node.input[1]:
        return _one(node, imp.layer(node, "Add", {}, [a, b]))
    x, c = (a, b) if a.node is not None else (b, a)
    shape = imp.sample_shape(node, node.input[0] if x is a else node.input[1])
    if c.is_const and len(shape) == 2 and c.const.shape[-2:] == shape and c.const.size == math.prod(shape):
        name = parameter_name(node.input[1] if x is a else node.input[0])
        return _one(node, imp.layer(node, "PositionEmbedding", {}, [x], {"weight": c.const.reshape(shape)},
                                    fallback=name))
    if c.is_const and c.const.size == 1:
        return formula(imp, node)
    imp.refuse(node, f"adding a constant of shape {c.const.shape if c.is_const else '?'} has no layer (only a "
                     "bias after a product, or a position embedding N×D on tokens)")


def mul(imp, node):
    a, b = (imp.value(name) for name in node.input)
    if a.node is not None and b.node is not None and node.input[0] != node.input[1]:
        return _one(node, imp.layer(node, "Multiply", {}, [a, b]))
    return formula(imp, node)


def formula(imp, node):
    """An element-wise node on one computed value, read with the nodes after it as the activation they
    compute together (``elementwise``)."""
    computed = {name for name in node.input if name and imp.value(name).node is not None}
    if len(computed) == 1:
        (x_name,) = computed
        found = elementwise.match(imp, node, x_name)
        if found is not None:
            type_name, params, last = found
            return _one(last, imp.layer(last, type_name, params, [imp.value(x_name)]))
    imp.refuse(node, f"{node.op_type} here has no layer: it does not start a formula that computes an activation "
                     "(GELU, SiLU, Mish, Softplus, hard sigmoid or swish, ...) on one value")


def concat(imp, node):
    axis = int(imp.attr(node, "axis"))
    values = [imp.value(name) for name in node.input]
    full_axis = _axis(imp, node, axis, k=next(k for k, v in enumerate(values) if v.node is not None))
    if full_axis == 0:
        imp.refuse(node, "joining along the batch has no layer")
    if len(values) == 2 and values[0].batched and values[1].node is not None and full_axis == 1:
        token = values[0]
        return _one(node, imp.layer(node, "ClassToken", {}, [values[1]], {"weight": token.const.reshape(1, -1)},
                                    fallback=token.source and parameter_name(token.source)))
    if any(v.node is None for v in values):
        imp.refuse(node, "joining a constant to computed values has no layer (except a class token before the "
                         "tokens)")
    return _one(node, imp.layer(node, "Concat", {"dim": full_axis - 1}, values))


def expand(imp, node):
    value, shape = imp.value(node.input[0]), imp.const(node, 1, "shape")
    token = value.const if value.is_const else None
    if token is not None and token.ndim == 3 and token.shape[:2] == (1, 1) and shape.size == 3 \
            and int(shape[0]) == BATCH and all(int(d) == 1 or int(d) == t for d, t in zip(shape[1:], token.shape[1:])):
        return _one(node, type(value)(const=token, batched=True, source=node.input[0]))
    imp.refuse(node, "only repeating one token (1×1×D) over the batch (a class token) has a layer")


def split(imp, node):
    x = imp.computed(node, 0)
    axis = _axis(imp, node, int(imp.attr(node, "axis", 0)))
    shape = imp.sample_shape(node, node.input[0])
    sizes = imp.attr(node, "split")
    if sizes is None and len(node.input) > 1 and node.input[1]:
        sizes = imp.const(node, 1, "sizes").ravel().tolist()
    if sizes is None:  # equal pieces, as many as outputs
        count = len(node.output)
        piece = -(-shape[axis - 1] // count)
        sizes = [min(piece, shape[axis - 1] - k * piece) for k in range(count)]
    if axis == 0:
        imp.refuse(node, "splitting the batch has no layer")
    outputs = imp.layer(node, "Split", {"sizes": tuple(int(s) for s in sizes), "dim": axis - 1}, [x],
                        outputs=len(sizes))
    return dict(zip(node.output, outputs))


# ----- shapes -----
def flatten(imp, node):
    if _axis(imp, node, int(imp.attr(node, "axis", 1))) != 1:
        imp.refuse(node, "flattening other than after the batch (axis 1) has no layer")
    return _one(node, imp.layer(node, "Flatten", {}, [imp.computed(node, 0)]))


def _target(imp, node, sample):
    """The Reshape's target (batch first) with its zeros made the sizes they copy."""
    target = imp.const(node, 1, "target shape").ravel().tolist()
    if not imp.attr(node, "allowzero", 0):
        full = (None, *sample)
        target = [full[k] if v == 0 and k < len(full) else v for k, v in enumerate(target)]
    if not target or target[0] not in (None, BATCH, -1):
        imp.refuse(node, f"a target shape {target} that does not keep the batch first has no layer")
    return target


def reshape(imp, node):
    x, sample = imp.computed(node, 0), imp.sample_shape(node, node.input[0])
    target = _target(imp, node, sample)
    rest = [int(v) for v in target[1:]]
    grouped = _group_norm(imp, node, x, sample, rest)
    if grouped is not None:
        return grouped
    if target[0] == -1 and (-1 in rest or math.prod(rest) != math.prod(sample)):
        imp.refuse(node, f"the target shape {target} leaves the batch to be computed from other sizes")
    return _one(node, _reshaped(imp, node, x, sample, rest))


def _reshaped(imp, node, x, sample, rest):
    if rest == list(sample):
        return x
    if len(rest) == 1 and rest[0] in (-1, math.prod(sample)) and len(sample) > 1:
        return imp.layer(node, "Flatten", {}, [x])
    return imp.layer(node, "Reshape", {"shape": tuple(rest)}, [x])


def _axes(imp, node):
    axes = imp.attr(node, "axes")
    if axes is None and len(node.input) > 1 and node.input[1]:
        axes = imp.const(node, 1, "axes").ravel().tolist()
    return axes


def squeeze(imp, node):
    """Squeeze of sample axes of size 1: a Reshape."""
    x, sample = imp.computed(node, 0), imp.sample_shape(node, node.input[0])
    axes = _axes(imp, node)
    axes = [k for k, d in enumerate(sample, 1) if d == 1] if axes is None else [
        a + len(sample) + 1 if a < 0 else a for a in axes]
    if 0 in axes or any(sample[a - 1] != 1 for a in axes):
        imp.refuse(node, f"squeezing axes {axes} of {sample} (the batch, or a size other than 1) has no layer")
    return _one(node, _reshaped(imp, node, x, sample, [d for k, d in enumerate(sample, 1) if k not in axes]))


def unsqueeze(imp, node):
    """Unsqueeze after the batch: a Reshape."""
    x, sample = imp.computed(node, 0), imp.sample_shape(node, node.input[0])
    rank = len(sample) + 1 + len(_axes(imp, node) or ())
    axes = sorted(a + rank if a < 0 else a for a in _axes(imp, node) or ())
    if not axes or 0 in axes:
        imp.refuse(node, "unsqueezing in front of the batch has no layer")
    shape = list(sample)
    for a in axes:
        shape.insert(a - 1, 1)
    return _one(node, _reshaped(imp, node, x, sample, shape))


def transpose(imp, node):
    x, perm = imp.computed(node, 0), [int(p) for p in imp.attr(node, "perm", [])]
    if perm == [1, 0, 2]:  # tokens before the batch: PyTorch's MultiheadAttention, when it computes it
        found = attention_sequence_first.match(imp, node)
        if found is not None:
            return found
    if not perm or perm[0] != 0:
        imp.refuse(node, f"a permutation {perm} that moves the batch has no layer")
    fused = _layer_norm_2d(imp, node, x, perm)
    if fused is not None:
        return fused
    return _one(node, imp.layer(node, "Permute", {"dims": tuple(p - 1 for p in perm[1:])}, [x]))


def _layer_norm_2d(imp, node, x, perm):
    """Channels last, LayerNormalization over them, channels first again: LayerNorm2d."""
    if perm != [0, 2, 3, 1]:
        return None
    norm = imp.sole_consumer(node.output[0], "LayerNormalization")
    back = norm and imp.sole_consumer(norm.output[0], "Transpose")
    if not back or [int(p) for p in imp.attr(back, "perm", [])] != [0, 3, 1, 2] or \
            imp.attr(norm, "axis", -1) not in (-1, 3):
        return None
    imp.take(norm, back)
    channels = imp.sample_shape(node, node.input[0])[0]
    params, weights = _layer_norm_params(imp, norm, channels)
    return _one(back, imp.layer(back, "LayerNorm2d", params, [x], weights))


# ----- normalisation -----
def _group_norm(imp, node, x, sample, rest):
    """GroupNorm as exporters write it: channels grouped (N×G×rest), InstanceNormalization without affine, the
    shape restored, then the per-channel scale (Mul) and shift (Add)."""
    norm = imp.sole_consumer(node.output[0], "InstanceNormalization")
    back = norm and imp.sole_consumer(norm.output[0], "Reshape")
    if not back or len(rest) != 2 or sample[0] % rest[0]:
        return None
    groups, channels = rest[0], sample[0]
    scale, shift = imp.value(norm.input[1]), imp.value(norm.input[2])
    if not (scale.is_const and shift.is_const and np.all(scale.const == 1) and np.all(shift.const == 0)) or \
            [int(v) for v in _target(imp, back, (groups, math.prod(sample) // groups))[1:]] != list(sample):
        return None
    times = imp.sole_consumer(back.output[0], "Mul")
    plus = times and imp.sole_consumer(times.output[0], "Add")
    weights, last = {}, back
    if plus:
        gamma, beta = imp.value(other_input(times, back.output[0])), imp.value(other_input(plus, times.output[0]))
        if gamma is not None and beta is not None and gamma.is_const and beta.is_const:
            scale = channel_vector(gamma.const, len(sample), channels)
            shift = channel_vector(beta.const, len(sample), channels)
            if scale is not None and shift is not None:
                weights, last = {"weight": scale, "bias": shift}, plus
    imp.take(norm, back, *((times, plus) if weights else ()))
    params = {"num_groups": groups, "num_channels": channels, "eps": float(imp.attr(norm, "epsilon", 1e-5)),
              "affine": bool(weights)}
    return _one(last, imp.layer(last, "GroupNorm", params, [x], weights))


def _affine(imp, node, scale, shift):
    """Whether a norm's scale and shift are learned: not the identity, or named as weights of the file."""
    identity = np.all(scale == 1) and (shift is None or np.all(shift == 0))
    return not identity or imp.is_parameter(node, 1)


def batch_norm(imp, node):
    x = imp.computed(node, 0)
    if imp.attr(node, "training_mode", 0) or any(imp.consumers.get(o) for o in node.output[1:] if o):
        imp.refuse(node, "training-mode batch normalisation (its running statistics as outputs) has no layer")
    scale, shift = imp.const(node, 1, "scale"), imp.const(node, 2, "bias")
    mean, var = imp.const(node, 3, "running mean"), imp.const(node, 4, "running variance")
    rank = _rank(imp, node)
    if rank not in (2, 3, 4):
        imp.refuse(node, f"batch normalisation of a rank-{rank} tensor has no layer")
    affine = _affine(imp, node, scale, shift)
    params = {"num_features": scale.size, "eps": float(imp.attr(node, "epsilon", 1e-5)),
              "momentum": round(1.0 - float(imp.attr(node, "momentum", 0.9)), 6), "affine": affine}
    weights = {**({"weight": scale, "bias": shift} if affine else {}), "running_mean": mean, "running_var": var,
               "num_batches_tracked": np.array(0, np.int64)}
    return _one(node, imp.layer(node, "BatchNorm2d" if rank == 4 else "BatchNorm1d", params, [x], weights))


def instance_norm(imp, node):
    x, scale, shift = imp.computed(node, 0), imp.const(node, 1, "scale"), imp.const(node, 2, "bias")
    if _rank(imp, node) != 4:
        imp.refuse(node, "instance normalisation of other than N×C×H×W has no layer")
    affine = _affine(imp, node, scale, shift)
    params = {"num_features": scale.size, "eps": float(imp.attr(node, "epsilon", 1e-5)), "affine": affine}
    weights = {"weight": scale, "bias": shift} if affine else {}
    return _one(node, imp.layer(node, "InstanceNorm2d", params, [x], weights))


def _layer_norm_params(imp, node, size):
    if any(imp.consumers.get(name) or name in imp.graph_outputs for name in node.output[1:] if name):
        imp.refuse(node, "its mean and inverse deviation outputs have no layer")
    scale, shift = imp.const(node, 1, "scale"), imp.const(node, 2, "bias", optional=True)
    for what, array in (("scale", scale), ("bias", shift)):
        if array is not None and last_axis_vector(array, size) is None:
            imp.refuse(node, f"a {what} of shape {array.shape} is not one value per feature of the last dimension "
                             f"({size})")
    affine = _affine(imp, node, scale, shift)
    params = {"normalized_shape": size, "eps": float(imp.attr(node, "epsilon", 1e-5)), "elementwise_affine": affine,
              "bias": shift is not None}
    weights = {}
    if affine:
        weights = {"weight": scale.reshape(size), **({"bias": shift.reshape(size)} if shift is not None else {})}
    return params, weights


def layer_norm(imp, node):
    x, rank = imp.computed(node, 0), _rank(imp, node)
    if _axis(imp, node, int(imp.attr(node, "axis", -1))) != rank - 1:
        imp.refuse(node, "a layer norm over more than the last dimension has no layer")
    params, weights = _layer_norm_params(imp, node, imp.sample_shape(node, node.input[0])[-1])
    return _one(node, imp.layer(node, "LayerNorm", params, [x], weights))


# ----- activations -----
def _simple(type_name, params=lambda imp, node: {}):
    def rule(imp, node):
        return _one(node, imp.layer(node, type_name, params(imp, node), [imp.computed(node, 0)]))

    return rule


def clip(imp, node):
    low = imp.attr(node, "min")
    high = imp.attr(node, "max")
    if len(node.input) > 1 and node.input[1]:
        low = float(imp.const(node, 1, "minimum"))
    if len(node.input) > 2 and node.input[2]:
        high = float(imp.const(node, 2, "maximum"))
    if low == 0 and high == 6:
        return _simple("ReLU6")(imp, node)
    if low == 0 and (high is None or high == math.inf):
        return _simple("ReLU")(imp, node)
    imp.refuse(node, f"clipping to [{low}, {high}] has no layer (ReLU6 is [0, 6], ReLU [0, ∞))")


def hard_sigmoid(imp, node):
    if not (math.isclose(imp.attr(node, "alpha", 0.2), 1 / 6, rel_tol=1e-5)
            and math.isclose(imp.attr(node, "beta", 0.5), 0.5)):
        imp.refuse(node, "only PyTorch's hard sigmoid (alpha 1/6, beta 0.5) has a layer")
    return _simple("Hardsigmoid")(imp, node)


def prelu(imp, node):
    x, slope = imp.computed(node, 0), imp.const(node, 1, "slope")
    sample = imp.sample_shape(node, node.input[0])
    vector = slope.reshape(1) if slope.size == 1 else channel_vector(slope, len(sample), sample[0])
    if vector is None:
        imp.refuse(node, f"a slope of shape {slope.shape} is not one per channel of {sample} (PReLU's slopes are "
                         "one, or one per channel)")
    return _one(node, imp.layer(node, "PReLU", {"num_parameters": vector.size}, [x], {"weight": vector}))


def _softmax_params(imp, node):
    """Before opset 13 the operator takes everything from ``axis`` on as one axis: that is a softmax along one
    dimension only when the others from there on have size 1."""
    if imp.opset >= 13:
        return {"dim": _axis(imp, node, int(imp.attr(node, "axis", -1)))}
    axis, sample = _axis(imp, node, int(imp.attr(node, "axis", 1))), imp.sample_shape(node, node.input[0])
    wide = [k for k in range(axis, len(sample) + 1) if sample[k - 1] != 1]
    if len(wide) > 1:
        imp.refuse(node, f"before opset 13 it normalises over axes {axis} to {len(sample)} together, which no "
                         "layer does (Softmax takes one dimension)")
    return {"dim": wide[0] if wide else axis}


def gelu(imp, node):
    return _simple("GELU", lambda imp, node: {"approximate": imp.attr(node, "approximate", "none")})(imp, node)


def selu(imp, node):
    if not (math.isclose(imp.attr(node, "alpha", 1.67326), 1.6732632, rel_tol=1e-4)
            and math.isclose(imp.attr(node, "gamma", 1.0507), 1.0507010, rel_tol=1e-4)):
        imp.refuse(node, "only SELU's standard alpha and gamma have a layer")
    return _simple("SELU")(imp, node)


def passthrough(imp, node):
    """Identity, and Dropout (the identity in inference)."""
    if len(node.output) > 1 and imp.consumers.get(node.output[1]):
        imp.refuse(node, "its mask output has no layer")
    training = imp.const(node, 2, "training mode", optional=True) if len(node.input) > 2 and node.input[2] else None
    if training is not None and bool(training):
        imp.refuse(node, "dropout in training mode is random; only its inference (the identity) has a layer")
    return _one(node, imp.computed(node, 0))


def resize(imp, node):
    x, spatial = imp.computed(node, 0), _spatial(imp, node)
    scales = imp.const(node, 2, "scales", optional=True) if len(node.input) > 2 else None
    if scales is None or scales.size == 0:
        sizes = imp.const(node, 3, "sizes").ravel()
        scales = np.concatenate([[1, 1], sizes[2:] / np.array(spatial)])
    factors = tuple(float(s) for s in scales.ravel())
    if factors[:2] != (1.0, 1.0) or any(f != int(f) or f < 1 for f in factors[2:]):
        imp.refuse(node, f"scales {factors} are not whole factors of H and W; Upsample enlarges by whole factors")
    mode, transform = imp.attr(node, "mode", "nearest"), imp.attr(node, "coordinate_transformation_mode",
                                                                   "half_pixel")
    scale = tuple(int(f) for f in factors[2:])
    if mode == "nearest" and transform == "asymmetric" and imp.attr(node, "nearest_mode", "round_prefer_floor") \
            == "floor":
        params = {"scale_factor": scale, "mode": "nearest"}
    elif mode == "linear" and transform in ("align_corners", "pytorch_half_pixel", "half_pixel"):
        params = {"scale_factor": scale, "mode": "bilinear", "align_corners": transform == "align_corners"}
    else:
        imp.refuse(node, f"mode {mode!r} with coordinates {transform!r} has no layer (Upsample is PyTorch's nearest "
                         "or bilinear)")
    return _one(node, imp.layer(node, "Upsample", params, [x]))


def depth_to_space(imp, node):
    if imp.attr(node, "mode", "DCR") != "CRD":
        imp.refuse(node, "DCR order has no layer (PixelShuffle is the CRD order)")
    return _simple("PixelShuffle", lambda imp, node: {"upscale_factor": int(imp.attr(node, "blocksize"))})(imp, node)


RULES = {
    "Conv": conv, "ConvTranspose": conv_transpose,
    "MaxPool": _pool("MaxPool2d"), "AveragePool": _pool("AvgPool2d"),
    "GlobalAveragePool": _global_pool("AdaptiveAvgPool2d"), "GlobalMaxPool": _global_pool("AdaptiveMaxPool2d"),
    "ReduceMean": reduce_mean, "Gather": gather,
    "Gemm": gemm, "MatMul": matmul,
    "Add": add, "Mul": mul, "Concat": concat, "Expand": expand, "Split": split,
    "Flatten": flatten, "Reshape": reshape, "Squeeze": squeeze, "Unsqueeze": unsqueeze,
    "Transpose": transpose,
    "BatchNormalization": batch_norm, "InstanceNormalization": instance_norm, "LayerNormalization": layer_norm,
    "Relu": _simple("ReLU"),
    "LeakyRelu": _simple("LeakyReLU", lambda imp, node: {"negative_slope": float(imp.attr(node, "alpha", 0.01))}),
    "Elu": _simple("ELU", lambda imp, node: {"alpha": float(imp.attr(node, "alpha", 1.0))}),
    "Selu": selu, "HardSwish": _simple("Hardswish"), "HardSigmoid": hard_sigmoid, "Clip": clip, "PRelu": prelu,
    "Gelu": gelu,
    "Softmax": _simple("Softmax", _softmax_params), "LogSoftmax": _simple("LogSoftmax", _softmax_params),
    "Identity": passthrough, "Dropout": passthrough,
    "Resize": resize, "DepthToSpace": depth_to_space, "Slice": slice_,
    **{op: formula for op in ("Sigmoid", "Tanh", "Softplus", "Div", "Sub", "Pow", "Erf", "Exp", "Log", "Neg", "Sqrt",
                              "Reciprocal", "Abs", "Greater", "Less", "Where", "Min", "Max")},
}
