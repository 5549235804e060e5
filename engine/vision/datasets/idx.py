"""Reading IDX files (the MNIST family's format), plain or gzipped, with every header field checked.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions), one
big-endian int32 per dimension, then the values, big-endian, row-major. The reader checks the magic
number, the dimensions expected by the caller and that the file length matches them exactly, so a
truncated or corrupt file is reported with its name rather than turning into wrong data.
"""

import gzip
import zlib

import numpy as np

from .utils import CorruptFileError

_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_MAX_BYTES = 1 << 34  # 16 GiB: larger claimed sizes are corrupt headers, not datasets


def _read_bytes(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    try:
        with opener(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:  # gzip.BadGzipFile is an OSError
        if isinstance(e, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise CorruptFileError(path, f"cannot decompress ({type(e).__name__}: {e}); the file is truncated "
                                     "or corrupt") from e


def read_idx(path, ndim=None, dtype=None, shape=None):
    """The array stored in the IDX file ``path`` (``.gz`` is decompressed), in native byte order.

    ``ndim``, ``dtype`` and ``shape`` (None entries are free) are what the caller expects; a mismatch, a
    bad magic number or a length that disagrees with the header raises ``CorruptFileError`` naming the file.
    """
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise CorruptFileError(path, f"too short for an IDX header ({len(raw)} bytes)")
    if raw[0] != 0 or raw[1] != 0 or raw[2] not in _TYPES:
        raise CorruptFileError(path, f"bad IDX magic number 0x{raw[:4].hex()}; not an IDX file")
    type_code, n = raw[2], raw[3]
    dt = _TYPES[type_code]
    magic = int.from_bytes(raw[:4], "big")
    if ndim is not None and n != ndim:
        raise CorruptFileError(path, f"IDX magic number {magic} declares {n} dimensions, expected {ndim}")
    if dtype is not None and dt != np.dtype(dtype):
        raise CorruptFileError(path, f"IDX magic number {magic} declares type {dt}, expected {np.dtype(dtype)}")
    header = 4 + 4 * n
    if len(raw) < header:
        raise CorruptFileError(path, f"truncated IDX header: {len(raw)} bytes, the header needs {header}")
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=n, offset=4))
    if shape is not None:
        for got, want in zip(dims, shape):
            if want is not None and got != want:
                raise CorruptFileError(path, f"IDX dimensions {dims} do not match the expected {tuple(shape)}")
    count = 1
    for d in dims:
        count *= d
    expected = header + count * dt.itemsize
    if count * dt.itemsize > _MAX_BYTES:
        raise CorruptFileError(path, f"IDX header claims dimensions {dims}: implausibly large")
    if len(raw) != expected:
        what = "truncated" if len(raw) < expected else "has trailing data"
        raise CorruptFileError(path, f"{what}: dimensions {dims} need {expected} bytes, the file holds {len(raw)}")
    arr = np.frombuffer(raw, dtype=dt, count=count, offset=header).reshape(dims)
    return arr.astype(dt.newbyteorder("="), copy=True) if dt.itemsize > 1 else arr.copy()


def read_image_file(path):
    """The (N, H, W) uint8 images of an IDX image file (magic number 2051)."""
    return read_idx(path, ndim=3, dtype=np.uint8)


def read_label_file(path):
    """The (N,) int64 labels of an IDX label file (magic number 2049)."""
    return read_idx(path, ndim=1, dtype=np.uint8).astype(np.int64)
