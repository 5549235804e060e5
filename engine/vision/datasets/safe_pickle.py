"""Reading the pickled NumPy data of dataset files (CIFAR batches) without running code from them.

A pickle can name any importable callable and have the unpickler call it. CIFAR's batch files only need
dicts, lists, bytes and ndarrays, so the unpickler here resolves exactly the globals NumPy uses to rebuild
an array (plus the two forms in which Python 3 writes bytes at old protocols, checked) and refuses every
other name with an error naming the file; the refused object is never imported.
"""

import pickle

import numpy as np

from .utils import CorruptFileError

try:  # NumPy 2 keeps the implementation in numpy._core; numpy.core is a deprecated alias of it
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

_ALLOWED = {
    # ndarray.__reduce__ (pickle protocols 0-4): _reconstruct(ndarray, shape, typecode) then BUILD with the state
    ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): np.dtype,
    # ndarray.__reduce_ex__ at protocol 5 (Python 3.14's default): _frombuffer(buffer, dtype, shape, order)
    ("numpy.core.numeric", "_frombuffer"): _numeric._frombuffer,
    ("numpy._core.numeric", "_frombuffer"): _numeric._frombuffer,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")
        self._path = path
        # Python 3 writes bytes at protocols 0-2 as _codecs.encode(text, 'latin1'), and b'' as bytes():
        # admitted in exactly those forms.
        self._special = {("_codecs", "encode"): self._latin1_bytes, ("builtins", "bytes"): self._empty_bytes}

    def _latin1_bytes(self, text, encoding="latin1", errors="strict"):
        if not isinstance(text, str) or encoding.lower().replace("-", "").replace("_", "") != "latin1":
            raise CorruptFileError(self._path, "refusing _codecs.encode other than of a str to latin1")
        return text.encode("latin1")

    def _empty_bytes(self, *args):
        if args:
            raise CorruptFileError(self._path, "refusing builtins.bytes with arguments")
        return b""

    def find_class(self, module, name):
        try:
            return _ALLOWED.get((module, name)) or self._special[(module, name)]
        except KeyError:
            raise CorruptFileError(
                self._path,
                f"refusing to unpickle the global '{module}.{name}': dataset files may only contain plain data "
                "(dicts, lists, bytes, NumPy arrays); the file is corrupt or malicious") from None

    def persistent_load(self, pid):
        raise CorruptFileError(self._path, "refusing to unpickle a persistent id")


def load(path):
    """The object pickled in ``path``, built from plain data and NumPy arrays only (bytes keys kept)."""
    with open(path, "rb") as f:
        try:
            obj = _RestrictedUnpickler(f, path).load()
        except CorruptFileError:
            raise
        except Exception as e:  # truncated or malformed data: EOFError, UnpicklingError, ValueError, ...
            raise CorruptFileError(path, f"cannot read the pickled data ({type(e).__name__}: {e}); "
                                         "the file is truncated or corrupt") from e
        if f.read(1):
            raise CorruptFileError(path, "unexpected data after the end of the pickle")
    for arr in _arrays_in(obj):
        if arr.dtype.hasobject:
            raise CorruptFileError(path, "refusing an array of Python objects")
    return obj


def _arrays_in(obj):
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, np.ndarray):
            yield item
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
