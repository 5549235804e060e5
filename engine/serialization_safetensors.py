"""safetensors files: written with the ``safetensors`` library (so PyTorch reads them), read here.

The reader parses the header itself so it can hold the file to the format's rules before allocating
anything: a header of at most 100 MB (the format's own limit) that starts with ``{``, is valid UTF-8 JSON
with no duplicate keys, names each tensor's dtype, shape and ``data_offsets``, and whose offsets tile the
data exactly (every byte after the header belongs to one tensor, in order, up to the end of the file).
Whatever the library rejects is refused here too, as ``WeightFileError`` naming the file."""

import json
import math
import os
import re

import numpy as np

from .backend import CPU
from .serialization_limits import (
    MAX_WEIGHT_FILE_BYTES,
    SUPPORTED_DTYPES,
    WeightFileError,
    bytes_view,
    name_of,
    native,
    read_into,
    require_file,
    valid_shape,
)
from .serialization_placement import as_device, place
from .tensor import Tensor, make_tensor
from .utils.files import atomic_write, open_regular

__all__ = ["load_safetensors", "save_safetensors"]

MAX_HEADER_BYTES = 100_000_000  # the limit the safetensors format sets
METADATA = "__metadata__"
_MAX_INT = (1 << 63) - 1  # the library reads sizes as 64-bit integers
# safetensors dtype name -> engine dtype name; the format's other dtypes are named in the refusal
_DTYPES = {"BOOL": "bool", "U8": "uint8", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64",
           "F16": "float16", "F32": "float32", "F64": "float64", "BF16": "bfloat16"}


def save_safetensors(state_dict, path, metadata=None):
    """Write ``state_dict`` (str -> tensor) as a safetensors file, atomically.

    PyTorch reads it back with ``safetensors.torch.load_file(path)``. Tensors on a GPU are copied to the
    host and non-contiguous ones are written as contiguous copies. ``metadata``: an optional str -> str dict
    stored in the header.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import save_file

    if not isinstance(state_dict, dict):
        raise TypeError(f"save_safetensors expects a dict of name -> tensor, got {type(state_dict).__name__}")
    if metadata is not None and not (isinstance(metadata, dict) and
                                     all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items())):
        raise TypeError("save_safetensors: metadata must be a dict of str -> str")
    arrays = {}
    for key, value in state_dict.items():
        if not isinstance(key, str):
            raise TypeError(f"save_safetensors: key {key!r} is not a str")
        if isinstance(value, Tensor):
            host = value._host()
        elif isinstance(value, np.ndarray):
            host = value
        else:
            raise TypeError(f"save_safetensors: state_dict[{key!r}] is a {type(value).__name__}, not a tensor")
        name = np.dtype(host.dtype).name
        if name not in SUPPORTED_DTYPES:
            raise TypeError(f"save_safetensors: state_dict[{key!r}] has unsupported dtype {host.dtype}")
        # save_file reads each array's raw buffer: it must be one C-contiguous little-endian block
        arrays[key] = np.asarray(host, dtype=np.dtype(name).newbyteorder("<"), order="C")
    target = _target_path(path)

    def write(fh, tmp):
        fh.flush()
        try:
            save_file(arrays, tmp, metadata=metadata)
        except SafetensorError as e:  # the library's I/O failures ("... (os error 28)") as the OSError they are
            code = re.search(r"os error (\d+)", str(e))
            errno_ = int(code.group(1)) if code else None
            raise OSError(errno_, os.strerror(errno_) if errno_ else str(e)) from e
        # save_file wrote through its own handle: make that data durable too
        with open(tmp, "rb+") as again:
            os.fsync(again.fileno())

    atomic_write(target, write, WeightFileError)


def _target_path(f):
    path = os.fsdecode(os.fspath(f))
    return os.path.realpath(path) if os.path.islink(path) else path  # replace the file a link points to


class _Invalid(Exception):
    """A fault in the file; becomes a WeightFileError with the file's name."""


def _expect(cond, problem):
    if not cond:
        raise _Invalid(problem)


def load_safetensors(path, device="cpu"):
    """Read a safetensors file into a dict of name -> tensor on ``device`` (sorted names, as the library gives).

    Foreign, truncated or corrupt files raise :class:`WeightFileError` naming the file (safetensors has
    no checksums, so flipped bytes inside tensor data cannot be detected).
    """
    name = name_of(path)
    dev = as_device(device)
    require_file(path, "file")
    with open_regular(os.fspath(path), MAX_WEIGHT_FILE_BYTES, WeightFileError) as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(8)
        try:
            entries = _read_header(fh, head, size)
            arrays = {key: _read_tensor(fh, key, *entry) for key, entry in entries}
        except _Invalid as e:
            raise WeightFileError(name, f"not a valid safetensors file: {e}{_hint(head, size)}") from None
    return {key: place(make_tensor(arrays[key], CPU), dev, True) for key in sorted(arrays)}


def _read_header(fh, head, size):
    """The tensors as ``[(key, (dtype name, shape, begin, end))]`` in data order, once the header is checked."""
    _expect(len(head) == 8, "the file is shorter than a safetensors header")
    length = int.from_bytes(head, "little")
    _expect(length <= MAX_HEADER_BYTES, f"the header claims {length:,} bytes, over the format's limit of "
                                        f"{MAX_HEADER_BYTES:,}")
    _expect(8 + length <= size, f"the header claims {length:,} bytes but the file holds {size - 8:,} after its "
                                "length (truncated?)")
    raw = fh.read(length)
    _expect(len(raw) == length, "the file ends inside its header (truncated)")
    _expect(raw[:1] == b"{", "the header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise _Invalid(f"the header is not valid JSON ({e})") from None
    _expect(isinstance(header, dict), "the header is not a JSON object")
    metadata = header.pop(METADATA, {})
    _expect(isinstance(metadata, dict) and all(isinstance(v, str) for v in metadata.values()),
            f"{METADATA} must map strings to strings")
    entries = [(key, _check_entry(key, info)) for key, info in header.items()]
    entries.sort(key=lambda e: (e[1][2], e[1][3]))
    end = 0
    for key, (_, _, begin, stop) in entries:
        _expect(begin == end, f"tensor {key!r} starts at byte {begin:,} of the data, expected {end:,} (the offsets "
                              "must tile the data)")
        end = stop
    data = size - 8 - length
    _expect(end == data, f"the tensors cover {end:,} bytes but the file holds {data:,} after the header")
    return entries


def _check_entry(key, info):
    _expect(isinstance(info, dict) and set(info) == {"dtype", "shape", "data_offsets"},
            f"tensor {key!r} must have exactly dtype, shape and data_offsets")
    dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
    _expect(isinstance(dtype, str), f"tensor {key!r} has an invalid dtype {dtype!r}")
    _expect(dtype in _DTYPES, f"tensor {key!r} has dtype {dtype}, which the engine does not support (supported: "
                              f"{', '.join(_DTYPES)})")
    itemsize = SUPPORTED_DTYPES[_DTYPES[dtype]].itemsize
    _expect(isinstance(shape, list) and valid_shape(shape, itemsize), f"tensor {key!r} has an invalid shape {shape!r}")
    _expect(isinstance(offsets, list) and len(offsets) == 2 and all(_is_size(o) for o in offsets)
            and offsets[0] <= offsets[1], f"tensor {key!r} has invalid data_offsets {offsets!r}")
    nbytes = math.prod(shape) * itemsize
    _expect(offsets[1] - offsets[0] == nbytes,
            f"tensor {key!r} ({dtype}, shape {shape}) needs {nbytes:,} bytes but its data_offsets span "
            f"{offsets[1] - offsets[0]:,}")
    return _DTYPES[dtype], shape, offsets[0], offsets[1]


def _is_size(v):
    return type(v) is int and 0 <= v <= _MAX_INT


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        _expect(k not in out, f"the header holds the key {k!r} twice")
        out[k] = v
    return out


def _no_constant(c):
    raise _Invalid(f"the header holds the non-standard JSON constant {c}")


def _read_tensor(fh, key, dtype, shape, _begin, _end):
    """The next tensor's data (the header checked that they follow each other without gaps)."""
    arr = np.empty(tuple(shape), dtype=np.dtype(dtype).newbyteorder("<"))
    _expect(read_into(fh, bytes_view(arr)), f"tensor {key!r} ends early (truncated)")
    if dtype == "bool" and arr.size:
        _expect(int(arr.view(np.uint8).max()) <= 1, f"tensor {key!r} holds bool values other than 0/1")
    return native(arr, dtype)


def _hint(head, size):
    if head[:2] == b"PK":
        return "; it is a ZIP archive: if engine.save() wrote it, use engine.load()"
    if head[:1] == b"\x80":
        return "; it looks like a Python pickle, which this engine never loads"
    if size == 0:
        return " (the file is empty)"
    return ""
