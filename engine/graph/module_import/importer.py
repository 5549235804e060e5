"""A module traced into a checked document: ``import_module`` runs the trace, finishes the document like any
import, and runs it beside the module on a new batch; a difference means something was not traced, and the
import is refused."""

import numpy as np

from ...autograd.grad_mode import no_grad
from ...creation import from_numpy
from ..import_builder import Imported, relative_difference, weighted_module
from .errors import TraceRefused
from .tracer import TOLERANCE, Trace

CHECK_BATCH = 3


def import_module(model, input_shape, title, classes=(), description=""):
    """``(Imported, largest relative difference from the module on a new batch)`` of ``model`` (an engine
    ``nn.Module``; its weights come along) for samples of ``input_shape`` (C×H×W or features);
    ``TraceRefused`` naming what cannot be imported."""
    model.eval()
    trace = Trace(model, input_shape)
    output = trace.run()

    def refuse(problem):
        raise TraceRefused(problem)

    network, arrays = trace.doc.finish(title, description, output, tuple(classes), None, refuse)
    imported = Imported(network, arrays, tuple(classes), list(dict.fromkeys(trace.notes)))
    difference = _difference(model, imported, input_shape)
    if not difference <= TOLERANCE:
        raise TraceRefused(f"the traced network computes something else than the model (largest difference "
                           f"{difference:.3g}): it uses an operation LayerLab does not trace")
    return imported, difference


def _difference(model, imported, input_shape):
    module = weighted_module(imported.network, imported.arrays)
    x = from_numpy(np.random.default_rng(1).standard_normal((CHECK_BATCH, *input_shape)).astype(np.float32))
    with no_grad():
        return relative_difference(module(x).numpy(), model(x).numpy())
