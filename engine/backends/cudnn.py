"""``torch.backends.cudnn``: the engine's GPU path is CuPy's own kernels, never cuDNN, so ``is_available`` is
False and the switches (``enabled``, ``benchmark``, ``deterministic``, ``allow_tf32``) are settings that
scripts may set and read back, with no effect on results."""

import contextlib

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True
benchmark_limit = 10


def is_available():
    return False


def version():
    return None


@contextlib.contextmanager
def flags(enabled=False, benchmark=False, benchmark_limit=10, deterministic=False, allow_tf32=True):
    """Set the switches for a block and restore them after, as ``torch.backends.cudnn.flags``."""
    module = globals()
    names = ("enabled", "benchmark", "benchmark_limit", "deterministic", "allow_tf32")
    saved = {name: module[name] for name in names}
    module.update(enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                  deterministic=deterministic, allow_tf32=allow_tf32)
    try:
        yield
    finally:
        module.update(saved)
