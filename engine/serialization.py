"""Saving and loading tensors: ``save`` / ``load`` (like ``torch.save`` / ``torch.load``) and safetensors
(``serialization_safetensors``; ``.npz`` is read by ``serialization_npz``; PyTorch's own ``.pt`` / ``.pth``
checkpoints and pickled whole modules by ``serialization_torch``, its legacy format by
``serialization_torch_legacy``).

The engine's own format below uses no pickle, so opening such a file from an untrusted source never runs code:
it either decodes into the plain values listed below or raises :class:`WeightFileError` naming the file and the
fault. PyTorch checkpoints are unpickled with ``weights_only=True`` semantics (only tensors, containers and
plain values; any other global is refused before it runs) unless ``load`` is given ``weights_only=False``,
which runs whatever code the file names: use that only for files from a trusted source.

The ``save`` / ``load`` format (``layerlab.engine``, version 1)
--------------------------------------------------------------
A ZIP archive, every member *stored* (uncompressed):

* ``manifest.json`` (written first): UTF-8 JSON object with exactly the keys

  - ``format``: ``"layerlab.engine"``, ``version``: ``1``;
  - ``blobs``: one entry per array of bytes, ``{"file": "data/<i>", "dtype": name, "shape": [..],
    "nbytes": n, "crc32": c, "device": "cpu" | "cuda:<k>"}``. ``dtype`` is one of bool, uint8, int8,
    int16, int32, int64, float16, float32, float64; ``device`` is where the tensor lived when saved;
  - ``tensors``: one entry per saved tensor object, ``{"blob": i, "kind": "tensor" | "ndarray" |
    "npscalar", "requires_grad": bool}`` (tensors whose arrays are the same object share one blob);
  - ``root``: the saved object as a tree of tagged nodes, each a JSON object with a ``"t"`` tag:
    ``none``, ``bool``/``int`` (``"v"``: the JSON value), ``float`` (``"v"``: its ``repr``, so nan and
    inf survive), ``str``, ``list``/``tuple``/``size`` (``"items"``: nodes), ``dict``/``odict``
    (``"items"``: ``[key node, value node]`` pairs in order, so int and tuple keys and ``OrderedDict``
    come back as they were), ``dtype``, ``device`` (``"v"``: the name), ``tensor`` (``"i"``: index into
    ``tensors``).
* ``data/<i>``: the raw bytes of blob ``i``, C order, little-endian, no header.

Loading checks everything before trusting it: the path is a regular file within the size budget
(``serialization_limits``; folders, FIFOs and devices are refused without blocking); the archive is a ZIP
whose members are exactly the manifest and the blobs it names, all stored, claiming no more bytes together
than the file holds (so nothing is allocated for a size the file only declares); the manifest's format,
version and every field's type; the dtype against the whitelist; shape x itemsize == nbytes == the
member's size; each blob's CRC32 (the ZIP's own CRC is checked too); bool blobs hold only 0 and 1.

Limitations: tensors that share memory without sharing the same array object (a view and its base) are
saved twice and come back as independent tensors; containers referenced twice are saved twice; a
``Parameter`` comes back as a plain tensor (keeping ``requires_grad``); gradients are not saved; dict
subclasses other than ``OrderedDict`` come back as plain dicts and list subclasses as lists.

Writes to a path are atomic: the file is written under a temporary name in the same directory,
flushed, fsynced, then renamed over the target; a failure leaves the old file untouched.
"""

import collections
import io
import json
import math
import os
import zipfile
import zlib

import numpy as np

from . import dtypes
from .backend import CPU, device, transfer
from .nn.module import Module
from .serialization_allowlist import add_safe_globals, clear_safe_globals, get_safe_globals, safe_globals
from .serialization_limits import (
    MAX_WEIGHT_FILE_BYTES,
    ZIP_DATE,
    ZIP_ERRORS,
    WeightFileError,
    bytes_view,
    check_zip_members,
    name_of,
    read_into,
    require_file,
    valid_shape,
)
from .serialization_placement import placer as _placer
from .serialization_safetensors import load_safetensors, save_safetensors
from .serialization_torch import load_torch_zip, pickle_prefix
from .serialization_torch_legacy import is_legacy, load_legacy
from .serialization_torch_writer import write_pickled
from .tensor import Size, Tensor, make_tensor
from .utils.files import atomic_write, open_regular

__all__ = ["WeightFileError", "add_safe_globals", "clear_safe_globals", "get_safe_globals", "load", "load_safetensors",
           "safe_globals", "save", "save_safetensors"]

FORMAT_NAME = "layerlab.engine"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"

_DTYPES = {d.name: d for d in dtypes.ALL}
_MAX_DEPTH = 200  # nesting of containers; keeps loading free of RecursionError
_MAX_MANIFEST_BYTES = 256 << 20
_CHUNK = 16 << 20


# ----------------------------------------------------------------------------------------------------
# Encoding (pure: raises TypeError/ValueError before anything is written)
# ----------------------------------------------------------------------------------------------------
class _HoldsModule(Exception):
    """The object holds a whole Module, which this format cannot encode: ``save`` pickles it instead."""


class _Encoder:
    def __init__(self):
        self.blobs = []  # (meta dict, little-endian C-contiguous host array)
        self.tensors = []
        self._blob_of = {}  # id(array) -> blob index
        self._tensor_of = {}  # id(tensor or ndarray) -> tensor index
        self._keep = []  # keeps every object whose id is a key above alive
        self._active = set()  # ids of the containers being encoded (cycle detection)

    def encode(self, obj, path, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"cannot save {path}: containers nested deeper than {_MAX_DEPTH} levels")
        if obj is None:
            return {"t": "none"}
        if obj is True or obj is False:
            return {"t": "bool", "v": obj}
        if isinstance(obj, (Tensor, np.ndarray, np.generic)):
            return {"t": "tensor", "i": self._tensor(obj, path)}
        if isinstance(obj, Module):
            raise _HoldsModule
        if isinstance(obj, int):
            return {"t": "int", "v": int(obj)}
        if isinstance(obj, float):
            return {"t": "float", "v": repr(float(obj))}
        if isinstance(obj, str):
            return {"t": "str", "v": str(obj)}
        if isinstance(obj, dtypes.dtype):
            return {"t": "dtype", "v": obj.name}
        if isinstance(obj, device):
            return {"t": "device", "v": str(obj)}
        if isinstance(obj, (dict, list, tuple)):
            if isinstance(obj, tuple) and hasattr(obj, "_fields"):
                raise TypeError(f"cannot save {path}: named tuples ({type(obj).__name__}) are not supported "
                                "by this format; convert it to a tuple or dict")
            if id(obj) in self._active:
                raise ValueError(f"cannot save {path}: the object contains itself (a reference cycle)")
            self._active.add(id(obj))
            try:
                return self._container(obj, path, depth)
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"cannot save {path}: objects of type {type(obj).__module__}.{type(obj).__qualname__} "
                        "are not supported (only tensors, NumPy arrays, dicts, lists, tuples, str, int, float, "
                        "bool, None, dtypes and devices)")

    def _container(self, obj, path, depth):
        if isinstance(obj, dict):
            items = []
            for k, v in obj.items():
                sub = f"{path}[{k!r}]"
                items.append([self._key(k, sub, depth + 1), self.encode(v, sub, depth + 1)])
            return {"t": "odict" if isinstance(obj, collections.OrderedDict) else "dict", "items": items}
        tag = "size" if isinstance(obj, Size) else "tuple" if isinstance(obj, tuple) else "list"
        return {"t": tag, "items": [self.encode(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]}

    def _key(self, k, path, depth):
        if depth > _MAX_DEPTH:
            raise ValueError(f"cannot save {path}: keys nested deeper than {_MAX_DEPTH} levels")
        if k is None or isinstance(k, (bool, int, float, str)):
            return self.encode(k, path, depth)
        if isinstance(k, tuple) and not hasattr(k, "_fields") and not isinstance(k, Size):
            return {"t": "tuple", "items": [self._key(x, path, depth + 1) for x in k]}
        raise TypeError(f"cannot save {path}: dict keys of type {type(k).__qualname__} are not supported "
                        "(only str, int, float, bool, None and tuples of those)")

    def _tensor(self, obj, path):
        if id(obj) in self._tensor_of:
            return self._tensor_of[id(obj)]
        if isinstance(obj, Tensor):
            array, dev, kind, grad = obj._data, obj._device, "tensor", bool(obj._requires_grad)
        else:
            array, dev, kind, grad = obj, CPU, "ndarray" if isinstance(obj, np.ndarray) else "npscalar", False
            if kind == "npscalar":
                array = np.asarray(obj)
        blob = self._blob_of.get(id(array))
        if blob is None:
            name = np.dtype(array.dtype).name
            if name not in _DTYPES or array.dtype.kind not in "biu" + dtypes.FLOAT_KINDS:
                raise TypeError(f"cannot save {path}: dtype {array.dtype} is not supported (supported: "
                                f"{', '.join(_DTYPES)})")
            host = array if dev is CPU else transfer(array, dev, CPU)
            # order="C" copies views; (np.ascontiguousarray would turn a 0-d array into a 1-d one)
            le = np.asarray(host, dtype=np.dtype(name).newbyteorder("<"), order="C")
            blob = len(self.blobs)
            meta = {"file": f"data/{blob}", "dtype": name, "shape": [int(s) for s in le.shape],
                    "nbytes": int(le.nbytes), "crc32": zlib.crc32(bytes_view(le)), "device": str(dev)}
            self.blobs.append((meta, le))
            self._blob_of[id(array)] = blob
            self._keep.append(array)
        index = len(self.tensors)
        self.tensors.append({"blob": blob, "kind": kind, "requires_grad": grad})
        self._tensor_of[id(obj)] = index
        self._keep.append(obj)
        return index


def _encode(obj):
    enc = _Encoder()
    root = enc.encode(obj, "obj", 0)
    manifest = {"format": FORMAT_NAME, "version": FORMAT_VERSION, "root": root, "tensors": enc.tensors,
                "blobs": [meta for meta, _ in enc.blobs]}
    text = json.dumps(manifest, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.encode("ascii"), enc.blobs


def _write_zip(fileobj, manifest, blobs):
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        _write_member(zf, MANIFEST, [memoryview(manifest)], len(manifest))
        for meta, arr in blobs:
            _write_member(zf, meta["file"], _chunks(bytes_view(arr)), meta["nbytes"])


def _chunks(view):
    for start in range(0, len(view), _CHUNK):
        yield view[start:start + _CHUNK]


def _write_member(zf, name, chunks, size):
    info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
    info.compress_type = zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.file_size = size  # lets zipfile pick ZIP64 headers up front for large members
    with zf.open(info, "w") as dest:
        for chunk in chunks:
            dest.write(chunk)


# ----------------------------------------------------------------------------------------------------
# Atomic writes
# ----------------------------------------------------------------------------------------------------
def _target_path(f):
    path = os.fspath(f)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    if os.path.islink(path):
        path = os.path.realpath(path)  # replace the file the link points to, keep the link
    return path


def save(obj, f, pickle_module=None, pickle_protocol=None, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save ``obj`` to ``f`` (a path or a writable binary file object), like ``torch.save``.

    ``obj`` may be a tensor, a NumPy array, or dicts (any key among str, int, float, bool, None and tuples
    of those), ``OrderedDict``s, lists and tuples of those and of str, int, float, bool, None, dtypes and
    devices: state dicts, optimizer state dicts, training checkpoints. Anything else raises ``TypeError``
    naming where it sits (e.g. ``obj['opt']['fn']``) before anything is written. A path is written
    atomically. ``pickle_module`` and the other torch arguments are accepted and ignored: nothing is pickled,
    except an object holding a whole ``Module`` (``model`` or ``{'model': model, ...}``), which is pickled
    (protocol ``pickle_protocol``, 2 by default) as ``torch.save`` does: ``load`` reads it back only with
    ``weights_only=False``.
    """
    try:
        manifest, blobs = _encode(obj)
    except _HoldsModule:
        def write(fh):
            write_pickled(fh, obj, pickle_protocol)
    else:
        def write(fh):
            _write_zip(fh, manifest, blobs)
    if hasattr(f, "write") and not isinstance(f, (str, bytes, os.PathLike)):
        write(f)
        if hasattr(f, "flush"):
            f.flush()
        return
    if not isinstance(f, (str, bytes, os.PathLike)):
        raise TypeError(f"save() expects a path or a writable binary file object, got {type(f).__name__}")
    path = _target_path(f)
    atomic_write(path, lambda fh, _tmp: write(fh), WeightFileError)


# ----------------------------------------------------------------------------------------------------
# Loading
# ----------------------------------------------------------------------------------------------------
def _describe_foreign(head, names=None):
    """A hint at what a file that is not ours is, from its first bytes (and ZIP member names)."""
    if names is not None:
        return f"this ZIP archive has no {MANIFEST}, so it is not a file written by engine.save()"
    if not head:
        return "the file is empty"
    if head[:1] == b"\x80":
        return ("this looks like a bare Python pickle, not a checkpoint; this engine never unpickles one, since "
                "that can run arbitrary code")
    if len(head) >= 9 and head[8:9] == b"{":
        return "this looks like a safetensors file; open it with load_safetensors()"
    if head[:2] == b"PK":
        return "the ZIP archive is damaged or truncated"
    return "not a file written by engine.save() (no ZIP archive found; truncated, or a different format)"


def load(f, map_location=None, pickle_module=None, *, weights_only=True, mmap=None, **pickle_load_args):
    """Load an object saved by :func:`save` or by ``torch.save`` from a path or a readable binary file object.

    With ``weights_only=True`` (the default, as in PyTorch >= 2.6) nothing in the file runs: a PyTorch
    checkpoint may hold only tensors, parameters, containers and plain values, and one that pickles anything
    else (a whole module) is refused with PyTorch's message. ``weights_only=False`` unpickles such a file with
    Python's pickle, which **can run arbitrary code**: use it only for files from a trusted source (files in
    the engine's own format, and PyTorch's legacy non-ZIP format, never run code either way).
    ``map_location``: ``None`` (each tensor back on the device it was saved from), ``'cpu'``, ``'cuda'``,
    ``'cuda:1'``, a device, a dict ``{'cuda:0': 'cpu'}`` mapping saved device names (others stay), or a
    callable ``fn(tensor_on_cpu, saved_device_name)`` returning a tensor or
    ``None``. Invalid or foreign files raise :class:`WeightFileError` naming the file.
    """
    if pickle_module is not None:
        raise ValueError("load() does not use pickle; pickle_module is not supported")
    placer = _placer(map_location)
    if isinstance(f, (str, bytes, os.PathLike)):
        name = name_of(f)
        require_file(f, "file")
        with open_regular(os.fspath(f), MAX_WEIGHT_FILE_BYTES, WeightFileError) as fh:
            return _load_from(fh, name, placer, weights_only)
    if not hasattr(f, "read"):
        raise TypeError(f"load() expects a path or a readable binary file object, got {type(f).__name__}")
    name = name_of(f)
    fh = f
    if not _seekable(f):
        fh = _read_stream(f, name)
    return _load_from(fh, name, placer, weights_only)


def _read_stream(f, name):
    """A seekable copy of the non-seekable stream ``f``, read in chunks up to the budget."""
    out = io.BytesIO()
    while chunk := f.read(_CHUNK):
        out.write(chunk)
        if out.tell() > MAX_WEIGHT_FILE_BYTES:
            raise WeightFileError(name, f"the stream holds more than {MAX_WEIGHT_FILE_BYTES >> 30} GiB")
    out.seek(0)
    return out


def _seekable(f):
    try:
        return bool(f.seekable())
    except (AttributeError, OSError, ValueError):
        return False


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, *ZIP_ERRORS)


class _Passthrough(Exception):
    """Carries an error of map_location's placement (not the file's fault) out of the loader unchanged."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


def _load_from(fh, name, placer, weights_only):
    start = fh.tell()
    head = fh.read(16)
    if isinstance(head, str):
        raise TypeError(f"load() needs a binary file object, {name} is open in text mode")
    size = fh.seek(0, os.SEEK_END) - start
    fh.seek(start)
    if not head:
        raise WeightFileError(name, "the file is empty")
    try:
        zf = zipfile.ZipFile(fh, "r")
    except _ZIP_ERRORS:
        if is_legacy(head):
            fh.seek(start)
            return load_legacy(fh, name, size, placer)
        raise WeightFileError(name, _describe_foreign(head)) from None
    with zf:
        try:
            infos = zf.infolist()
            names = [i.filename for i in infos]
        except _ZIP_ERRORS as e:
            raise WeightFileError(name, f"the ZIP archive is damaged ({e})") from None
        if MANIFEST not in names:
            prefix = pickle_prefix(names)
            if prefix is None:
                raise WeightFileError(name, _describe_foreign(head, names))
            problem = check_zip_members(infos, size)
            if problem is not None:
                raise WeightFileError(name, problem)
            return load_torch_zip(zf, name, prefix, placer, weights_only)
        try:
            return _Loader(zf, name, placer).run(infos, size)
        except WeightFileError:
            raise
        except _Passthrough as p:
            raise p.error from None
        except RecursionError:
            raise WeightFileError(name, "the manifest is nested too deeply") from None
        except _ZIP_ERRORS as e:
            raise WeightFileError(name, f"the file is damaged or truncated ({type(e).__name__}: {e})") from None


def _reject_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise _Invalid(f"duplicate key {k!r} in a JSON object")
        out[k] = v
    return out


def _reject_constant(c):
    raise _Invalid(f"non-standard JSON constant {c}")


class _Invalid(Exception):
    """Raised inside the loader; becomes a WeightFileError with the file's name."""


def _expect(cond, problem):
    if not cond:
        raise _Invalid(problem)


def _is_int(v):
    return type(v) is int


def _exact_keys(obj, keys, where):
    _expect(isinstance(obj, dict), f"{where} must be a JSON object, got {type(obj).__name__}")
    _expect(set(obj) == set(keys), f"{where} must have exactly the keys {sorted(keys)}, got {sorted(obj)}")


def _node_tag(node, where, depth):
    """The tag of a node of the saved tree, once the node is checked to be one and not nested too deep."""
    _expect(depth <= _MAX_DEPTH, f"{where} is nested deeper than {_MAX_DEPTH} levels")
    _expect(isinstance(node, dict) and isinstance(node.get("t"), str), f"{where} is not a valid node")
    return node["t"]


def _cached(cache, index, make):
    """``cache[index]``, made by ``make(index)`` on first use (what the file shares stays shared)."""
    value = cache.get(index)
    if value is None:
        value = cache[index] = make(index)
    return value


class _Loader:
    def __init__(self, zf, name, placer):
        self.zf = zf
        self.name = name
        self.placer = placer
        self.arrays = {}  # blob index -> host array
        self.objects = {}  # tensor index -> loaded tensor

    def run(self, infos, size):
        try:
            return self._run(infos, size)
        except _Invalid as e:
            raise WeightFileError(self.name, str(e)) from None

    def _run(self, infos, size):
        problem = check_zip_members(infos, size)  # after this no member can claim more than the file holds
        _expect(problem is None, problem)
        by_name = {}
        for info in infos:
            _expect(info.compress_type == zipfile.ZIP_STORED,
                    f"member {info.filename!r} is compressed; this format stores members uncompressed")
            _expect(info.file_size == info.compress_size,
                    f"member {info.filename!r} has inconsistent sizes in the ZIP directory")
            by_name[info.filename] = info
        m_info = by_name[MANIFEST]
        _expect(m_info.file_size <= _MAX_MANIFEST_BYTES, f"{MANIFEST} is implausibly large ({m_info.file_size} "
                                                         "bytes)")
        raw = self.zf.read(m_info)  # zipfile checks the member's CRC32
        try:
            manifest = json.loads(raw.decode("utf-8"), object_pairs_hook=_reject_duplicates,
                                  parse_constant=_reject_constant)
        except (UnicodeDecodeError, ValueError) as e:
            raise _Invalid(f"{MANIFEST} is not valid JSON ({e})") from None
        _exact_keys(manifest, ("format", "version", "root", "tensors", "blobs"), MANIFEST)
        _expect(manifest["format"] == FORMAT_NAME,
                f"{MANIFEST} names format {manifest['format']!r}, expected {FORMAT_NAME!r}")
        version = manifest["version"]
        _expect(_is_int(version), f"{MANIFEST} has a non-integer version {version!r}")
        _expect(version <= FORMAT_VERSION, f"the file uses format version {version}, newer than this engine "
                                           f"reads (version {FORMAT_VERSION}); update the engine")
        _expect(version == FORMAT_VERSION, f"unknown format version {version}")
        self.blobs = self._check_blobs(manifest["blobs"], by_name)
        self.tensors = self._check_tensors(manifest["tensors"])
        expected = {MANIFEST} | {b["file"] for b in self.blobs}
        extra = sorted(set(by_name) - expected)
        _expect(not extra, f"the archive holds members the manifest does not name: {extra[:5]}")
        return self._decode(manifest["root"], "root", 0)

    def _check_blobs(self, blobs, by_name):
        _expect(isinstance(blobs, list), "'blobs' must be a list")
        for i, b in enumerate(blobs):
            where = f"blob {i}"
            _exact_keys(b, ("file", "dtype", "shape", "nbytes", "crc32", "device"), where)
            _expect(b["file"] == f"data/{i}", f"{where} names file {b['file']!r}, expected 'data/{i}'")
            _expect(isinstance(b["dtype"], str) and b["dtype"] in _DTYPES,
                    f"{where} has unsupported dtype {b['dtype']!r} (supported: {', '.join(_DTYPES)})")
            shape = b["shape"]
            _expect(isinstance(shape, list) and valid_shape(shape, _DTYPES[b["dtype"]].itemsize),
                    f"{where} has an invalid shape {shape!r}")
            nbytes = b["nbytes"]
            _expect(_is_int(nbytes) and nbytes >= 0, f"{where} has an invalid byte count {nbytes!r}")
            expected = math.prod(shape) * _DTYPES[b["dtype"]].itemsize
            _expect(nbytes == expected, f"{where} ({b['dtype']}, shape {shape}) needs {expected} bytes but the "
                                        f"manifest records {nbytes}")
            _expect(_is_int(b["crc32"]) and 0 <= b["crc32"] < 1 << 32, f"{where} has an invalid crc32")
            _expect(isinstance(b["device"], str), f"{where} has an invalid device {b['device']!r}")
            try:
                device(b["device"])
            except RuntimeError:
                raise _Invalid(f"{where} has an invalid device {b['device']!r}") from None
            info = by_name.get(b["file"])
            _expect(info is not None, f"the archive lacks member {b['file']!r} (truncated?)")
            _expect(info.file_size == nbytes, f"member {b['file']!r} holds {info.file_size} bytes, the manifest "
                                              f"says {nbytes} (shape {shape}, {b['dtype']})")
            b["info"] = info
        return blobs

    def _check_tensors(self, tensors):
        _expect(isinstance(tensors, list), "'tensors' must be a list")
        for i, t in enumerate(tensors):
            where = f"tensor {i}"
            _exact_keys(t, ("blob", "kind", "requires_grad"), where)
            _expect(_is_int(t["blob"]) and 0 <= t["blob"] < len(self.blobs),
                    f"{where} refers to a missing blob {t['blob']!r}")
            _expect(t["kind"] in ("tensor", "ndarray", "npscalar"), f"{where} has an unknown kind {t['kind']!r}")
            _expect(isinstance(t["requires_grad"], bool), f"{where} has a non-boolean requires_grad")
            blob = self.blobs[t["blob"]]
            if t["requires_grad"]:
                _expect(t["kind"] == "tensor" and _DTYPES[blob["dtype"]].is_floating_point,
                        f"{where} requires grad but is not a floating-point tensor")
            if t["kind"] == "npscalar":
                _expect(blob["shape"] == [], f"{where} is a NumPy scalar with shape {blob['shape']}")
            if t["kind"] != "tensor":
                _expect(blob["device"] == "cpu", f"{where} is a NumPy value saved from {blob['device']}")
        return tensors

    def _read_array(self, index):
        """The host array of blob ``index``, read and checked."""
        b = self.blobs[index]
        le = np.dtype(b["dtype"]).newbyteorder("<")
        arr = np.empty(tuple(b["shape"]), dtype=le)
        view = bytes_view(arr)
        with self.zf.open(b["info"]) as src:
            _expect(read_into(src, view), f"member {b['file']!r} ends early (truncated)")
            src.read(1)  # reach the end of the member, where zipfile checks its CRC
        crc = zlib.crc32(view)
        _expect(crc == b["crc32"], f"member {b['file']!r} is corrupted (CRC32 {crc:#010x}, the manifest records "
                                   f"{b['crc32']:#010x})")
        if b["dtype"] == "bool" and arr.size:
            _expect(int(arr.view(np.uint8).max()) <= 1, f"member {b['file']!r} holds bool values other than 0/1")
        if not le.isnative:
            arr = arr.astype(le.newbyteorder("="))
        return arr

    def _make_tensor(self, index):
        """The object of tensor entry ``index``: a tensor, a NumPy array or a NumPy scalar."""
        entry = self.tensors[index]
        blob = self.blobs[entry["blob"]]
        arr = _cached(self.arrays, entry["blob"], self._read_array)
        if entry["kind"] == "ndarray":
            obj = arr
        elif entry["kind"] == "npscalar":
            obj = arr[()]
        else:
            try:
                obj = self.placer(make_tensor(arr, CPU), blob["device"])
            except Exception as e:  # CUDA missing, a bad map_location: the caller's problem, not the file's
                raise _Passthrough(e) from e
            if entry["requires_grad"]:
                obj.requires_grad = True
        return obj

    def _decode(self, node, where, depth):
        tag = _node_tag(node, where, depth)
        if tag == "none":
            _exact_keys(node, ("t",), where)
            return None
        if tag in ("list", "tuple", "size"):
            _exact_keys(node, ("t", "items"), where)
            items = node["items"]
            _expect(isinstance(items, list), f"{where}: 'items' must be a list")
            out = [self._decode(v, f"{where}[{i}]", depth + 1) for i, v in enumerate(items)]
            if tag == "size":
                _expect(all(_is_int(v) and v >= 0 for v in out), f"{where} is a Size of non-integers")
                return Size(out)
            return out if tag == "list" else tuple(out)
        if tag in ("dict", "odict"):
            _exact_keys(node, ("t", "items"), where)
            items = node["items"]
            _expect(isinstance(items, list), f"{where}: 'items' must be a list")
            out = collections.OrderedDict() if tag == "odict" else {}
            for i, pair in enumerate(items):
                _expect(isinstance(pair, list) and len(pair) == 2, f"{where}: item {i} is not a [key, value] pair")
                key = self._decode_key(pair[0], f"{where} key {i}", depth + 1)
                _expect(key not in out, f"{where}: key {key!r} appears twice")
                out[key] = self._decode(pair[1], f"{where}[{key!r}]", depth + 1)
            return out
        if tag == "tensor":
            _exact_keys(node, ("t", "i"), where)
            i = node["i"]
            _expect(_is_int(i) and 0 <= i < len(self.tensors), f"{where} refers to a missing tensor {i!r}")
            return _cached(self.objects, i, self._make_tensor)
        return self._scalar(node, tag, where)

    def _decode_key(self, node, where, depth):
        tag = _node_tag(node, where, depth)
        if tag == "none":
            _exact_keys(node, ("t",), where)
            return None
        if tag == "tuple":
            _exact_keys(node, ("t", "items"), where)
            _expect(isinstance(node["items"], list), f"{where}: 'items' must be a list")
            return tuple(self._decode_key(v, where, depth + 1) for v in node["items"])
        _expect(tag in ("bool", "int", "float", "str"), f"{where}: {tag!r} is not a valid dict key")
        return self._scalar(node, tag, where)

    def _scalar(self, node, tag, where):
        _expect(tag in ("bool", "int", "float", "str", "dtype", "device"), f"{where} has an unknown type tag {tag!r}")
        _exact_keys(node, ("t", "v"), where)
        v = node["v"]
        if tag == "bool":
            _expect(isinstance(v, bool), f"{where}: bool node holds {v!r}")
            return v
        if tag == "int":
            _expect(_is_int(v), f"{where}: int node holds {v!r}")
            return v
        if tag == "float":
            _expect(isinstance(v, str) and len(v) <= 64, f"{where}: float node holds {v!r}")
            try:
                return float(v)
            except ValueError:
                raise _Invalid(f"{where}: float node holds {v!r}") from None
        if tag == "str":
            _expect(isinstance(v, str), f"{where}: str node holds {type(v).__name__}")
            return v
        if tag == "dtype":
            _expect(isinstance(v, str) and v in _DTYPES, f"{where}: unknown dtype {v!r}")
            return _DTYPES[v]
        if tag == "device":
            _expect(isinstance(v, str), f"{where}: device node holds {v!r}")
            try:
                return device(v)
            except RuntimeError:
                raise _Invalid(f"{where}: invalid device {v!r}") from None
        raise AssertionError(tag)  # unreachable: the tag was checked above
