"""How closely an imported network agrees with the ONNX model it came from: both run by their own runtimes
(the engine, onnxruntime) on one random batch."""

import numpy as np
import onnxruntime

from ...autograd.grad_mode import no_grad
from ...creation import from_numpy
from ...utils.files import read_limited
from ..import_builder import relative_difference, weighted_module
from .errors import OnnxImportError
from .importer import import_onnx_model
from .model_file import MAX_BYTES, parse_model

BATCH = 2  # unless the file fixes the batch size
TOLERANCE = 1e-3  # of the largest output: float32 rounding over a deep network stays far below


def differences(model_bytes, imported, seed=0):
    """``(largest absolute difference, the same over the largest output, at least 1)`` between onnxruntime's
    outputs for the serialised ONNX model and the imported network's, on one batch of standard normal inputs."""
    session = onnxruntime.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    graph_input = session.get_inputs()[0]
    batch = graph_input.shape[0] if isinstance(graph_input.shape[0], int) else BATCH
    shape = (batch, *imported.network.input_node().params["shape"])
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    expected = session.run(None, {graph_input.name: x})[0]
    with no_grad():
        got = weighted_module(imported.network, imported.arrays)(from_numpy(x)).numpy()
    if got.shape != expected.shape:
        return float("inf"), float("inf")
    return float(np.abs(got - expected).max()), relative_difference(got, expected)


def max_difference(model_bytes, imported, seed=0):
    """The largest absolute difference of ``differences``."""
    return differences(model_bytes, imported, seed)[0]


def import_checked(path):
    """``(Imported, largest difference from onnxruntime)`` for the ONNX file ``path``, read once. An import that
    onnxruntime disagrees with (by more than ``TOLERANCE`` of the outputs) is refused: the rules missed
    something, and the network would compute something else."""
    data = read_limited(path, MAX_BYTES, OnnxImportError)
    imported = import_onnx_model(parse_model(data, path), path)
    difference, relative = differences(data, imported)
    if not relative <= TOLERANCE:
        raise OnnxImportError(path, f"the imported network differs from onnxruntime's run of the file (largest "
                                    f"difference {difference:.3g}); this is a gap in the importer, please report "
                                    "it with the file")
    return imported, difference
