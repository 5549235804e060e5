"""Dropout: ``dropout`` (elements), ``dropout1d``/``dropout2d``/``dropout3d`` (whole channels) and the
self-normalising ``alpha_dropout``/``feature_alpha_dropout``, one graph node each, the mask drawn from the
engine's generator (``engine.random``) on the input's device.

Names, arguments, warnings and errors follow ``torch.nn.functional``; as PyTorch does on the CPU, an
identity dropout (eval mode, ``p == 0``, an empty input) returns the input tensor itself.
"""

import math
import warnings

from ..backend import array_module, device_context
from ..dtypes import FLOAT_KINDS, legacy_name
from ..random import uniform_array
from ..tensor import make_tensor
from .inplace import apply_inplace
from .op import Op, xp_of


class Dropout(Op):
    """``x * keep * scale``, plus ``shift = (where dropped, where kept)`` if given; backward multiplies by the
    same mask."""

    __slots__ = ("keep", "scale")
    _name = "MulBackward0"
    saves_tensors = True

    def forward(self, x, keep=None, scale=1.0, shift=None):
        self.keep, self.scale = keep, scale
        y = x * keep
        if scale != 1:
            y *= x.dtype.type(scale)
        if shift is not None:
            t = y.dtype.type
            y += xp_of(y).where(keep, t(shift[1]), t(shift[0]))
        return y

    def backward(self, g):
        gx = g * self.keep
        if self.scale != 1:
            gx *= g.dtype.type(self.scale)
        return (gx,)

    def backward_graph(self, g):
        gx = g * make_tensor(self.keep, g._device)
        return (gx * self.scale if self.scale != 1 else gx,)


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


# SELU's negative saturation value, -scale * alpha: alpha dropout sets dropped units to it
_ALPHA = 1.7580993408473766


def _dropout(input, p, training, inplace, mask_shape, alpha=False):
    if not training or p == 0 or input._data.size == 0:
        return input
    if input._data.dtype.kind not in FLOAT_KINDS:
        raise RuntimeError(f"result type Float can't be cast to the desired output type "
                           f"{legacy_name(input._data.dtype)}")
    if p == 1:
        with device_context(input._device):
            keep = array_module(input._device).zeros(mask_shape, dtype=bool)
        scale = 1.0
        shift = None
    else:
        keep = uniform_array(mask_shape, 0, 1, input._device) >= p
        scale = 1.0 / (1.0 - p)
        shift = None
        if alpha:  # keep the mean and variance of a unit normal input, as PyTorch's formula does
            scale = 1.0 / math.sqrt((_ALPHA * _ALPHA * p + 1) * (1 - p))
            shift = (_ALPHA * scale * (p - 1), _ALPHA * scale * p)
    if inplace:
        return apply_inplace(input, lambda s: Dropout.apply(s, keep=keep, scale=scale, shift=shift))
    return Dropout.apply(input, keep=keep, scale=scale, shift=shift)


def dropout(input, p=0.5, training=True, inplace=False):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``."""
    _check_p(p)
    return _dropout(input, p, training, inplace, input._data.shape)


def _feature_dropout(input, p, training, inplace, alpha=False):
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    return _dropout(input, p, training, inplace, shape[:2] + (1,) * (len(shape) - 2), alpha)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, L) or (C, L) inputs with probability ``p``."""
    _check_p(p)
    ndim = input._data.ndim
    if ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {ndim}D input. Note that dropout1d "
                           "exists to provide channel-wise dropout on inputs with 1 spatial dimension, a channel "
                           "dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    if ndim == 2:  # unbatched: one mask entry per channel
        shape = input._data.shape
        return _dropout(input, p, training, inplace, (shape[0], 1))
    return _feature_dropout(input, p, training, inplace)


def _warn_unusual_rank(k, ndim):
    """PyTorch's deprecation warning for a dropout{k}d input that is neither k + 1 nor k + 2 dimensional."""
    if ndim not in (k + 1, k + 2):
        warnings.warn(f"dropout{k}d: Received a {ndim}-D input to dropout{k}d, which is deprecated and will result in "
                      "an error in a future release. To retain the behavior and silence this warning, please use "
                      f"dropout instead. Note that dropout{k}d exists to provide channel-wise dropout on inputs with "
                      f"{k} spatial dimensions, a channel dimension, and an optional batch dimension (i.e. {k + 1}D or "
                      f"{k + 2}D inputs).", stacklevel=3)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, H, W) inputs with probability ``p`` (a 3-D input is taken as (N, C, L))."""
    _check_p(p)
    ndim = input._data.ndim
    _warn_unusual_rank(2, ndim)
    if ndim == 3:
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
                      "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
                      "will change in a future release to interpret the input as one without a batch dimension, i.e. "
                      "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
                      "dropout1d instead.", stacklevel=2)
    return _feature_dropout(input, p, training, inplace)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W) inputs with probability ``p``."""
    _check_p(p)
    ndim = input._data.ndim
    _warn_unusual_rank(3, ndim)
    if ndim != 5:  # taken as unbatched: one mask entry per channel (dim 0)
        shape = input._data.shape
        return _dropout(input, p, training, inplace, shape[:1] + (1,) * (ndim - 1))
    return _feature_dropout(input, p, training, inplace)


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout for SELU networks: dropped units take SELU's saturation value and an affine map keeps a unit
    normal input's mean and variance."""
    _check_p(p)
    return _dropout(input, p, training, inplace, input._data.shape, alpha=True)


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """``alpha_dropout`` of whole channels (axis 1)."""
    _check_p(p)
    return _feature_dropout(input, p, training, inplace, alpha=True)


__all__ = ["alpha_dropout", "dropout", "dropout1d", "dropout2d", "dropout3d", "feature_alpha_dropout"]
