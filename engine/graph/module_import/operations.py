"""The operations a trace follows between modules (``FOLLOWED``): each is wrapped while the module runs, runs
as usual, and records the layer that computes it when a traced tensor goes in. An operation on traced tensors
that has no layer here leaves its result untraced; whatever then reads that result is refused, and an
operation mixing a traced tensor with one the trace cannot explain is refused at once."""

import contextlib
import functools
import math
import threading

from ...nn import functional as F
from ...ops import shape as shape_ops
from ...tensor import Tensor
from .errors import TraceRefused
from .layers import pair

BATCH = 2  # the trace's sample batch: a size 2 in a shape is the batch, told apart from the sample's sizes 1


def _sizes(args, start):
    """Sizes given as ``f(x, 2, 3)`` or ``f(x, (2, 3))``."""
    rest = args[start:]
    return tuple(rest[0]) if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else tuple(rest)


def _arg(args, kwargs, k, name, default=None):
    return args[k] if len(args) > k else kwargs.get(name, default)


def _axis(axis, rank):
    return axis + rank if axis < 0 else axis


def _binary(type_name):
    def record(trace, args, kwargs, what):
        if kwargs.get("alpha", 1) != 1 or len(args) > 2:
            raise TraceRefused(f"{what}: an add with a scale (alpha) has no layer")
        a, b = args[0], _arg(args, kwargs, 1, "other")
        va, vb = trace.traced(a), trace.traced(b)
        if va is not None and vb is not None:
            return trace.add(type_name, {}, [va, vb], what)
        value, other = (va, b) if va is not None else (vb, a)
        constant = trace.constants.get(id(other)) if isinstance(other, Tensor) else None
        shape = trace.doc.shape(value)
        if type_name == "Add" and constant is not None and not constant[1] and len(shape) == 2:
            array = constant[0]
            if array.size == math.prod(shape) and tuple(array.shape[-2:]) == shape:
                return trace.add("PositionEmbedding", {}, [value], what, {"weight": array.reshape(shape)},
                                 name=trace.constant_name(other))
        raise TraceRefused(f"{what}: {type_name.lower()} with a constant or an untraced value has no layer (only a "
                           "learned N×D position embedding is added to tokens)")

    return record


def _flatten(trace, args, kwargs, what):
    start, end = _arg(args, kwargs, 1, "start_dim", 0), _arg(args, kwargs, 2, "end_dim", -1)
    x = trace.require(args[0], what)
    sample = trace.doc.shape(x)
    rank = len(sample) + 1
    start, end = _axis(start, rank), _axis(end, rank)
    if start == 0:
        raise TraceRefused(f"{what}: flattening the batch into the sample has no layer")
    if (start, end) == (1, rank - 1):
        return trace.add("Flatten", {}, [x], what)
    shape = (*sample[:start - 1], math.prod(sample[start - 1:end]), *sample[end:])
    return trace.add("Reshape", {"shape": shape}, [x], what)


def _reshape(trace, args, kwargs, what):
    x = trace.require(args[0], what)
    sample = trace.doc.shape(x)
    target = list(_sizes(args, 1) or kwargs.get("shape", ()))
    if not target or target[0] not in (BATCH, -1) or (target[0] == -1 and (
            -1 in target[1:] or math.prod(target[1:]) != math.prod(sample))):
        raise TraceRefused(f"{what}: a shape {tuple(target)} that does not keep the batch first has no layer")
    rest = target[1:]
    if rest == list(sample):
        return x
    if len(rest) == 1 and rest[0] in (-1, math.prod(sample)) and len(sample) > 1:
        return trace.add("Flatten", {}, [x], what)
    return trace.add("Reshape", {"shape": tuple(rest)}, [x], what)


def _permute(trace, args, kwargs, what):
    x = trace.require(args[0], what)
    rank = len(trace.doc.shape(x)) + 1
    dims = [_axis(d, rank) for d in _sizes(args, 1)]
    if not dims or dims[0] != 0:
        raise TraceRefused(f"{what}: a permutation that moves the batch has no layer")
    return trace.add("Permute", {"dims": tuple(d - 1 for d in dims[1:])}, [x], what)


def _transpose(trace, args, kwargs, what):
    x = trace.require(args[0], what)
    rank = len(trace.doc.shape(x)) + 1
    a, b = _axis(_arg(args, kwargs, 1, "dim0"), rank), _axis(_arg(args, kwargs, 2, "dim1"), rank)
    dims = list(range(rank))
    dims[a], dims[b] = dims[b], dims[a]
    return _permute(trace, (args[0], *dims), {}, what)


def _mean(trace, args, kwargs, what):
    x = trace.require(args[0], what)
    rank = len(trace.doc.shape(x)) + 1
    dim, keep = _arg(args, kwargs, 1, "dim"), bool(_arg(args, kwargs, 2, "keepdim", False))
    dims = sorted(_axis(d, rank) for d in (dim if isinstance(dim, (tuple, list)) else (dim,))) if dim is not None \
        else []
    if rank == 4 and dims == [2, 3]:
        return trace.add("Mean", {"keepdim": keep}, [x], what)
    if rank == 3 and dims == [1] and not keep:
        return trace.add("TokenPool", {"mode": "mean"}, [x], what)
    raise TraceRefused(f"{what}: a mean over {dims} of a rank-{rank} tensor has no layer")


def _cat(trace, args, kwargs, what):
    tensors, dim = list(_arg(args, kwargs, 0, "tensors")), _arg(args, kwargs, 1, "dim", 0)
    traced = [trace.traced(t) for t in tensors]
    rank = len(trace.doc.shape(next(v for v in traced if v is not None))) + 1
    axis = _axis(dim, rank)
    constant = trace.constants.get(id(tensors[0]))
    if len(tensors) == 2 and traced[0] is None and constant is not None and constant[1] and axis == 1 \
            and traced[1] is not None:
        return trace.add("ClassToken", {}, [traced[1]], what, {"weight": constant[0].reshape(1, -1)},
                         name=trace.constant_name(tensors[0]))
    if axis == 0 or None in traced:
        raise TraceRefused(f"{what}: joining along the batch, or an untraced value, has no layer (except a class "
                           "token before the tokens)")
    return trace.add("Concat", {"dim": axis - 1}, traced, what)


def _getitem(trace, args, kwargs, what):
    x = trace.require(args[0], what)
    index = args[1]
    if len(trace.doc.shape(x)) == 2 and isinstance(index, tuple) and len(index) == 2 and index[0] == slice(None) \
            and index[1] == 0:
        return trace.add("TokenPool", {"mode": "first"}, [x], what)
    raise TraceRefused(f"{what}: indexing other than x[:, 0] (the class token) has no layer")


def _layer(type_name, params=lambda args, kwargs: {}):
    def record(trace, args, kwargs, what):
        return trace.add(type_name, params(args, kwargs), [trace.require(args[0], what)], what)

    return record


def _max_pool(args, kwargs):
    if pair(_arg(args, kwargs, 4, "dilation", 1)) != (1, 1) or _arg(args, kwargs, 6, "return_indices", False):
        raise TraceRefused("max_pool2d with dilation or indices has no layer")
    kernel = pair(_arg(args, kwargs, 1, "kernel_size"))
    stride = _arg(args, kwargs, 2, "stride") or kernel
    return {"kernel_size": kernel, "stride": pair(stride), "padding": pair(_arg(args, kwargs, 3, "padding", 0)),
            "ceil_mode": bool(_arg(args, kwargs, 5, "ceil_mode", False))}


def _output_size(args, kwargs):
    return {"output_size": pair(_arg(args, kwargs, 1, "output_size"))}


def _softmax_dim(args, kwargs):
    return {"dim": _arg(args, kwargs, 1, "dim")}


RECORDERS = {
    "add": _binary("Add"), "mul": _binary("Multiply"), "flatten": _flatten, "reshape": _reshape,
    "permute": _permute, "transpose": _transpose, "mean": _mean, "cat": _cat, "getitem": _getitem,
    "relu": _layer("ReLU"), "relu6": _layer("ReLU6"), "sigmoid": _layer("Sigmoid"), "tanh": _layer("Tanh"),
    "silu": _layer("SiLU"), "gelu": _layer("GELU", lambda a, k: {"approximate": k.get("approximate", "none")}),
    "hardswish": _layer("Hardswish"), "hardsigmoid": _layer("Hardsigmoid"), "mish": _layer("Mish"),
    "softmax": _layer("Softmax", _softmax_dim), "log_softmax": _layer("LogSoftmax", _softmax_dim),
    "dropout": _layer("Dropout", lambda a, k: {"p": _arg(a, k, 1, "p", 0.5)}),
    "adaptive_avg_pool2d": _layer("AdaptiveAvgPool2d", lambda a, k: _output_size(a, k)),
    "adaptive_max_pool2d": _layer("AdaptiveMaxPool2d", lambda a, k: _output_size(a, k)),
    "max_pool2d": _layer("MaxPool2d", _max_pool),
}

# (namespace, attribute, recorder): the functions and tensor methods a trace wraps
FOLLOWED = (
    *((Tensor, name, "add") for name in ("__add__", "__radd__", "__iadd__", "add")),
    *((Tensor, name, "mul") for name in ("__mul__", "__rmul__", "__imul__", "mul")),
    (Tensor, "flatten", "flatten"), (Tensor, "view", "reshape"), (Tensor, "reshape", "reshape"),
    (Tensor, "permute", "permute"), (Tensor, "transpose", "transpose"), (Tensor, "mean", "mean"),
    (Tensor, "__getitem__", "getitem"), (Tensor, "relu", "relu"), (Tensor, "sigmoid", "sigmoid"),
    (Tensor, "tanh", "tanh"), (Tensor, "softmax", "softmax"), (Tensor, "expand", "expand"),
    # the shape functions as the ops module defines them, so that code importing them directly is followed too
    # (flatten and view come to reshape)
    (shape_ops, "reshape", "reshape"), (shape_ops, "cat", "cat"), (shape_ops, "permute", "permute"),
    (shape_ops, "transpose", "transpose"),
    *((F, name, name) for name in ("relu", "relu6", "sigmoid", "tanh", "silu", "gelu", "hardswish", "hardsigmoid",
                                   "mish", "softmax", "log_softmax", "dropout", "adaptive_avg_pool2d",
                                   "adaptive_max_pool2d", "max_pool2d", "flatten")),
)


def _wrapped(trace, original, recorder, what):
    @functools.wraps(original)
    def run(*args, **kwargs):
        if trace.inside_operation or threading.get_ident() != trace.thread:  # F.relu calling x.relu(): the outer
            return original(*args, **kwargs)  # call records; other threads' engine work is not the model's
        value, before = None, None
        if trace.active and recorder != "expand" and \
                any(trace.traced(a) is not None for a in _tensors((*args, *kwargs.values()))):
            value = RECORDERS[recorder](trace, args, kwargs, what)  # read before an in-place operation runs
            before = args[0]._version if isinstance(args[0], Tensor) else None
        trace.inside_operation = True
        try:
            result = original(*args, **kwargs)
        finally:
            trace.inside_operation = False
        if recorder == "expand" and trace.active:
            trace.expanded(args[0], result, _sizes(args, 1))
        elif value is not None and isinstance(result, Tensor):
            if result is args[0] and result._version == before:
                result = trace.alias(result)  # F.dropout in evaluation returns its input itself
            trace.set_value(result, value)
        return result

    return run


def _tensors(args):
    for a in args:
        if isinstance(a, Tensor):
            yield a
        elif isinstance(a, (list, tuple)):
            yield from (t for t in a if isinstance(t, Tensor))


TOP_LEVEL = ("flatten", "cat", "relu", "sigmoid", "tanh", "mean", "add", "mul", "permute", "transpose", "reshape",
             "softmax")  # the engine's own names for followed functions (torch.flatten, torch.cat...)


@contextlib.contextmanager
def followed(trace, top, namespaces):
    """While the block runs, the ``FOLLOWED`` operations record into ``trace``: as attributes of their owners,
    as ``TOP_LEVEL`` names of the engine module ``top``, and as names the global ``namespaces`` of the model's
    code imported directly (``from ...ops.shape import cat``)."""
    saved, wrappers = [], {}

    def replace(owner, name, recorder):
        original = getattr(owner, name)
        if original not in wrappers:
            wrappers[original] = _wrapped(trace, original, recorder, name)
        saved.append((owner, name, original))
        setattr(owner, name, wrappers[original])

    try:
        for owner, name, recorder in FOLLOWED:
            replace(owner, name, recorder)
        for name in TOP_LEVEL:
            replace(top, name, name)
        for space in namespaces:
            for name, value in list(space.items()):
                if callable(value) and not isinstance(value, type) and value in wrappers:
                    saved.append((space, name, value))
                    space[name] = wrappers[value]
        yield
    finally:
        for owner, name, original in reversed(saved):
            if isinstance(owner, dict):
                owner[name] = original
            else:
                setattr(owner, name, original)
