"""Importing a model class by name, for the command line and the app alike: ``model.py:ClassName`` (Python
source run with the engine as torch) or ``vision:NAME`` (an architecture of the engine's vision models), built
with keyword arguments, given a checkpoint's weights, and traced into a checked document."""

import os
from dataclasses import dataclass

from ..graph.module_import import TraceRefused, import_module
from ..graph.module_import.source import build, load_weights, model_class
from ..vision import models

VISION = "vision:"


@dataclass(frozen=True)
class ClassImport:
    imported: object  # Imported
    difference: float  # the largest difference from the model on a new batch (relative to its outputs)
    default_path: str  # where its network file goes by default, without the extension


def known_architectures():
    return models.list_models()


def import_class(spec, kwargs=None, input_shape=(3, 32, 32), weights=None):
    """The ``ClassImport`` of ``spec`` (``model.py:ClassName`` or ``vision:NAME``); ``TraceRefused`` naming what
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
    return ClassImport(imported, difference, default)
