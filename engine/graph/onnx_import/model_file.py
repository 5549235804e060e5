"""Reading an ONNX file for import: a size budget, the protobuf, the checker, and shape inference for the
shapes of the values the graph computes. Weights kept in external files are refused: an import reads the
one file it was given."""

import onnx
from google.protobuf.message import DecodeError
from onnx import TensorProto, shape_inference

from ...utils.files import read_limited
from .errors import OnnxImportError

MAX_BYTES = 2 << 30  # protobuf's own limit for one message


def _first_line(error):
    text = str(error).strip().splitlines()
    return text[0] if text else type(error).__name__


def read_model(path):
    """The checked ``ModelProto`` in ``path``, with the shapes shape inference finds; ``OnnxImportError``
    naming the file otherwise."""
    data = read_limited(path, MAX_BYTES, OnnxImportError)
    return parse_model(data, path)


def parse_model(data, source):
    """``read_model`` for the bytes ``data`` of a file named ``source``."""
    try:
        model = onnx.load_model_from_string(data)
    except (DecodeError, ValueError, RuntimeError) as e:
        raise OnnxImportError(source, f"not an ONNX model (the file cannot be parsed: {_first_line(e)})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise OnnxImportError(source, "not an ONNX model, or one whose graph has no nodes")
    external = [t.name for t in model.graph.initializer if t.data_location == TensorProto.EXTERNAL]
    if external:
        raise OnnxImportError(source, f"keeps {len(external)} weights ({external[0]!r}, ...) in external data files; "
                                      "save the model with its weights inside the .onnx file to import it")
    try:
        onnx.checker.check_model(model)
        return shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except (onnx.checker.ValidationError, shape_inference.InferenceError, RuntimeError) as e:
        raise OnnxImportError(source, f"not a valid ONNX model: {_first_line(e)}") from None


def default_opset(model):
    """The version of the default ('ai.onnx') operator set the model uses."""
    for entry in model.opset_import:
        if entry.domain in ("", "ai.onnx"):
            return entry.version
    return 1


PROBE_BATCH = 7  # a batch size to infer shapes with: exporters' Reshape(..., [batch, -1]) only resolves then


def known_shapes(model):
    """``declared_shapes`` of the model, with the sizes that stay unknown behind a symbolic batch (a Reshape
    whose target holds the batch and a -1) taken from shape inference at a concrete batch size. The batch
    itself is None in both."""
    shapes = declared_shapes(model.graph)
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.value_info[:]
    initialized = {t.name for t in probe.graph.initializer}
    for graph_input in probe.graph.input:
        if graph_input.name not in initialized and graph_input.type.tensor_type.shape.dim:
            graph_input.type.tensor_type.shape.dim[0].dim_value = PROBE_BATCH
    for graph_output in probe.graph.output:
        graph_output.type.tensor_type.ClearField("shape")
    try:
        probed = shape_inference.infer_shapes(probe, strict_mode=True, data_prop=True)
    except (shape_inference.InferenceError, RuntimeError):
        return shapes  # a file that fixes its batch size in its reshapes: the declared shapes are all there is
    for name, shape in declared_shapes(probed.graph).items():
        if shape and (name not in shapes or None in shapes[name][1:]):
            shapes[name] = (None, *shape[1:])
    return shapes


def declared_shapes(graph):
    """``{value name: (dim, ...)}`` for every value whose type shape inference or the file declares; a
    symbolic dimension (the batch) is None."""
    shapes = {}
    for info in (*graph.input, *graph.value_info, *graph.output):
        kind = info.type.WhichOneof("value")
        if kind != "tensor_type" or not info.type.tensor_type.HasField("shape"):
            continue
        shapes[info.name] = tuple(d.dim_value if d.HasField("dim_value") else None
                                  for d in info.type.tensor_type.shape.dim)
    return shapes
