"""``engine.cuda``: whether CUDA devices (through CuPy) are present, and how many."""

from . import backend
from .random import manual_seed as _seed


def is_available():
    return backend.cuda_device_count() > 0


def device_count():
    return backend.cuda_device_count()


def current_device():
    return 0


def synchronize(device=None):
    mod = backend.cuda_module()
    if mod is not None:
        mod.cuda.runtime.deviceSynchronize()


def manual_seed(seed):
    _seed(seed)


manual_seed_all = manual_seed
