"""``torch.backends.mkldnn``: oneDNN, which the engine runs convolutions on where PyPI's ``onednn-cpu-gomp`` is
installed (``engine.ops.onednn``). As PyTorch's, ``enabled = False`` (or the ``flags`` block) turns it off: the
engine's own kernels then take every convolution."""

import contextlib
import sys
import types

from ..ops import onednn


def is_available():
    return onednn.available()


@contextlib.contextmanager
def flags(enabled=False):
    """Set ``enabled`` for a block and restore it after, as ``torch.backends.mkldnn.flags``."""
    saved = onednn.enabled
    onednn.enabled = bool(enabled)
    try:
        yield
    finally:
        onednn.enabled = saved


class _Switch(types.ModuleType):
    """The module, with ``enabled`` read from and written to the one setting that the convolutions consult."""

    @property
    def enabled(self):
        return onednn.enabled

    @enabled.setter
    def enabled(self, value):
        onednn.enabled = bool(value)


sys.modules[__name__].__class__ = _Switch
