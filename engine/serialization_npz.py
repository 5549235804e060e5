"""Reading NumPy ``.npz`` weight files without trusting them.

``np.load`` believes the sizes a file declares, so a small file whose members inflate to gigabytes, or whose
``.npy`` header claims 2**40 elements, ends in ``MemoryError``. Here every member's ``.npy`` header is read
and checked first (dtype, shape, shape x itemsize == the member's declared size, compression ratio, a total
budget) and then exactly the declared bytes are read: anything else raises ``WeightFileError``."""

import io
import math
import os
import zipfile

import numpy as np
from numpy.lib import format as npy_format

from .serialization_limits import (
    DEFLATE_MAX_RATIO,
    MAX_INFLATED_BYTES,
    MAX_WEIGHT_FILE_BYTES,
    SUSPICIOUS_RATIO,
    SUSPICIOUS_RATIO_FROM,
    ZIP_ERRORS,
    WeightFileError,
    bytes_view,
    check_zip_members,
    name_of,
    native,
    read_into,
    require_file,
    supported_dtype,
    valid_shape,
)
from .utils.files import open_regular

__all__ = ["load_npz"]

MAX_NPY_HEADER = 10000  # numpy's own limit on a header it parses safely
_HEADER_LENGTH_BYTES = {(1, 0): 2, (2, 0): 4}
_READ_HEADER = {(1, 0): npy_format.read_array_header_1_0, (2, 0): npy_format.read_array_header_2_0}


class _Invalid(Exception):
    """A fault in the file; becomes a WeightFileError with the file's name."""


def _expect(cond, problem):
    if not cond:
        raise _Invalid(problem)


def load_npz(path):
    """``{name: host array}`` (native byte order, C-contiguous) from the ``.npz`` file ``path``, in file order."""
    name = name_of(path)
    require_file(path, "weight file")
    with open_regular(os.fspath(path), MAX_WEIGHT_FILE_BYTES, WeightFileError) as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(len(npy_format.MAGIC_PREFIX))
        fh.seek(0)
        if head == npy_format.MAGIC_PREFIX:
            raise WeightFileError(name, "holds a single .npy array, not named weights (an .npz archive)")
        try:
            zf = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, *ZIP_ERRORS):
            problem = "the file is empty" if size == 0 else "not a valid .npz file (not a ZIP archive, or truncated)"
            raise WeightFileError(name, problem) from None
        with zf:
            try:
                return _read_members(zf, size)
            except _Invalid as e:
                raise WeightFileError(name, str(e)) from None
            except (zipfile.BadZipFile, *ZIP_ERRORS) as e:
                raise WeightFileError(name, f"the file is damaged or truncated ({type(e).__name__}: {e})") from None


def _read_members(zf, size):
    infos = zf.infolist()
    problem = check_zip_members(infos, size)
    _expect(problem is None, problem)
    for info in infos:
        _check_member(info)
    _check_ratio("the archive", sum(i.file_size for i in infos), sum(i.compress_size for i in infos))
    return {info.filename[:-4]: _read_array(zf, info) for info in infos}


def _check_member(info):
    member = info.filename
    _expect(member.endswith(".npy"), f"member {member!r} is not an .npy array")
    _expect(not info.flag_bits & 0x1, f"member {member!r} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        _expect(info.file_size == info.compress_size, f"member {member!r} has inconsistent sizes in the ZIP directory")
    else:
        _expect(info.compress_type == zipfile.ZIP_DEFLATED,
                f"member {member!r} uses ZIP compression method {info.compress_type}; .npz files are stored or "
                "deflated")
        _expect(info.file_size <= info.compress_size * DEFLATE_MAX_RATIO,
                f"member {member!r} claims {info.file_size:,} bytes from {info.compress_size:,} compressed bytes, "
                "more than deflate can produce")
        _check_ratio(f"member {member!r}", info.file_size, info.compress_size)


def _check_ratio(what, inflated, compressed):
    """Refuse a decompression bomb: much data from little, or more than the budget."""
    _expect(inflated <= MAX_INFLATED_BYTES, f"{what} inflates to {inflated:,} bytes, over the "
                                            f"{MAX_INFLATED_BYTES >> 30} GiB budget for an .npz file")
    ratio = inflated / max(compressed, 1)
    _expect(inflated < SUSPICIOUS_RATIO_FROM or ratio <= SUSPICIOUS_RATIO,
            f"{what} inflates {compressed:,} bytes to {inflated:,} (ratio {ratio:.0f}, over {SUSPICIOUS_RATIO}): "
            "refused as a decompression bomb")


def _read_array(zf, info):
    key = info.filename[:-4]
    with zf.open(info) as src:
        shape, fortran, dtype, header_bytes = _read_header(src, key)
        dt_name = supported_dtype(dtype)
        _expect(dt_name is not None, f"array {key!r} has dtype {dtype}, which the engine does not support")
        _expect(valid_shape(shape, dtype.itemsize), f"array {key!r} has an invalid shape {shape}")
        nbytes = math.prod(shape) * dtype.itemsize
        data_size = info.file_size - header_bytes
        _expect(nbytes == data_size, f"array {key!r} ({dtype}, shape {shape}) needs {nbytes:,} bytes but its member "
                                     f"holds {max(data_size, 0):,}")
        arr = np.empty(math.prod(shape), dtype=dtype)
        _expect(read_into(src, bytes_view(arr)), f"array {key!r} ends early (truncated)")
        src.read(1)  # reach the member's end, where zipfile checks its CRC
    arr = arr.reshape(shape, order="F" if fortran else "C")
    if dt_name == "bool" and arr.size:
        _expect(int(arr.view(np.uint8).max()) <= 1, f"array {key!r} holds bool values other than 0/1")
    return native(arr, dt_name)


def _read_header(src, key):
    """``(shape, fortran_order, dtype, header size in bytes)`` of the ``.npy`` stream ``src``, read without
    trusting its declared header length."""
    magic = src.read(npy_format.MAGIC_LEN)
    _expect(len(magic) == npy_format.MAGIC_LEN and magic.startswith(npy_format.MAGIC_PREFIX),
            f"member {key + '.npy'!r} is not an .npy array")
    version = (magic[-2], magic[-1])
    _expect(version in _HEADER_LENGTH_BYTES, f"array {key!r} uses .npy format version {version[0]}.{version[1]}, "
                                             "which is not read here (1.0 and 2.0 are)")
    length_bytes = src.read(_HEADER_LENGTH_BYTES[version])
    length = int.from_bytes(length_bytes, "little")
    _expect(len(length_bytes) == _HEADER_LENGTH_BYTES[version] and length <= MAX_NPY_HEADER,
            f"array {key!r} has a header of {length:,} bytes, over the {MAX_NPY_HEADER:,} allowed")
    header = src.read(length)
    _expect(len(header) == length, f"array {key!r} ends inside its header (truncated)")
    try:
        shape, fortran, dtype = _READ_HEADER[version](io.BytesIO(length_bytes + header), MAX_NPY_HEADER)
    except Exception as e:  # numpy's parser of this bounded header raises many kinds on garbage
        raise _Invalid(f"array {key!r} has an invalid .npy header ({type(e).__name__}: {e})") from None
    return shape, fortran, dtype, len(magic) + len(length_bytes) + length
