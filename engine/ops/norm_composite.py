"""Normalisations that PyTorch itself composes from other ops: instance_norm (batch norm over a (1, N * C, ...)
view), local_response_norm (a window mean over channels) and rms_norm. Autograd differentiates the
compositions, twice included, so they carry no backward of their own.

Names, arguments and errors follow ``torch.nn.functional``.
"""

import numpy as np

from ..dtypes import FLOAT_KINDS, legacy_name
from .norm import _prod, _size, batch_norm, checked_normalized_shape
from .pad import pad
from .pool import avg_pool2d


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalise each channel of each sample over its spatial positions, as PyTorch does: batch norm of the
    (1, N * C, ...) view with the parameters and running statistics repeated N times; the running statistics
    then take the mean of their N updated copies."""
    shape = input._data.shape
    if use_input_stats:
        if _prod(shape[2:]) == 1:
            raise ValueError(f"Expected more than 1 spatial element when training, got input size {_size(shape)}")
    elif running_mean is None or running_var is None:
        raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
    n, c = shape[0], shape[1]

    def repeated(t):
        return None if t is None else t.repeat(n)

    rm, rv = repeated(running_mean), repeated(running_var)
    out = batch_norm(input.reshape(1, n * c, *shape[2:]), rm, rv, repeated(weight), repeated(bias),
                     use_input_stats, momentum, eps)
    for stats, copies in ((running_mean, rm), (running_var, rv)):
        if stats is not None:
            stats.copy_(copies.reshape(n, c).mean(0))
    return out.reshape(shape)


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divide each value by ``(k + alpha * mean of the squares over a window of size channels) ** beta``, the
    window centred on its channel (zero beyond the ends)."""
    dim = input.dim()
    if dim < 3:
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {dim} dimensions)")
    if input.numel() == 0:
        return input
    if dim > 3 and size <= 0:  # PyTorch pools these in 3-d, whose message names kT
        raise RuntimeError(f"kernel size should be greater than zero, but got kT: {size} kH: 1 kW: 1")
    shape = input.shape
    div = (input * input).reshape(shape[0], 1, shape[1], -1)
    div = avg_pool2d(pad(div, (0, 0, size // 2, (size - 1) // 2)), (size, 1), stride=1).reshape(shape)
    return input / (div * alpha + k) ** beta


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """``input * rsqrt(mean of its squares over the trailing normalized_shape dims + eps) * weight``; ``eps``
    None is the machine epsilon of the computation's dtype. float16 and bfloat16 compute in float32, as in
    PyTorch."""
    ns = checked_normalized_shape("rms_norm", input, normalized_shape, weight=weight)
    dt = input._data.dtype
    if dt.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"rms_norm" not implemented for \'{legacy_name(dt)}\'')
    wide = dt.itemsize < 4
    x = input.float() if wide else input
    if eps is None:
        eps = float(np.finfo(np.float64 if dt == np.float64 else np.float32).eps)
    y = x * (x * x).mean(tuple(range(-len(ns), 0)), keepdim=True).add(eps).rsqrt()
    if wide:
        y = y.to(input.dtype)
    return y if weight is None else y * weight


__all__ = ["instance_norm", "local_response_norm", "rms_norm"]
