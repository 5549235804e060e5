"""``engine.cuda``: whether CUDA devices (through CuPy) are present, and how many."""

from . import backend
from .amp import cuda as amp  # noqa: F401  (torch.cuda.amp)
from .random import manual_seed as _seed


def is_available():
    return backend.cuda_device_count() > 0


def device_count():
    return backend.cuda_device_count()


def current_device():
    """The index of the current CUDA device (where a bare ``'cuda'`` points)."""
    return backend.current_cuda_index()


def set_device(device):
    """Make ``device`` (an index, ``'cuda:N'`` or a ``device``) the current CUDA device; a negative index is a
    no-op, as in PyTorch."""
    index = device if isinstance(device, int) else backend.device(device).index
    if index is not None and index >= 0:
        backend.set_current_cuda_index(index)


def synchronize(device=None):
    mod = backend.cuda_module()
    if mod is not None:
        mod.cuda.runtime.deviceSynchronize()


def manual_seed(seed):
    _seed(seed)


manual_seed_all = manual_seed
