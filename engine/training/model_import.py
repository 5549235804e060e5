"""Importing a model by name, for the command line and the app alike: an ONNX file (checked against
onnxruntime), ``model.py:ClassName`` (Python source run with the engine as torch) or ``vision:NAME`` (an
architecture of the engine's vision models), built with keyword arguments, given a checkpoint's weights, and
traced into a checked document; and reading the class's arguments and sample shape as a person types them."""

import json
import os
from dataclasses import dataclass

from ..graph.module_import import TraceRefused, import_module
from ..graph.module_import.source import build, load_weights, model_class
from ..graph.onnx_import.check import import_checked
from ..vision import models

VISION = "vision:"


@dataclass(frozen=True)
class ModelImport:
    imported: object  # Imported
    difference: float  # the largest difference from the source on a random batch
    default_path: str  # where its network file goes by default, without the extension
    reference: str  # what it was checked against, for messages


def known_architectures():
    return models.list_models()


def import_file(path):
    """The ``ModelImport`` of the ONNX file ``path``; ``OnnxImportError`` naming what cannot be imported."""
    imported, difference = import_checked(path)
    return ModelImport(imported, difference, os.path.splitext(path)[0], "onnxruntime")


def import_class(spec, kwargs=None, input_shape=(3, 32, 32), weights=None):
    """The ``ModelImport`` of ``spec`` (``model.py:ClassName`` or ``vision:NAME``); ``TraceRefused`` naming what
    cannot be imported."""
    kwargs = dict(kwargs or {})
    if spec.startswith(VISION):
        name = spec[len(VISION):]
        if name not in models.list_models():
            raise TraceRefused(f"{spec}: no such architecture; vision.models has {', '.join(models.list_models())}")
        model = build(lambda **kw: models.get_model(name, **kw), kwargs, spec)
        title, default = name, name
    else:
        path, _, class_name = spec.rpartition(":")
        if not path or not class_name:
            raise TraceRefused(f"{spec}: give MODEL.onnx, model.py:ClassName or vision:NAME")
        model = build(model_class(path, class_name), kwargs, spec)
        title, default = class_name, os.path.join(os.path.dirname(path), class_name)
    if weights:
        load_weights(model, weights)
    imported, difference = import_module(model, tuple(input_shape), title)
    return ModelImport(imported, difference, default, "the model itself")


def parse_arguments(text):
    """A class's keyword arguments from JSON text; ``ValueError`` completing a sentence that names them ("--args
    is not JSON: ...")."""
    try:
        value = json.loads(text or "{}")
    except ValueError as e:
        raise ValueError(f"is not JSON: {e}") from None
    if not isinstance(value, dict):
        raise ValueError('must be a JSON object of keyword arguments, such as {"num_classes": 10}')
    return value


def parse_sample_shape(text):
    """One sample's shape from ``3x32x32``; ``ValueError`` completing a sentence that names it."""
    try:
        shape = tuple(int(v) for v in text.lower().split("x"))
    except ValueError:
        shape = ()
    if not shape or any(v < 1 for v in shape):
        raise ValueError("is not one sample's shape: give its sizes joined by x, such as 3x32x32")
    return shape
