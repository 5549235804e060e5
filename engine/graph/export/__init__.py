"""Export of a network document: weights (safetensors, NumPy, the engine's own file), ONNX, and Python code
for PyTorch or for the engine. ``export_network`` writes any of the ``FORMATS``, with the class names and
normalisation of ``model_info`` wherever the format has room; ``load_weights`` reads weight files back."""

from .errors import ExportError
from .formats import FORMATS, ExportFormat, export_network, output_paths, suggested_path
from .model_info import ModelInfo, model_info
from .weights import load_weights

__all__ = ["FORMATS", "ExportError", "ExportFormat", "ModelInfo", "export_network", "load_weights", "model_info",
           "output_paths", "suggested_path"]
