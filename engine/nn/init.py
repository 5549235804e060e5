"""Parameter initialisation, as ``torch.nn.init``: every function fills a tensor in place and returns it."""

import math
import warnings

import numpy as np

from ..autograd.grad_mode import no_grad
from ..random import normal_array, uniform_array

_GAINS = {"linear": 1, "conv1d": 1, "conv2d": 1, "conv3d": 1, "conv_transpose1d": 1, "conv_transpose2d": 1,
          "conv_transpose3d": 1, "sigmoid": 1, "tanh": 5.0 / 3, "relu": math.sqrt(2.0), "selu": 3.0 / 4}


def calculate_gain(nonlinearity, param=None):
    if nonlinearity in _GAINS:
        return _GAINS[nonlinearity]
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float)) and not isinstance(param, bool):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = 1
    for s in tensor.shape[2:]:
        receptive *= s
    return tensor.shape[1] * receptive, tensor.shape[0] * receptive


def _fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, data):
    with no_grad():
        tensor._data[...] = data
        tensor._bump_version()
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    return _fill(tensor, uniform_array(tensor.shape, a, b, tensor.device, generator, tensor._data.dtype))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    return _fill(tensor, normal_array(tensor.shape, mean, std, tensor.device, generator, tensor._data.dtype))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Normal values in [a, b], by PyTorch's two rejection samplers: normal draws redrawn outside [a, b] where
    most fall inside (p > 0.3), else uniform draws in [a, b] kept with the normal's density relative to its
    peak there, so that a window far in a tail still fills in a few rounds."""
    if mean < a - 2 * std or mean > b + 2 * std:
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. The distribution of values "
                      "may be incorrect.", stacklevel=2)
    xp, shape, dev, dt = tensor.xp, tensor.shape, tensor.device, tensor._data.dtype
    p = _norm_cdf((b - mean) / std) - _norm_cdf((a - mean) / std)
    if p > 0.3:
        def draw():
            return normal_array(shape, mean, std, dev, generator, dt)

        def accepted(v):
            return (v >= a) & (v <= b)
    else:
        mode = max(a, min(mean, b))
        log_peak = -0.5 * ((mode - mean) / std) ** 2

        def draw():
            return uniform_array(shape, a, b, dev, generator, dt)

        def accepted(v):
            z = (v - mean) / std
            return xp.log(uniform_array(shape, 0, 1, dev, generator, dt)) <= z * z * -0.5 - log_peak
    out = draw()
    pending = ~accepted(out)
    while bool(pending.any()):
        fresh = draw()
        out = xp.where(pending, fresh, out)
        pending &= ~accepted(fresh)
    return _fill(tensor, out)


def _norm_cdf(x):
    return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0


def constant_(tensor, val):
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    return _fill(tensor, tensor.xp.eye(*tensor.shape, dtype=tensor._data.dtype))


def dirac_(tensor, groups=1):
    """The identity convolution: output channel ``g * (C_out / groups) + d`` copies input channel ``d`` at the
    kernel's centre, so a conv layer starts by passing its input through."""
    ndim = tensor.dim()
    if ndim not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.shape
    if sizes[0] % groups != 0:
        raise ValueError("dim 0 must be divisible by groups")
    per_group = sizes[0] // groups
    xp = tensor.xp
    out = xp.zeros(sizes, dtype=tensor._data.dtype)
    d = xp.arange(min(per_group, sizes[1]))
    rows = (xp.arange(groups)[:, None] * per_group + d).reshape(-1)
    centre = tuple(k // 2 for k in sizes[2:])
    out[(rows, xp.tile(d, groups), *centre)] = 1
    return _fill(tensor, out)


def orthogonal_(tensor, gain=1, generator=None):
    """A (semi-)orthogonal matrix (the tensor flattened to rows x rest): the Q of a normal matrix's QR
    decomposition, signs fixed by R's diagonal so that Q is uniformly distributed."""
    if tensor.dim() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if tensor.numel() == 0:
        return tensor
    rows = tensor.shape[0]
    cols = tensor.numel() // rows
    draw_dtype = np.float64 if tensor._data.dtype == np.float64 else np.float32
    flat = normal_array((rows, cols), 0.0, 1.0, tensor.device, generator, draw_dtype)
    if rows < cols:
        flat = flat.T
    q, r = tensor.xp.linalg.qr(flat)
    q *= tensor.xp.sign(tensor.xp.diagonal(r))
    if rows < cols:
        q = q.T
    if gain != 1:
        q *= draw_dtype(gain)
    return _fill(tensor, q.reshape(tensor.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Normal values (0, ``std``) with ``ceil(sparsity * rows)`` random entries of each column set to zero."""
    if tensor.dim() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.shape
    num_zeros = math.ceil(sparsity * rows)
    xp = tensor.xp
    values = normal_array((rows, cols), 0.0, std, tensor.device, generator, tensor._data.dtype)
    order = xp.argsort(uniform_array((rows, cols), 0, 1, tensor.device, generator), axis=0)
    rank = xp.argsort(order, axis=0)  # each entry's place in its column's random permutation
    return _fill(tensor, xp.where(rank < num_zeros, values.dtype.type(0), values))


def xavier_uniform_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    bound = gain * math.sqrt(6.0 / float(fan_in + fan_out))
    return uniform_(tensor, -bound, bound, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return normal_(tensor, 0.0, gain * math.sqrt(2.0 / float(fan_in + fan_out)), generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=2)
        return tensor
    std = calculate_gain(nonlinearity, a) / math.sqrt(_fan(tensor, mode))
    return normal_(tensor, 0.0, std, generator)


def default_layer_init_(weight, bias=None):
    """How PyTorch initialises Linear and Conv layers: kaiming_uniform(a=sqrt(5)) for the weight, and the
    bias uniform in +-1/sqrt(fan_in)."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)
