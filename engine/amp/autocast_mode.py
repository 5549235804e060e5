"""``autocast`` (context manager and decorator) and the functions that read and set its state, as in
``torch.amp.autocast_mode``; which op runs in which dtype is ``policy``'s table."""

import functools
import warnings

from .. import backend, dtypes
from ..autocast_state import state

_DEVICE_TYPES = ("cpu", "cuda")
_SUPPORTED_DTYPES = (dtypes.bfloat16, dtypes.float16)
# The device types PyTorch knows, for its message on a name it does not
_KNOWN = ("cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, xla, lazy, vulkan, mps, meta, "
          "hpu, mtia, privateuseone")


def _checked(device_type):
    if device_type in _DEVICE_TYPES:
        return device_type
    if device_type in _KNOWN.split(", "):
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    raise RuntimeError(f"Expected one of {_KNOWN} device type at start of device string: {device_type}")


def is_autocast_available(device_type):
    """Whether autocast can run on ``device_type`` here (the CPU and CUDA)."""
    return device_type in _DEVICE_TYPES


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` (CUDA when none is given, as in PyTorch)."""
    return state.enabled[_checked("cuda" if device_type is None else device_type)]


def set_autocast_enabled(device_type, enabled):
    state.enabled[_checked(device_type)] = bool(enabled)
    state.refresh()


def get_autocast_dtype(device_type):
    """The dtype autocast uses on ``device_type``: bfloat16 on the CPU, float16 on CUDA unless changed."""
    return state.dtype[_checked(device_type)]


def set_autocast_dtype(device_type, dtype):
    state.dtype[_checked(device_type)] = dtypes.to_dtype(dtype)


def _deprecated_getter(name, getter, device_type):
    def get():
        warnings.warn(f"torch.{name}() is deprecated. Please use torch.{getter.__name__}('{device_type}') instead.",
                      DeprecationWarning, stacklevel=2)
        return getter(device_type)

    get.__name__ = name
    return get


is_autocast_cpu_enabled = _deprecated_getter("is_autocast_cpu_enabled", is_autocast_enabled, "cpu")
get_autocast_cpu_dtype = _deprecated_getter("get_autocast_cpu_dtype", get_autocast_dtype, "cpu")
get_autocast_gpu_dtype = _deprecated_getter("get_autocast_gpu_dtype", get_autocast_dtype, "cuda")


def is_autocast_cache_enabled():
    return state.cache_enabled


def set_autocast_cache_enabled(enabled):
    state.cache_enabled = bool(enabled)


def clear_autocast_cache():
    state.cache.clear()


class autocast:
    """Run the ops of a region (or a decorated function) in mixed precision on ``device_type``: matrix
    products and convolutions in ``dtype`` (float16 on CUDA, bfloat16 on the CPU by default), precision-
    sensitive ops in float32. Regions nest; ``enabled=False`` turns autocast off inside one. Gradients come
    back in the dtypes of the tensors they belong to."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = _checked(device_type)
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else dtypes.to_dtype(dtype)
        self._cache_enabled = state.cache_enabled if cache_enabled is None else cache_enabled
        if enabled:
            if self.device == "cuda":
                if backend.cuda_device_count() == 0:
                    warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.",
                                  stacklevel=2)
                    enabled = False
                elif self.fast_dtype is dtypes.bfloat16:
                    raise RuntimeError("Current CUDA Device does not support bfloat16. Please switch dtype to "
                                       "float16.")
            elif self.fast_dtype not in _SUPPORTED_DTYPES:
                name = self.device.upper()
                warnings.warn(f"In {name} autocast, but the target dtype is not supported. Disabling autocast.\n"
                              f"{name} Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.",
                              stacklevel=2)
                enabled = False
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = state.cache_enabled
        self.prev = state.enabled[self.device]
        self.prev_fastdtype = state.dtype[self.device]
        state.enabled[self.device] = self._enabled
        state.dtype[self.device] = self.fast_dtype
        state.nesting += 1
        state.cache_enabled = self._cache_enabled
        state.refresh()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        state.nesting -= 1
        if state.nesting == 0:
            state.cache.clear()
        state.enabled[self.device] = self.prev
        state.dtype[self.device] = self.prev_fastdtype
        state.cache_enabled = self.prev_cache_enabled
        state.refresh()
        return False

    def __call__(self, func):
        if not callable(func):
            raise TypeError(
                f"autocast()(func) requires a callable, but got {type(func).__name__}. "
                "Did you mean to use autocast as a context manager? For example:\n"
                "    with torch.autocast(device_type=...):\n"
                "        output = model(input)")

        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast
