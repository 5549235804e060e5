"""The one error of ONNX import."""

from ...utils.files import FileError


class OnnxImportError(FileError, ValueError):
    """An ONNX file that cannot become a network document: unreadable, not a model, or holding an operator or
    pattern that no layer of the catalogue computes. The message names the file and, where one is to blame,
    the ONNX node, its operator and what is missing."""
