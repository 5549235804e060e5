"""``as_strided`` for whichever array module an array belongs to."""

import numpy as np

_np_as_strided = np.lib.stride_tricks.as_strided


def as_strided(xp, a, shape, strides):
    """``as_strided`` of the array's own module (NumPy, CuPy, or a NumPy subclass standing in for it)."""
    if xp is np:
        return _np_as_strided(a, shape, strides)
    if isinstance(a, np.ndarray):  # a NumPy subclass posing as a device array keeps its type
        return _np_as_strided(a, shape, strides, subok=True)
    return xp.lib.stride_tricks.as_strided(a, shape=shape, strides=strides)
