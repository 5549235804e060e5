"""The export formats a document offers, and ``export_network``, the one entry point the GUI and the
command line call, with the file names both suggest (``suggested_path``) and check before overwriting
(``output_paths``)."""

import os
import re
from dataclasses import dataclass

from ..build import require_valid
from .code import export_code, weights_path
from .model_info import model_info
from .onnx_export import export_onnx
from .weights import checked_arrays, write_weights


@dataclass(frozen=True)
class ExportFormat:
    key: str
    title: str
    extension: str  # with the dot
    description: str


FORMATS = {f.key: f for f in (
    ExportFormat("safetensors", "Weights (safetensors)", ".safetensors",
                 "The weights under PyTorch's names (conv1.weight, bn1.running_mean, ...); "
                 "safetensors.torch.load_file reads them."),
    ExportFormat("npz", "Weights (NumPy .npz)", ".npz", "One array per weight, under the same names; numpy.load reads "
                 "them."),
    ExportFormat("llw", "Weights (LayerLab)", ".llw", "The engine's own weight file (engine.save); engine.load and "
                 "LayerLab read it."),
    ExportFormat("onnx", "ONNX model", ".onnx", "The network with its weights for ONNX runtimes (opset 17, input "
                 "'input' with any batch size, output 'output'), in evaluation mode."),
    ExportFormat("pytorch", "PyTorch code", ".py", "A torch.nn.Module in a .py file, with its weights in a "
                 ".safetensors file beside it."),
    ExportFormat("engine", "LayerLab engine code", ".py", "A .py script that rebuilds the network with LayerLab's "
                 "engine and trains it with the document's settings, with its weights in a .safetensors file "
                 "beside it."),
)}

# (network, arrays, path, ModelInfo) -> the paths written
_WRITERS = {
    "safetensors": lambda network, arrays, path, info: [write_weights("safetensors", arrays, path, info.metadata())],
    "npz": lambda network, arrays, path, info: [write_weights("npz", arrays, path)],
    "llw": lambda network, arrays, path, info: [write_weights("llw", arrays, path)],
    "onnx": export_onnx,
    "pytorch": lambda network, arrays, path, info: export_code(network, arrays, path, "pytorch", info),
    "engine": lambda network, arrays, path, info: export_code(network, arrays, path, "engine", info),
}


def _format(fmt):
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    return FORMATS[fmt]


def _with_extension(fmt, path):
    path = os.fspath(path)
    extension = _format(fmt).extension
    return path if path.lower().endswith(extension) else path + extension


def output_paths(fmt, path):
    """The files ``export_network`` writes for ``fmt`` and ``path``: the path with the format's extension
    added when missing, and for code the weights beside it."""
    path = _with_extension(fmt, path)
    return [path, weights_path(path)] if fmt in ("pytorch", "engine") else [path]


def suggested_path(fmt, network_path=None, title="", folder=""):
    """Where to export by default: beside the network file and named after it, or, for an unsaved network,
    in ``folder`` and named after its ``title``. Formats that share an extension (PyTorch and engine code are
    both ``.py``) add ``_<format>``, so that one export does not replace the other."""
    if network_path:
        base = os.path.splitext(os.fspath(network_path))[0]
    else:
        base = os.path.join(folder, re.sub(r"[^\w.-]+", "_", title).strip("._-") or "model")
    extension = _format(fmt).extension
    shared = sum(f.extension == extension for f in FORMATS.values()) > 1
    return base + (f"_{fmt}" if shared else "") + extension


def export_network(network, state_dict, fmt, path, classes=None):
    """Export ``network`` with ``state_dict`` (None: freshly initialised weights) in format ``fmt`` (a key of
    ``FORMATS``) to ``path``, adding the format's extension when missing; returns the paths written.
    ``classes`` names the outputs where the training data did (a run's); by default the dataset's names.

    A document with errors raises ``NetworkError`` listing them; weights that do not fit it, or a layer
    option the format cannot express, raise ``ExportError``. Every file is written atomically.
    """
    path = output_paths(fmt, path)[0]
    require_valid(network)
    return _WRITERS[fmt](network, checked_arrays(network, state_dict), path, model_info(network, classes))
