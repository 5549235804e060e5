"""Reading IDX files (the MNIST family's format), plain or gzipped, with every header field checked.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian int32 per dimension, then the values, big-endian, row-major. The reader checks the magic
number, the dimensions expected by the caller and that the file length matches them exactly, so a
truncated or corrupt file is reported with its name rather than turning into wrong data.
"""

import gzip
import math
import struct
import zlib

import numpy as np

from ...utils.files import open_regular
from .utils import CorruptFileError

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
MAX_BYTES = 1 << 30  # 1 GiB, of the file and of its values (MNIST's largest file holds 47 MB)
_CHUNK = 1 << 20


def _read_up_to(stream, n):
    """Up to ``n`` bytes of ``stream``, read in chunks so that memory follows what the file holds, not ``n``."""
    buf = bytearray()
    while len(buf) < n:
        chunk = stream.read(min(_CHUNK, n - len(buf)))
        if not chunk:
            break
        buf += chunk
    return buf


def read_idx(path, ndim=None, dtype=None, shape=None, limit=MAX_BYTES):
    """The array stored in the IDX file ``path`` (``.gz`` is decompressed), in native byte order.

    ``ndim``, ``dtype`` and ``shape`` (None entries are free) are what the caller expects; a mismatch, a bad
    magic number, a length that disagrees with the header, or a file or array over ``limit`` bytes raises
    ``CorruptFileError`` naming the file. A gzipped file is decompressed only as far as its header says
    (plus one byte, to see trailing data), so a gzip bomb costs no more than the array it claims to hold.
    """
    gzipped = str(path).endswith(".gz")
    with open_regular(path, limit, CorruptFileError) as fh:
        stream = gzip.GzipFile(fileobj=fh, mode="rb") if gzipped else fh
        try:
            return _parse(stream, path, ndim, dtype, shape, limit)
        except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
            raise CorruptFileError(path, f"cannot {'decompress' if gzipped else 'read'} ({type(e).__name__}: {e}); "
                                         "the file is truncated or corrupt") from e


def _parse(stream, path, ndim, dtype, shape, limit):
    head = _read_up_to(stream, 4)
    if len(head) < 4:
        raise CorruptFileError(path, f"too short for an IDX header ({len(head)} bytes)")
    if head[0] != 0 or head[1] != 0 or head[2] not in _TYPES:
        raise CorruptFileError(path, f"bad IDX magic number 0x{head.hex()}; not an IDX file")
    dt, n = _TYPES[head[2]], head[3]
    magic = int.from_bytes(head, "big")
    if ndim is not None and n != ndim:
        raise CorruptFileError(path, f"IDX magic number {magic} declares {n} dimensions, expected {ndim}")
    if dtype is not None and dt != np.dtype(dtype):
        raise CorruptFileError(path, f"IDX magic number {magic} declares type {dt}, expected {np.dtype(dtype)}")
    header = 4 + 4 * n
    raw_dims = _read_up_to(stream, 4 * n)
    if len(raw_dims) < 4 * n:
        raise CorruptFileError(path, f"truncated IDX header: {4 + len(raw_dims)} bytes, the header needs {header}")
    dims = struct.unpack(f">{n}i", raw_dims)
    if any(d < 0 for d in dims):
        raise CorruptFileError(path, f"IDX header declares negative dimensions {dims}")
    if shape is not None:
        for got, want in zip(dims, shape):
            if want is not None and got != want:
                raise CorruptFileError(path, f"IDX dimensions {dims} do not match the expected {tuple(shape)}")
    count = math.prod(dims)
    nbytes = count * dt.itemsize
    if nbytes > limit or math.prod(max(d, 1) for d in dims) > limit:  # (0, 2**30, 2**30) is no array either
        raise CorruptFileError(path, f"IDX header claims dimensions {dims} ({nbytes:,} bytes of values), over "
                                     f"the {limit:,} bytes an IDX file may hold")
    body = _read_up_to(stream, nbytes + 1)
    if len(body) != nbytes:
        what = f"truncated: the file holds {header + len(body)} bytes" if len(body) < nbytes else "has trailing data"
        raise CorruptFileError(path, f"{what}; dimensions {dims} need {header + nbytes} bytes")
    arr = np.frombuffer(body, dtype=dt, count=count).reshape(dims)
    return arr.astype(dt.newbyteorder("="), copy=True) if dt.itemsize > 1 else arr


def read_image_file(path):
    """The (N, H, W) uint8 images of an IDX image file (magic number 2051)."""
    return read_idx(path, ndim=3, dtype=np.uint8)


def read_label_file(path):
    """The (N,) int64 labels of an IDX label file (magic number 2049)."""
    return read_idx(path, ndim=1, dtype=np.uint8).astype(np.int64)
