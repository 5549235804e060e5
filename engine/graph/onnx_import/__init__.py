"""ONNX import: an ONNX file becomes a network document and its weights, every operator mapped to a layer of
the catalogue or refused by name (``rules.RULES`` lists what is read)."""

from ..import_builder import Imported
from .errors import OnnxImportError
from .importer import import_onnx, import_onnx_model
from .model_file import parse_model, read_model

__all__ = ["Imported", "OnnxImportError", "import_onnx", "import_onnx_model", "parse_model", "read_model"]
