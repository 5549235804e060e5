"""Whole modules saved the way ``torch.save`` lays a file out: a pickle of the object in which each tensor is a
call of PyTorch's rebuild function on a storage named by persistent id, and each storage's raw bytes a member
of the ZIP of its own (``archive/data/<key>``). The pickle holds structure only, however large the model, and
the loader's rebuilds (``serialization_torch``) read it back; with ``weights_only=True`` the first class of the
module is refused by name, as PyTorch does.
"""

import collections
import pickle
import zipfile

from .nn.parameter import Parameter
from .serialization_limits import ZIP_DATE, bytes_view
from .serialization_torch import _ARCHIVE, _STORAGE_DTYPES, PICKLE
from .tensor import Tensor

_STORAGE_OF_DTYPE = {dtype: f"{kind}Storage" for kind, dtype in _STORAGE_DTYPES.items()}


class _TorchGlobal:
    """A name in ``torch`` the pickle refers to (written as a GLOBAL), which the engine need not import."""

    def __init__(self, module, name):
        self.full = f"{module}.{name}"
        self.opcode = pickle.GLOBAL + f"{module}\n{name}\n".encode("ascii")

    def __call__(self, *args):  # pickle's save_reduce requires a callable; this one is only ever written
        raise TypeError(f"{self.full} is a name written into a pickle, not a function of the engine")


_REBUILD_TENSOR = _TorchGlobal("torch._utils", "_rebuild_tensor_v2")
_REBUILD_PARAMETER = _TorchGlobal("torch._utils", "_rebuild_parameter")


class _Storage:
    def __init__(self, key, array, location):
        self.key, self.array, self.location = key, array, location


class _TorchLayoutPickler(pickle._Pickler):
    """Python's pickler (the C one cannot write a GLOBAL for a name it cannot import) with tensors out of band."""

    def __init__(self, file, protocol):
        super().__init__(file, protocol)
        self.storages = []

    def save(self, obj, save_persistent_id=True):
        if isinstance(obj, _TorchGlobal):
            self.write(obj.opcode)
            return
        super().save(obj, save_persistent_id)

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            dtype = _TorchGlobal("torch", _STORAGE_OF_DTYPE[obj.array.dtype.name])
            return ("storage", dtype, obj.key, obj.location, obj.array.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Parameter):
            return _REBUILD_PARAMETER, (Tensor.detach(obj), obj.requires_grad, collections.OrderedDict())
        if isinstance(obj, Tensor):
            array = obj._host().ravel()  # C order: a view when the tensor's array is contiguous
            storage = _Storage(str(len(self.storages)), array, str(obj.device))
            self.storages.append(storage)
            shape = tuple(obj.shape)
            strides, step = [], 1
            for n in reversed(shape):
                strides.insert(0, step)
                step *= n
            return _REBUILD_TENSOR, (storage, 0, shape, tuple(strides), obj.requires_grad, collections.OrderedDict())
        return NotImplemented


def write_pickled(fileobj, obj, protocol):
    """Write ``obj`` (a whole module, or a container holding one) in ``torch.save``'s layout."""
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as zf:
        with zf.open(zipfile.ZipInfo(f"{_ARCHIVE}/{PICKLE}", date_time=ZIP_DATE), "w") as out:
            pickler = _TorchLayoutPickler(out, 2 if protocol is None else protocol)
            pickler.dump(obj)
        for member, content in (("byteorder", b"little"), ("version", b"3")):
            zf.writestr(zipfile.ZipInfo(f"{_ARCHIVE}/{member}", date_time=ZIP_DATE), content)
        for storage in pickler.storages:
            info = zipfile.ZipInfo(f"{_ARCHIVE}/data/{storage.key}", date_time=ZIP_DATE)
            with zf.open(info, "w", force_zip64=storage.array.nbytes >= 1 << 31) as out:
                out.write(bytes_view(storage.array))
