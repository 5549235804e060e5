"""What every weight-file reader shares: ``WeightFileError``, the size budgets, the dtypes the engine keeps,
and bounded reading of ZIP members (the engine's own format and ``.npz`` are ZIP archives).

Weight files are untrusted: a reader trusts no size a file declares until it is checked against the file's
real size and these budgets, so a small file can never make us allocate or read gigabytes."""

import math
import os
import zlib

import numpy as np

from . import dtypes
from .utils.files import FileError

ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # the date of every member we write: equal objects give byte-identical files

MAX_WEIGHT_FILE_BYTES = 64 << 30  # any weight file or checkpoint on disk
MAX_INFLATED_BYTES = 16 << 30  # all arrays of a compressed .npz together, once inflated
DEFLATE_MAX_RATIO = 1032  # deflate cannot expand data more than this (a longer claim is a lie)
SUSPICIOUS_RATIO = 100  # a large member compressed better than this is a decompression bomb
SUSPICIOUS_RATIO_FROM = 16 << 20  # "large": inflated size from which the ratio above is refused
CHUNK = 16 << 20
MAX_NDIM = 64
_MAX_ARRAY_BYTES = (1 << 63) - 1  # NumPy refuses an array whose size, zero dimensions aside, exceeds this

SUPPORTED_DTYPES = {d.name: d for d in dtypes.ALL}

# What zipfile (and numpy's header parser under it) raise on damaged input (RuntimeError: an encrypted member).
ZIP_ERRORS = (EOFError, OSError, ValueError, KeyError, IndexError, OverflowError, NotImplementedError,
              UnicodeDecodeError, zlib.error, RuntimeError)


class WeightFileError(FileError, RuntimeError):
    """A file that is not a valid weight file or checkpoint: foreign, truncated, corrupted or inconsistent.

    The message starts with the file's name; ``path`` holds it.
    """


def name_of(f):
    """The name to show for a path or a file object."""
    if isinstance(f, (str, bytes, os.PathLike)):
        return os.fsdecode(os.fspath(f))
    name = getattr(f, "name", None)
    return name if isinstance(name, str) else f"<{type(f).__name__}>"


def require_file(path, what):
    """``FileNotFoundError`` (as ``torch.load`` gives) when ``path`` does not exist; what exists but is not a
    regular file is refused later by ``open_regular`` as a ``WeightFileError``."""
    if not os.path.lexists(os.fspath(path)):
        raise FileNotFoundError(f"{name_of(path)}: no such {what}")


def supported_dtype(dtype):
    """The engine's name for NumPy ``dtype`` (any byte order), or None when the engine has no such dtype."""
    name = dtype.name
    return name if name in SUPPORTED_DTYPES and dtype.kind in "biu" + dtypes.FLOAT_KINDS and dtype.fields is None \
        else None


def valid_shape(shape, itemsize):
    """Whether ``shape`` (a list or tuple) has at most MAX_NDIM non-negative int dimensions that NumPy can
    allocate (even with a zero among them: NumPy refuses ``(0, 2**62, 2**62)`` too)."""
    return (len(shape) <= MAX_NDIM and all(type(s) is int and s >= 0 for s in shape)
            and math.prod(max(s, 1) for s in shape) * itemsize <= _MAX_ARRAY_BYTES)


def check_zip_members(infos, file_size):
    """The problem with a ZIP directory whose members claim more stored bytes than the file holds (members
    that overlap, or sizes that lie), or None. After this, reading every member reads at most the file."""
    names = set()
    total = 0
    for info in infos:
        if info.filename in names:
            return f"the archive holds {info.filename!r} twice"
        names.add(info.filename)
        if info.header_offset + info.compress_size > file_size:
            return f"member {info.filename!r} claims {info.compress_size:,} bytes beyond the end of the file"
        total += info.compress_size
    if total > file_size:
        return f"the archive's members claim {total:,} bytes, more than the file's {file_size:,} (overlapping members)"
    return None


def read_into(src, view):
    """Fill the byte view ``view`` from the file object ``src``; False when ``src`` ends first."""
    pos = 0
    while pos < len(view):
        chunk = src.read(min(CHUNK, len(view) - pos))
        if not chunk:
            return False
        view[pos:pos + len(chunk)] = chunk
        pos += len(chunk)
    return True


def bytes_view(arr):
    """The bytes of a C-contiguous array, without copying."""
    return memoryview(arr.reshape(-1).view(np.uint8))


def native(arr, name):
    """``arr`` as a writable, C-contiguous array of dtype ``name`` in the machine's byte order."""
    return np.asarray(arr, dtype=np.dtype(name), order="C")
