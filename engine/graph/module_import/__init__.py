"""Importing an engine (or PyTorch-style) module as a network document: ``trace_module`` runs it on a sample
batch and turns what it calls into layers, checked against the module itself."""

from .errors import TraceRefused
from .importer import import_module

__all__ = ["TraceRefused", "import_module"]
