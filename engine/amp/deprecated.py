"""The deprecated spellings ``torch.cpu.amp.autocast``, ``torch.cuda.amp.autocast``, their ``GradScaler``s and
``torch.cuda.amp.custom_fwd/custom_bwd``, each warning with PyTorch's FutureWarning and naming its replacement."""

import functools
import warnings

from .. import dtypes
from .autocast_mode import autocast
from .custom_function import custom_bwd, custom_fwd
from .grad_scaler import GradScaler


def _deprecated(name, device_type, *, autocast_dtype=None):
    """A subclass of ``autocast`` (with ``autocast_dtype``) or ``GradScaler`` bound to ``device_type``."""
    what = "autocast" if autocast_dtype is not None else "GradScaler"
    message = (f"`torch.{device_type}.amp.{what}(args...)` is deprecated. Please use "
               f"`torch.amp.{what}('{device_type}', args...)` instead.")
    if autocast_dtype is not None:
        def __init__(self, enabled=True, dtype=autocast_dtype, cache_enabled=True):
            warnings.warn(message, FutureWarning, stacklevel=2)
            autocast.__init__(self, device_type, dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)

        return type(name, (autocast,), {"__init__": __init__, "__doc__": message})

    def __init__(self, init_scale=2.0**16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000,
                 enabled=True):
        warnings.warn(message, FutureWarning, stacklevel=2)
        GradScaler.__init__(self, device_type, init_scale=init_scale, growth_factor=growth_factor,
                            backoff_factor=backoff_factor, growth_interval=growth_interval, enabled=enabled)

    return type(name, (GradScaler,), {"__init__": __init__, "__doc__": message})


cpu_autocast = _deprecated("autocast", "cpu", autocast_dtype=dtypes.bfloat16)
cuda_autocast = _deprecated("autocast", "cuda", autocast_dtype=dtypes.float16)
cpu_grad_scaler = _deprecated("GradScaler", "cpu")
cuda_grad_scaler = _deprecated("GradScaler", "cuda")


def cuda_custom_fwd(fwd=None, *, cast_inputs=None):
    warnings.warn("`torch.cuda.amp.custom_fwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_fwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return functools.partial(custom_fwd, device_type="cuda")(fwd=fwd, cast_inputs=cast_inputs)


def cuda_custom_bwd(bwd):
    warnings.warn("`torch.cuda.amp.custom_bwd(args...)` is deprecated. Please use "
                  "`torch.amp.custom_bwd(args..., device_type='cuda')` instead.", FutureWarning, stacklevel=2)
    return functools.partial(custom_bwd, device_type="cuda")(bwd)
