"""Reading numeric arrays from a MATLAB v5 ``.mat`` file (what ``scipy.io.loadmat`` returns for them), with
every size checked, so that a malformed or hostile file costs time and memory linear in what it holds.

A v5 file is a 128-byte header (text, the version 0x0100 and an endian mark, ``IM`` for little-endian) and
then data elements: an 8-byte tag (type, byte count) and the bytes. A variable is an ``miMATRIX`` element,
or an ``miCOMPRESSED`` one whose zlib stream holds it; a matrix holds sub-elements (flags with the class,
dimensions, name, then the values, column-major, stored in any numeric type and cast to the class), each
padded to 8 bytes unless it is small enough to share its tag. Only the variables asked for are read:
others are skipped, compressed ones without inflating them past their name. An array's values are read as
they arrive, so a header that claims more than the file holds makes us allocate no more than it holds.
"""

import os
import struct
import zlib

import numpy as np

from ...utils.download import CHUNK
from ...utils.files import open_regular
from .idx import _read_up_to
from .utils import CorruptFileError

MAX_BYTES = 2 << 30  # 2 GiB, of the file and of an array's values (SVHN's extra_32x32.mat holds 1.6 GB of X)
MAX_SMALL = 1 << 12  # flags, dimensions and a name take a few dozen bytes
MI_MATRIX, MI_COMPRESSED = 14, 15
_MI_TYPES = {1: "i1", 2: "u1", 3: "i2", 4: "u2", 5: "i4", 6: "u4", 7: "f4", 9: "f8", 12: "i8", 13: "u8"}
_MX_CLASSES = {6: "f8", 7: "f4", 8: "i1", 9: "u1", 10: "i2", 11: "u2", 12: "i4", 13: "u4", 14: "i8", 15: "u8"}
_MX_NAMES = {1: "cell", 2: "struct", 3: "object", 4: "char", 5: "sparse"}


class _Truncated(Exception):
    """The data ended inside an element (raised as ``CorruptFileError`` by ``read_mat``)."""


class _Section:
    """The next ``size`` bytes of ``fh``, as a stream."""

    def __init__(self, fh, size):
        self._fh, self.left = fh, size

    def read(self, n):
        data = self._fh.read(min(n, self.left))
        self.left -= len(data)
        return data


class _Inflated:
    """The zlib stream in the next ``size`` bytes of ``fh``, inflated only as far as it is read."""

    def __init__(self, fh, size):
        self._raw, self._z, self._tail = _Section(fh, size), zlib.decompressobj(), b""

    def read(self, n):
        out = bytearray()
        while len(out) < n and not self._z.eof:
            data = self._tail or self._raw.read(CHUNK)
            got = self._z.decompress(data, n - len(out))
            self._tail = self._z.unconsumed_tail
            if not data and not got:
                break
            out += got
        return bytes(out)


def _exactly(stream, n):
    data = stream.read(n)
    if len(data) != n:
        raise _Truncated
    return data


def _element(stream, order, limit):
    """``(type, bytes)`` of the next sub-element (its padding consumed); over ``limit`` bytes is refused."""
    tag = _exactly(stream, 8)
    mtype, nbytes = struct.unpack(order + "II", tag)
    if mtype >> 16:  # small element: the byte count in the upper half of the type, the data in the tag's 2nd word
        mtype, nbytes = mtype & 0xFFFF, mtype >> 16
        if nbytes > 4:
            raise ValueError(f"a small data element of {nbytes} bytes (at most 4 fit)")
        return mtype, tag[4:4 + nbytes]
    if nbytes > limit:
        raise ValueError(f"a data element of {nbytes:,} bytes, over the {limit:,} allowed here")
    data = _read_up_to(stream, nbytes)
    if len(data) != nbytes:
        raise _Truncated
    _exactly(stream, -nbytes % 8)
    return mtype, data


def _matrix_head(stream, order):
    """``(class, dims, name)`` of the matrix whose sub-elements ``stream`` holds."""
    kind, flags = _element(stream, order, MAX_SMALL)
    kind_d, dims = _element(stream, order, MAX_SMALL)
    kind_n, name = _element(stream, order, MAX_SMALL)
    if kind != 6 or len(flags) != 8 or kind_d != 5 or len(dims) % 4 or kind_n not in (1, 2, 16):
        raise ValueError("a matrix whose flags, dimensions or name are malformed")
    word = struct.unpack(order + "I", flags[:4])[0]
    if word & 0x0800:
        raise ValueError("complex arrays are not supported")
    shape = struct.unpack(f"{order}{len(dims) // 4}i", dims)
    if any(d < 0 for d in shape):
        raise ValueError(f"negative dimensions {shape}")
    return word & 0xFF, shape, name.decode("latin1")


def _values(stream, order, mx_class, shape, limit):
    if mx_class not in _MX_CLASSES:
        raise ValueError(f"a {_MX_NAMES.get(mx_class, f'class {mx_class}')} array where a numeric one was expected")
    count = int(np.prod(shape, dtype=object))
    kind, data = _element(stream, order, limit)
    if kind not in _MI_TYPES:
        raise ValueError(f"values of data type {kind}, not a numeric one")
    stored = np.dtype(order + _MI_TYPES[kind])
    if len(data) != count * stored.itemsize:
        raise ValueError(f"{len(data):,} bytes of values for dimensions {shape} of {stored.itemsize}-byte values")
    values = np.frombuffer(data, stored).reshape(shape, order="F")
    return values.astype(np.dtype(_MX_CLASSES[mx_class]), copy=False)


def read_mat(path, names, limit=MAX_BYTES):
    """``{name: array}`` for the variables ``names`` of the MATLAB v5 file ``path`` (those it has), each
    array as ``scipy.io.loadmat`` gives it (the class's dtype, MATLAB's dimensions, Fortran order); a
    malformed file, or one over ``limit`` bytes or whose arrays are, is a ``CorruptFileError`` naming it."""
    found = {}
    with open_regular(path, limit, CorruptFileError) as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            header = _exactly(fh, 128)
            order = {b"IM": "<", b"MI": ">"}.get(header[126:128])
            if 0 in header[:4] or order is None:
                raise ValueError("not a MATLAB v5 file (no v5 header)")
            version = struct.unpack(order + "H", header[124:126])[0]
            if version != 0x0100:
                raise ValueError(f"MAT-file version 0x{version:04x}; only version 5 (0x0100) is supported"
                                 + (" (this is an HDF5-based v7.3 file)" if version == 0x0200 else ""))
            while len(found) < len(names):
                tag = fh.read(8)
                if not tag:
                    break
                if len(tag) < 8:
                    raise _Truncated
                mtype, nbytes = struct.unpack(order + "II", tag)
                end = fh.tell() + nbytes
                if end > size:
                    raise _Truncated
                if mtype == MI_COMPRESSED:
                    inner = _Inflated(fh, nbytes)
                    mtype, nbytes = struct.unpack(order + "II", _exactly(inner, 8))
                    stream = _Section(inner, nbytes)
                else:
                    stream = _Section(fh, nbytes)
                if mtype == MI_MATRIX:
                    mx_class, shape, name = _matrix_head(stream, order)
                    if name in names and name not in found:
                        found[name] = _values(stream, order, mx_class, shape, limit)
                fh.seek(end)
        except _Truncated:
            raise CorruptFileError(path, "truncated: the file ends inside a data element") from None
        except zlib.error as e:
            raise CorruptFileError(path, f"cannot decompress a compressed variable ({e})") from None
        except ValueError as e:
            raise CorruptFileError(path, f"malformed MAT-file: {e}") from None
    return found
