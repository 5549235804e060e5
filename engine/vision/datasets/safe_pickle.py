"""Reading the pickled NumPy data of dataset files (CIFAR batches) without running code from them, in time
and memory linear in the file's size.

A pickle can name any importable callable and have the unpickler call it. CIFAR's batch files only need
dicts, lists, bytes and ndarrays, so the unpickler here resolves exactly the names NumPy uses to rebuild an
array (plus the two forms in which Python 3 writes bytes at old protocols), each behind a check, and refuses
every other name with an error naming the file; the refused object is never imported.

Memory: the file is read whole under a byte budget and unpickled from memory (a length the pickle claims
cannot make a read allocate more than the file holds); ``ndarray`` is never callable from the pickle, an
array starts empty, and its state (BUILD) or buffer (protocol 5) is checked against its shape and dtype
before NumPy sees it, so no array is larger than the data the file holds, and none holds Python objects.
This uses the pure-Python unpickler, whose BUILD can be intercepted (the C one calls ``__setstate__``).
"""

import io
import math
import os
import pickle
from typing import ClassVar

import numpy as np

from ...utils.files import open_regular
from .utils import CorruptFileError

try:  # NumPy 2 keeps the implementation in numpy._core; numpy.core is a deprecated alias of it
    from numpy._core import multiarray as _multiarray
    from numpy._core import numeric as _numeric
except ImportError:  # NumPy 1.x
    from numpy.core import multiarray as _multiarray
    from numpy.core import numeric as _numeric

MAX_BYTES = 256 << 20  # a CIFAR batch file is about 31 MB
_NDARRAY = object()  # what the pickle gets for numpy.ndarray: a name to pass to _reconstruct, not a callable


class _RestrictedUnpickler(pickle._Unpickler):
    def __init__(self, file, path):
        super().__init__(file, encoding="bytes")
        self._path = path
        self._names = {
            # ndarray.__reduce__ (protocols 0-4): _reconstruct(ndarray, (0,), b'b'), then BUILD with the state
            ("numpy.core.multiarray", "_reconstruct"): self._reconstruct,
            ("numpy._core.multiarray", "_reconstruct"): self._reconstruct,
            ("numpy", "ndarray"): _NDARRAY,
            ("numpy", "dtype"): self._dtype,
            # ndarray.__reduce_ex__ at protocol 5: _frombuffer(buffer, dtype, shape, order)
            ("numpy.core.numeric", "_frombuffer"): self._frombuffer,
            ("numpy._core.numeric", "_frombuffer"): self._frombuffer,
            # Python 3 writes bytes at protocols 0-2 as _codecs.encode(text, 'latin1'), and b'' as bytes()
            # (named __builtin__.bytes there, Python 2's name, and builtins.bytes at protocol 3 and above)
            ("_codecs", "encode"): self._latin1_bytes,
            ("builtins", "bytes"): self._empty_bytes,
            ("__builtin__", "bytes"): self._empty_bytes,
        }

    def _refuse(self, problem):
        raise CorruptFileError(self._path, problem)

    def find_class(self, module, name):
        found = self._names.get((module, name))
        if found is None:
            self._refuse(f"refusing to unpickle the global '{module}.{name}': dataset files may only contain "
                         "plain data (dicts, lists, bytes, NumPy arrays); the file is corrupt or malicious")
        return found

    def persistent_load(self, pid):
        self._refuse("refusing to unpickle a persistent id")

    def _latin1_bytes(self, text, encoding="latin1", errors="strict"):
        if not isinstance(text, str) or not isinstance(encoding, str) or \
                encoding.lower().replace("-", "").replace("_", "") != "latin1":
            self._refuse("refusing _codecs.encode other than of a str to latin1")
        return text.encode("latin1")

    def _empty_bytes(self, *args):
        if args:
            self._refuse("refusing builtins.bytes with arguments")
        return b""

    def _reconstruct(self, subtype, shape, typecode):
        if subtype is not _NDARRAY or shape not in ((0,), 0) or typecode not in (b"b", "b"):
            self._refuse("refusing numpy _reconstruct other than of an empty ndarray (as NumPy writes it)")
        return _multiarray._reconstruct(np.ndarray, (0,), b"b")

    def _dtype(self, spec, align=False, copy=False):
        if isinstance(spec, bytes):
            spec = spec.decode("latin1")
        if not isinstance(spec, str) or len(spec) > 64:
            self._refuse("refusing a NumPy dtype not given by a short type string")
        try:
            dtype = np.dtype(spec)
        except (TypeError, ValueError, SyntaxError) as e:
            self._refuse(f"invalid NumPy dtype {spec!r} ({e})")
        if dtype.hasobject:
            self._refuse("refusing an array of Python objects")
        return dtype

    def _checked_array(self, shape, dtype, nbytes):
        """Refuse ``shape``/``dtype`` unless they describe exactly ``nbytes`` bytes of plain data."""
        if not isinstance(dtype, np.dtype) or dtype.hasobject:
            self._refuse("an array's dtype is not a plain NumPy dtype")
        if not isinstance(shape, tuple) or len(shape) > 32 or not all(type(d) is int and d >= 0 for d in shape):
            self._refuse(f"an array's shape is not a tuple of sizes: {str(shape)[:100]}")
        count = math.prod(shape)
        if math.prod(max(d, 1) for d in shape) > MAX_BYTES or count * dtype.itemsize != nbytes:
            self._refuse(f"an array of shape {shape} and dtype {dtype} does not match its {nbytes:,} bytes of data")

    def _frombuffer(self, buffer, dtype, shape, order):
        if not isinstance(buffer, (bytes, bytearray)) or order not in ("C", "F"):
            self._refuse("refusing numpy _frombuffer other than of in-band bytes")
        self._checked_array(shape, dtype, len(buffer))
        return _numeric._frombuffer(buffer, dtype, shape, order)

    def _load_build(self):
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, np.ndarray) and isinstance(state, tuple) and len(state) in (4, 5):
            shape, dtype, fortran, data = state[-4:]
            if not isinstance(data, bytes) or not isinstance(fortran, (bool, int)):
                self._refuse("an array's pickled state holds no plain bytes")
            self._checked_array(shape, dtype, len(data))
        elif isinstance(inst, np.dtype) and isinstance(state, tuple) and len(state) >= 5:
            if any(s is not None for s in state[2:5]):  # subarray, names, fields: not in CIFAR's files
                self._refuse("refusing a structured NumPy dtype")
        else:
            self._refuse(f"refusing to set the state of a {type(inst).__name__}")
        inst.__setstate__(state)

    dispatch: ClassVar[dict] = dict(pickle._Unpickler.dispatch)
    dispatch[pickle.BUILD[0]] = _load_build


def load(path, limit=MAX_BYTES):
    """The object pickled in ``path`` (a regular file of at most ``limit`` bytes), built from plain data and
    NumPy arrays only (bytes keys kept); ``CorruptFileError`` naming the file otherwise."""
    with open_regular(path, limit, CorruptFileError) as fh:
        data = fh.read(os.fstat(fh.fileno()).st_size + 1)  # read_limited's read(limit + 1) allocates the limit
    if len(data) > limit:
        raise CorruptFileError(path, "the file grew past its size budget while it was read")
    stream = io.BytesIO(data)
    try:
        obj = _RestrictedUnpickler(stream, path).load()
    except CorruptFileError:
        raise
    except Exception as e:  # truncated or malformed data: EOFError, UnpicklingError, ValueError, MemoryError, ...
        raise CorruptFileError(path, f"cannot read the pickled data ({type(e).__name__}: {e}); "
                                     "the file is truncated or corrupt") from e
    if stream.tell() != len(data):
        raise CorruptFileError(path, "unexpected data after the end of the pickle")
    return obj
