"""A document's weights: checked against the document, written as safetensors, NumPy ``.npz`` or the
engine's own file (``engine.save``), and read back from any of them.

The names are the ``GraphModule``'s ``state_dict`` keys (``conv1.weight``, ``bn1.running_mean``,
``bn1.num_batches_tracked``): the node names, which are also the attribute names in the exported PyTorch
code, so one safetensors file loads into either. Weight files are untrusted input: nothing is unpickled,
and every fault raises ``WeightFileError`` naming the file.
"""

import os
from collections import OrderedDict

import numpy as np

from ... import serialization
from ...creation import from_numpy
from ...serialization import WeightFileError
from ...serialization_npz import load_npz
from ...tensor import Tensor
from ...utils.files import atomic_write
from .errors import ExportError


def _host(value, key):
    if isinstance(value, Tensor):
        return value.detach().cpu().numpy()
    if isinstance(value, np.ndarray):
        return value
    raise ExportError(f"weight {key!r} is a {type(value).__name__}, not a tensor")


def checked_arrays(network, state_dict=None):
    """The weights to export as host arrays, in the module's order and dtypes.

    ``state_dict`` None means freshly initialised weights. Keys the document's module lacks or needs, and
    arrays of the wrong shape, raise ``ExportError`` naming every such key.
    """
    expected = network.build().state_dict()
    if state_dict is None:
        return OrderedDict((k, _host(v, k)) for k, v in expected.items())
    missing = [k for k in expected if k not in state_dict]
    unexpected = [k for k in state_dict if k not in expected]
    problems = []
    if missing:
        problems.append("missing " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected " + ", ".join(map(str, unexpected)))
    arrays = OrderedDict()
    for key, reference in expected.items():
        if key not in state_dict:
            continue
        array = _host(state_dict[key], key)
        if tuple(array.shape) != tuple(reference.shape):
            problems.append(f"{key} has shape {tuple(array.shape)} but the network needs {tuple(reference.shape)}")
        else:
            arrays[key] = array.astype(_host(reference, key).dtype, copy=False)
    if problems:
        raise ExportError(f"the weights do not match the network '{network.title}': " + "; ".join(problems))
    return arrays


# ----- writing -----
def _write_npz(arrays, path):
    atomic_write(path, lambda fh, _tmp: np.savez(fh, **arrays))


def _write_engine(arrays, path):
    serialization.save(OrderedDict((k, from_numpy(np.asarray(a, order="C"))) for k, a in arrays.items()), path)


WRITERS = {"safetensors": serialization.save_safetensors, "npz": _write_npz, "llw": _write_engine}


def write_weights(fmt, arrays, path, metadata=None):
    """Write ``arrays`` (name -> array) in weight format ``fmt`` (a key of ``WRITERS``), atomically.
    ``metadata`` (str -> str) goes into a safetensors header; the other formats have no place for it."""
    if fmt == "safetensors":
        serialization.save_safetensors(arrays, path, metadata)
    else:
        WRITERS[fmt](arrays, path)
    return path


# ----- reading -----
def _read_npz(path, name):
    return {key: from_numpy(array) for key, array in load_npz(path).items()}


def _read_engine(path, name):
    obj = serialization.load(path, map_location="cpu")
    if not isinstance(obj, dict):
        raise WeightFileError(name, f"holds a {type(obj).__name__}, not a dict of weights (a state_dict)")
    if isinstance(obj.get("model"), dict) and "optimizer" in obj:
        raise WeightFileError(name, "is a training checkpoint, not a dict of weights; its 'model' entry holds them")
    out = {}
    for key, value in obj.items():
        if isinstance(value, np.ndarray):
            value = from_numpy(value)  # engine.load gives native, C-ordered arrays of supported dtypes
        if not isinstance(key, str) or not isinstance(value, Tensor):
            raise WeightFileError(name, f"entry {key!r} is a {type(value).__name__}, not a tensor named by a string")
        out[key] = value
    return out


def _read_safetensors(path, name):
    return serialization.load_safetensors(path)


READERS = {".safetensors": _read_safetensors, ".npz": _read_npz, ".llw": _read_engine, ".pt": _read_engine,
           ".pth": _read_engine}


def load_weights(path):
    """``{name: engine.Tensor}`` from a ``.safetensors``, ``.npz`` or engine (``.llw``, ``.pt``, ``.pth``) file."""
    name = os.fsdecode(os.fspath(path))
    reader = READERS.get(os.path.splitext(name)[1].lower())
    if reader is None:
        raise WeightFileError(name, f"unknown weight file extension; expected one of {', '.join(READERS)}")
    if not os.path.lexists(name):
        raise FileNotFoundError(f"{name}: no such weight file")  # what exists but is no file: WeightFileError
    return reader(name, name)
