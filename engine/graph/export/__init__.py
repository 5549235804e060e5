"""Export of a network document: weights (safetensors, NumPy, the engine's own file), ONNX, and Python code
for PyTorch or for the engine. ``export_network`` writes any of the ``FORMATS``; ``load_weights`` reads
weight files back."""

from .errors import ExportError
from .formats import FORMATS, ExportFormat, export_network
from .weights import load_weights

__all__ = ["FORMATS", "ExportError", "ExportFormat", "export_network", "load_weights"]
