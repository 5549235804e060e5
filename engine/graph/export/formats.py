"""The export formats a document offers, and ``export_network``, the one entry point the GUI and the
command line call."""

import os
from dataclasses import dataclass

from ..build import require_valid
from .code import export_code
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

_WRITERS = {
    "safetensors": lambda network, arrays, path: [write_weights("safetensors", arrays, path)],
    "npz": lambda network, arrays, path: [write_weights("npz", arrays, path)],
    "llw": lambda network, arrays, path: [write_weights("llw", arrays, path)],
    "onnx": export_onnx,
    "pytorch": lambda network, arrays, path: export_code(network, arrays, path, "pytorch"),
    "engine": lambda network, arrays, path: export_code(network, arrays, path, "engine"),
}


def export_network(network, state_dict, fmt, path):
    """Export ``network`` with ``state_dict`` (None: freshly initialised weights) in format ``fmt`` (a key of
    ``FORMATS``) to ``path``, adding the format's extension when missing; returns the paths written.

    A document with errors raises ``NetworkError`` listing them; weights that do not fit it, or a layer
    option the format cannot express, raise ``ExportError``. Every file is written atomically.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    require_valid(network)
    path = os.fspath(path)
    extension = FORMATS[fmt].extension
    if not path.lower().endswith(extension):
        path += extension
    return _WRITERS[fmt](network, checked_arrays(network, state_dict), path)
