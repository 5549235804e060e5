"""PyTorch's own checkpoint format, read without importing torch: what ``torch.save`` writes (a ZIP archive
holding ``<name>/data.pkl``, a pickle whose tensors point by persistent id at raw storages
``<name>/data/<key>``, and ``<name>/byteorder``), and whole modules that ``engine.save`` pickles.

``weights_only=True`` (the default, as in PyTorch >= 2.6) unpickles with ``serialization_unpickler``: the globals
PyTorch's ``weights_only`` unpickler admits resolve to engine objects (tensor and parameter rebuilds, storage
types, ``torch.Size``, ``torch.device``, dtypes, ``OrderedDict``, ``Counter``, ``set``, ``complex``, bytes), and
every other global is refused by name with PyTorch's message, before anything of it runs. Of the admitted globals
the engine has no counterpart for some (complex and quantized dtypes, sparse and nested tensors); they
are refused by name too.

``weights_only=False`` uses Python's own unpickler, which imports and calls whatever the file names: **it runs
arbitrary code, so use it only on files from a trusted source** (as PyTorch's docs warn). PyTorch's rebuild
functions still resolve to the engine's; other ``torch`` globals (a pickled ``torch.nn`` module) are refused,
since the engine cannot rebuild PyTorch's own objects: load a ``state_dict`` instead.

Storages are read once each, checked against the ZIP directory (so nothing is allocated for a size the file
only declares); a tensor is rebuilt as a C-contiguous copy of its view (offset, sizes, strides) of the storage,
checked to lie inside it. Views that shared a storage come back as independent tensors, so the tensors of a
file may together hold more bytes than its storages (views of one storage, overlapping strides as ``expand``
makes), up to ``MAX_EXPANDED_BYTES`` more.
"""

import collections
import io
import math
import pickle
import struct
import zipfile

import numpy as np

from . import dtypes
from .backend import CPU, device
from .nn.parameter import Parameter
from .serialization_allowlist import allowed_global
from .serialization_limits import SUPPORTED_DTYPES, WeightFileError, bytes_view, read_into, valid_shape
from .serialization_unpickler import RestrictedUnpickler, UnpicklingError
from .tensor import Size, Tensor, make_tensor

PICKLE = "data.pkl"
MAX_PICKLE_BYTES = 256 << 20
MAX_EXPANDED_BYTES = 1 << 30
_ARCHIVE = "archive"

UNSAFE_MESSAGE = (
    "In PyTorch 2.6, we changed the default value of the `weights_only` argument in `torch.load` from `False` to "
    "`True`. Re-running `torch.load` with `weights_only` set to `False` will likely succeed, but it can result in "
    "arbitrary code execution. Do it only if you got the file from a trusted source.")

_STORAGE_DTYPES = {"Double": "float64", "Float": "float32", "Half": "float16", "Long": "int64", "Int": "int32",
                   "Short": "int16", "Char": "int8", "Byte": "uint8", "Bool": "bool", "BFloat16": "bfloat16",
                   "ComplexDouble": "complex128", "ComplexFloat": "complex64", "QUInt8": "quint8",
                   "QInt8": "qint8", "QInt32": "qint32", "QUInt4x2": "quint4x2", "QUInt2x4": "quint2x4"}
_TENSOR_KINDS = ("Double", "Float", "Half", "Long", "Int", "Short", "Char", "Byte", "Bool", "BFloat16")
# The globals PyTorch's weights_only unpickler admits that the engine has nothing for (torch 2.13).
_ADMITTED_UNSUPPORTED = frozenset(
    [f"torch.{n}" for n in ("complex32", "complex64", "complex128", "qint8", "qint32", "quint8",
                            "quint2x4", "quint4x2", "float8_e4m3fn", "float8_e4m3fnuz", "float8_e5m2",
                            "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "bits1x8", "bits2x4",
                            "bits4x2", "bits8", "bits16", "uint16", "uint32", "uint64", "per_tensor_affine",
                            "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
                            "per_channel_affine_float_qparams", "storage.TypedStorage",
                            "serialization._get_layout")]
    + [f"torch.{kind}{n}" for kind in ("uint", "int") for n in range(1, 8)]
    + [f"torch.{p}{k}Tensor" for p in ("", "cuda.") for k in _TENSOR_KINDS]
    + [f"torch.{p}{k}Tensor" for p in ("sparse.", "cuda.sparse.") for k in _TENSOR_KINDS if k != "Bool"]
    + [f"torch._utils._rebuild_{n}" for n in ("device_tensor_from_cpu_tensor", "device_tensor_from_numpy",
                                             "meta_tensor_no_storage", "nested_tensor", "qtensor",
                                             "sparse_tensor", "tensor_v3", "wrapper_subclass")])


class WeightsOnlyError(WeightFileError, pickle.UnpicklingError):
    """A checkpoint that ``weights_only=True`` refuses (an ``UnpicklingError``, as ``torch.load`` raises)."""


class Refused(Exception):
    """A fault of the file found while rebuilding; becomes a WeightFileError naming the file."""


class _Placement(Exception):
    """Carries an error of map_location's placement (the caller's, not the file's) out unchanged."""

    def __init__(self, error):
        super().__init__(error)
        self.error = error


class _TypeMarker:
    """What ``torch.Tensor`` and ``Parameter`` resolve to: names for ``_rebuild_from_type_v2``, never called."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_TENSOR, _PARAMETER = _TypeMarker("torch.Tensor"), _TypeMarker("torch.nn.parameter.Parameter")


class _StorageType:
    """What ``torch.FloatStorage`` and friends (and ``torch.UntypedStorage``) resolve to: a dtype name."""

    def __init__(self, name, dtype):
        self.name, self.dtype = name, dtype

    def __repr__(self):
        return f"<storage type {self.name}>"


class _Storage:
    """One storage of the file: a 1-D native host array and the device it was saved from."""

    def __init__(self, array, location):
        self.array, self.location = array, location


def _encode(text, encoding="latin1"):
    if type(text) is not str or type(encoding) is not str or encoding not in ("latin1", "latin-1"):
        raise Refused("_codecs.encode is admitted only for bytes (str, 'latin1')")
    return text.encode("latin1")


def _bytearray(data=b""):
    if not isinstance(data, (bytes, bytearray, list)):
        raise Refused(f"bytearray of {type(data).__name__} is not admitted")
    return bytearray(data)


def _size(dims=()):
    if not isinstance(dims, (tuple, list)) or not all(type(d) is int and d >= 0 for d in dims):
        raise Refused(f"torch.Size of {dims!r:.80} is not a list of sizes")
    return Size(dims)


def _device(kind, index=None):
    try:
        return device(kind) if index is None else device(kind, index)
    except (RuntimeError, TypeError, ValueError) as e:
        raise Refused(f"invalid device ({e})") from None


class Rebuilder:
    """The engine's side of one checkpoint: its storages, tensors and the globals they are built from."""

    def __init__(self, open_storage, placer, little):
        self.open_storage, self.placer, self.little = open_storage, placer, little
        self.storages = {}
        self.storage_bytes = 0
        self.tensor_bytes = 0
        self.globals = {
            "collections.OrderedDict": collections.OrderedDict, "collections.Counter": collections.Counter,
            "builtins.set": set, "builtins.complex": complex, "builtins.bytearray": _bytearray,
            "_codecs.encode": _encode, "torch.Size": _size, "torch.device": _device, "torch.Tensor": _TENSOR,
            "torch.nn.parameter.Parameter": _PARAMETER,
            "torch._utils._rebuild_tensor": self.rebuild_tensor,
            "torch._utils._rebuild_tensor_v2": self.rebuild_tensor_v2,
            "torch._utils._rebuild_parameter": self.rebuild_parameter,
            "torch._utils._rebuild_parameter_with_state": self.rebuild_parameter_with_state,
            "torch._tensor._rebuild_from_type_v2": self.rebuild_from_type_v2,
            "torch.storage.UntypedStorage": _StorageType("UntypedStorage", "uint8"),
        }
        for d in dtypes.ALL:
            self.globals[f"torch.{d.name}"] = d
        for kind, name in _STORAGE_DTYPES.items():
            for where in ("torch", "torch.cuda"):
                if where == "torch" or not kind.startswith("Q"):
                    self.globals[f"{where}.{kind}Storage"] = _StorageType(f"{kind}Storage", name)

    def resolve(self, full):
        """The engine object for the global ``full``; refuses what PyTorch's weights_only unpickler refuses."""
        obj = self.globals.get(full)
        if obj is not None:
            return obj
        obj = allowed_global(full)
        if obj is not None:
            return obj
        if full in _ADMITTED_UNSUPPORTED:
            raise Refused(f"the checkpoint uses {full}, which this engine does not support")
        shown = full.removeprefix("builtins.")
        raise WeightsOnlyError("", f"Weights only load failed. This file can still be loaded, to do so you have "
                                   f"two options, do those steps only if you trust the source of the checkpoint. "
                                   f"\n\t(1) {UNSAFE_MESSAGE}\n\t(2) Alternatively, to load with `weights_only=True` "
                                   f"please check the recommended steps in the following error message.\n\t"
                                   f"WeightsUnpickler error: Unsupported global: GLOBAL {shown} was not an allowed "
                                   f"global by default. Please use `torch.serialization.add_safe_globals([{shown}])` "
                                   f"or the `torch.serialization.safe_globals([{shown}])` context manager to "
                                   f"allowlist this global if you trust this class/function.")

    def reference(self, pid):
        """``(dtype name, key, location, numel)`` of the storage reference ``pid``, checked."""
        if len(pid) != 5:
            raise Refused(f"persistent id {pid!r:.80} is not a storage reference")
        _, stype, key, location, numel = pid
        if not isinstance(stype, _StorageType) or not isinstance(key, str) or not isinstance(location, str) \
                or type(numel) is not int or numel < 0:
            raise Refused(f"persistent id {pid!r:.80} is not a valid storage reference")
        if stype.dtype not in SUPPORTED_DTYPES:
            raise Refused(f"storage {key} holds {stype.name} ({stype.dtype}), a dtype this engine does not support"
                           "; convert it in PyTorch (e.g. .float()) and save again")
        _device(location)  # a saved location that names no device is the file's fault, not map_location's
        return stype.dtype, key, location, numel

    def persistent_load(self, pid):
        dtype, key, location, numel = self.reference(pid)
        storage = self.storages.get(key)
        if storage is None:
            storage = self.storages[key] = _Storage(self.read_storage(key, dtype, numel), location)
            self.storage_bytes += storage.array.nbytes
        elif storage.array.dtype != np.dtype(dtype) or storage.array.size != numel:
            raise Refused(f"storage {key} is referenced with two different dtypes or sizes")
        return storage

    def read_storage(self, key, dtype, numel):
        item = np.dtype(dtype).newbyteorder("<" if self.little else ">")
        with self.open_storage(key, numel * item.itemsize, f"{numel} x {dtype}") as src:  # checks the size
            arr = np.empty(numel, dtype=item)
            if not read_into(src, bytes_view(arr)):
                raise Refused(f"storage {key!r} ends early (truncated)")
            src.read(1)  # reach the end of a ZIP member, where zipfile checks its CRC
        if dtype == "bool" and numel and int(arr.view(np.uint8).max()) > 1:
            raise Refused(f"storage {key!r} holds bool values other than 0/1")
        return arr if item.isnative else arr.astype(item.newbyteorder("="))

    def rebuild_tensor(self, storage, offset, size, stride):
        return self.rebuild_tensor_v2(storage, offset, size, stride, False, None)

    def rebuild_tensor_v2(self, storage, offset, size, stride, requires_grad, backward_hooks, metadata=None):
        if metadata:
            raise Refused(f"a tensor carries metadata {metadata!r:.80} (a conjugate or negative view?), which this "
                           "engine does not restore; save it resolved (.resolve_conj().resolve_neg())")
        arr = self.view(storage, offset, size, stride)
        if type(requires_grad) is not bool or (requires_grad and arr.dtype.kind not in dtypes.FLOAT_KINDS):
            raise Refused(f"a tensor of {arr.dtype} has requires_grad={requires_grad!r}")
        try:
            t = self.placer(make_tensor(arr, CPU), storage.location)
        except Exception as e:
            raise _Placement(e) from e
        if requires_grad:
            t.requires_grad = True
        return t

    def view(self, storage, offset, size, stride):
        """``storage``'s view (offset, sizes, strides in elements), checked: the storage's own memory where the
        view is C-contiguous (so tensors saved as views of one storage share it again), else a C-contiguous
        copy (the engine's arrays are contiguous or NumPy views of contiguous ones)."""
        if not isinstance(storage, _Storage) or type(offset) is not int or offset < 0 \
                or not isinstance(size, tuple) or not isinstance(stride, tuple) or len(size) != len(stride) \
                or not all(type(s) is int and s >= 0 for s in stride):
            raise Refused("a tensor is rebuilt from arguments that are not a storage, offset, sizes and strides")
        src = storage.array
        if not valid_shape(size, src.itemsize):
            raise Refused(f"a tensor has an invalid size {size!r:.80}")
        count = math.prod(size)
        if count == 0:
            return np.empty(size, dtype=src.dtype)
        last = offset + sum((n - 1) * s for n, s in zip(size, stride))
        if last >= src.size:
            raise Refused(f"a tensor (offset {offset}, size {size}, stride {stride}) reaches past the end of its "
                           f"storage of {src.size} elements")
        view = np.lib.stride_tricks.as_strided(src[offset:], size, tuple(s * src.itemsize for s in stride))
        if view.flags.c_contiguous:
            return view  # shares the storage's memory, as the tensors did when they were saved
        self.tensor_bytes += count * src.itemsize
        if self.tensor_bytes > self.storage_bytes + MAX_EXPANDED_BYTES:
            raise Refused(f"the tensors rebuilt from this file hold more than {MAX_EXPANDED_BYTES >> 20} MiB more "
                           "than its storages (views repeated or expanded)")
        return np.array(view, order="C")

    def rebuild_parameter(self, data, requires_grad, backward_hooks):
        if not isinstance(data, Tensor) or type(requires_grad) is not bool:
            raise Refused("a Parameter is rebuilt from something that is not a tensor")
        return Parameter(data, requires_grad)

    def rebuild_parameter_with_state(self, data, requires_grad, backward_hooks, state):
        if state:
            raise Refused("a Parameter carries Python attributes, which this engine does not restore")
        return self.rebuild_parameter(data, requires_grad, backward_hooks)

    def rebuild_from_type_v2(self, func, new_type, args, state):
        rebuilds = (self.rebuild_tensor, self.rebuild_tensor_v2, self.rebuild_parameter)
        if not any(func is f for f in rebuilds) or (new_type is not _TENSOR and new_type is not _PARAMETER) \
                or type(args) is not tuple or state:
            raise Refused(f"a tensor of type {new_type!r:.80} or with attributes, which this engine does not "
                           "rebuild")
        out = func(*args)
        return out if new_type is _TENSOR or isinstance(out, Parameter) else Parameter(out, out.requires_grad)


class _TrustingUnpickler(pickle.Unpickler):
    """``weights_only=False``: Python's unpickler, which runs the code the file names; torch's rebuilds map to
    the engine's."""

    def __init__(self, file, rebuilder):
        super().__init__(file)
        self.rebuilder = rebuilder

    def find_class(self, module, name):
        full = f"{module}.{name}"
        obj = self.rebuilder.globals.get(full)
        if obj is not None:
            return obj
        if module == "torch" or module.startswith("torch."):
            raise Refused(f"the file pickles the PyTorch object {full}, which this engine cannot rebuild (a whole "
                           "torch.nn module?); save its state_dict() in PyTorch and load that")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        return self.rebuilder.persistent_load(pid)


def pickle_prefix(names):
    """The record prefix (``"archive/"``) of a ZIP holding exactly one ``<prefix>data.pkl``, else None."""
    found = [n[:-len(PICKLE)] for n in names if n == PICKLE or n.endswith("/" + PICKLE)]
    return found[0] if len(found) == 1 and found[0].count("/") <= 1 else None


def _zip_storages(zf, prefix):
    """``open_storage(key, nbytes, what)`` of a ZIP checkpoint: its member ``<prefix>data/<key>``, checked."""
    def open_storage(key, nbytes, what):
        name = f"{prefix}data/{key}"
        try:
            info = zf.getinfo(name)
        except KeyError:
            raise Refused(f"the archive lacks storage {name!r} (truncated?)") from None
        if info.file_size != nbytes or info.compress_type != zipfile.ZIP_STORED:
            raise Refused(f"storage {name!r} holds {info.file_size} bytes, its reference says {what}")
        return zf.open(info)

    return open_storage


def load_torch_zip(zf, name, prefix, placer, weights_only):
    """The object pickled in the PyTorch-format archive ``zf`` (members checked against the file already)."""
    def run():
        info = zf.getinfo(prefix + PICKLE)
        if info.file_size > MAX_PICKLE_BYTES or info.compress_type != zipfile.ZIP_STORED:
            raise Refused(f"{PICKLE} is compressed or implausibly large ({info.file_size} bytes)")
        order = zf.read(prefix + "byteorder") if prefix + "byteorder" in zf.namelist() else b"little"
        if order not in (b"little", b"big"):
            raise Refused(f"unknown byte order {order[:20]!r}")
        rebuilder = Rebuilder(_zip_storages(zf, prefix), placer, order == b"little")
        data = zf.read(info)
        if weights_only:
            return RestrictedUnpickler(data, rebuilder.resolve, rebuilder.persistent_load).load()
        return _TrustingUnpickler(io.BytesIO(data), rebuilder).load()

    return guarded(name, run)


def guarded(name, run):
    """``run()``, its faults turned into a WeightFileError naming the file (placement errors pass unchanged)."""
    try:
        return run()
    except WeightsOnlyError as e:
        raise WeightsOnlyError(name, e.problem) from None
    except _Placement as p:
        raise p.error from None
    except (Refused, UnpicklingError) as e:
        raise WeightFileError(name, str(e)) from None
    except (IndexError, KeyError, TypeError, ValueError, AttributeError, ArithmeticError, RuntimeError,
            struct.error, EOFError, zipfile.BadZipFile, OSError) as e:  # RuntimeError: RecursionError too
        raise WeightFileError(name, f"the pickle is damaged ({type(e).__name__}: {e})") from None
