"""``custom_fwd`` and ``custom_bwd``: decorators for a custom ``autograd.Function``'s ``forward`` and ``backward``
under autocast, as in PyTorch: ``forward`` may run with autocast off on inputs cast to ``cast_inputs``, and
``backward`` runs in the autocast state ``forward`` ran in."""

import functools
from collections import abc

from ..tensor import Tensor
from .autocast_mode import autocast, get_autocast_dtype, is_autocast_enabled
from .policy import eligible


def _cast(value, device_type, dtype):
    """``value`` with its floating tensors of ``device_type`` (float64 excepted) cast to ``dtype``; containers
    are walked as PyTorch's ``autocast_mode._cast`` walks them."""
    if isinstance(value, Tensor):
        return value.to(dtype) if eligible(value, device_type) else value
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, abc.Mapping):
        return {_cast(k, device_type, dtype): _cast(v, device_type, dtype) for k, v in value.items()}
    if isinstance(value, abc.Iterable):
        cast = (_cast(v, device_type, dtype) for v in value)
        return type(value)(cast) if isinstance(value, (list, tuple)) else cast
    return value


def _checked(device_type):
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")


def custom_fwd(fwd=None, *, device_type, cast_inputs=None):
    """Decorate ``forward``: with ``cast_inputs``, inside an autocast region it runs with autocast off on its
    floating inputs cast to that dtype; without, it runs as autocast has it. ``backward`` follows suit."""
    _checked(device_type)
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        args[0]._fwd_used_autocast = False
        if not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        with autocast(device_type=device_type, enabled=False):
            return fwd(*_cast(args, device_type, cast_inputs), **_cast(kwargs, device_type, cast_inputs))

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type):
    """Decorate ``backward``: it runs with the autocast state (enabled, dtype) its ``forward`` ran with."""
    _checked(device_type)
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(device_type=device_type, enabled=args[0]._fwd_used_autocast, dtype=args[0]._dtype):
            return bwd(*args, **kwargs)

    return decorate_bwd
