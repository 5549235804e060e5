"""``engine.accelerator``: the device-agnostic view of the accelerator, as ``torch.accelerator`` gives it.

The engine's one accelerator is CUDA through CuPy (``engine.cuda``), so this module is a thin layer over
``engine.cuda`` and the backend; ``current_accelerator()`` is None on a machine where CuPy sees no GPU.
"""

import warnings

from . import backend, cuda
from .backend import device as _device

_NONE_AVAILABLE = "Cannot access accelerator device when none is available."


def current_accelerator(check_available=False):
    """``device('cuda')`` where CuPy sees a GPU, else None (``check_available`` also asks ``is_available``)."""
    if backend.cuda_module() is None or (check_available and not is_available()):
        return None
    return _device("cuda")


def is_available():
    return cuda.is_available()


def device_count():
    return cuda.device_count()


def current_device_index():
    _require_accelerator()
    return backend.current_cuda_index()


def set_device_index(device, /):
    """Make ``device`` (an index, ``'cuda:1'`` or a device) the current one; a negative index is a no-op."""
    index = _device_index(device, optional=False)
    _require_accelerator()
    if index >= 0:
        backend.set_current_cuda_index(index)


def current_device_idx():
    """Deprecated name of :func:`current_device_index`."""
    warnings.warn("Use `current_device_index` instead.", FutureWarning, stacklevel=2)
    return current_device_index()


def set_device_idx(device, /):
    """Deprecated name of :func:`set_device_index`."""
    warnings.warn("Use `set_device_index` instead.", FutureWarning, stacklevel=2)
    set_device_index(device)


def synchronize(device=None, /):
    """Wait for the work queued on ``device`` (default: the current device) to finish."""
    index = _device_index(device, optional=True)
    _require_accelerator()
    with backend.device_context(_device("cuda", index)):
        cuda.synchronize()


class device_index:
    """``with device_index(i):`` makes device ``i`` current inside the block; None switches nothing."""

    def __init__(self, device, /):
        self.idx = device
        self.prev_idx = -1

    def __enter__(self):
        if self.idx is not None:
            self.prev_idx = current_device_index()
            set_device_index(self.idx)

    def __exit__(self, *exc):
        if self.idx is not None:
            set_device_index(self.prev_idx)
        return False


def _require_accelerator():
    if backend.cuda_module() is None:
        raise RuntimeError(_NONE_AVAILABLE)


def _device_index(device, optional):
    """``device`` as an index of the accelerator, as ``torch.accelerator._utils._get_device_index`` reads it."""
    if isinstance(device, int):
        return device
    if device is None:
        if not optional:
            raise ValueError(f"Expected a torch.device with a specified index or an integer, but got:{device}")
        return current_device_index()
    device = _device(device)
    acc = current_accelerator()
    if acc is None:
        raise RuntimeError("Accelerator expected")
    if acc.type != device.type:
        raise ValueError(f"{device.type} doesn't match the current accelerator {acc.type}.")
    return device.index
