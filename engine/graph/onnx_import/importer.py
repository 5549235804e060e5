"""ONNX graph -> network document and weights.

The nodes are read in the file's (topological) order. A node whose inputs are all constants is folded; any
other is turned into layers by the rule for its operator (``rules.RULES``), which may take the nodes after it
that complete a pattern (MatMul + Add as one Linear, x · sigmoid(x) as SiLU...). A node no rule takes, or a
rule's missing piece, raises ``OnnxImportError`` naming the node, its operator and what is missing: the
import never builds a network that computes something else. Weights keep the names of the document's
``state_dict`` (``<node name>.weight``...), and the finished network is checked: its shapes are inferred,
and its output shape must be the one the ONNX graph declares.
"""

import json
from collections import defaultdict

import numpy as np
from onnx import helper, numpy_helper

from ..datasets import normalization
from ..import_builder import DocumentBuilder, Imported
from . import folding
from .errors import OnnxImportError
from .model_file import default_opset, known_shapes, read_model
from .names import candidate_name, module_path
from .rules import RULES
from .values import Value, holds_batch

MAX_METADATA_CHARS = 1 << 20



class GraphImport:
    """The state of one import; rules call its methods to read inputs and add layers."""

    def __init__(self, model, source):
        self.source, self.graph, self.opset = source, model.graph, default_opset(model)
        self.shapes = known_shapes(model)
        self.values = {}  # ONNX value name -> Value
        self.consumers = defaultdict(list)  # ONNX value name -> the nodes reading it
        # the nodes as one list of Python objects, kept: the object identities below (id) stay valid only so
        self.onnx_nodes = list(self.graph.node)
        self.order = {id(node): k for k, node in enumerate(self.onnx_nodes)}  # file (topological) order
        for node in self.onnx_nodes:
            for name in node.input:
                self.consumers[name].append(node)
        self.graph_outputs = {v.name for v in self.graph.output}
        self.taken = set()  # ids of ONNX nodes a pattern has already turned into layers
        self.doc, self.notes = DocumentBuilder(), []

    # ----- errors -----
    def refuse(self, onnx_node, problem):
        raise OnnxImportError(self.source, f"node {onnx_node.name or onnx_node.output[0]!r} ({onnx_node.op_type}): "
                                           f"{problem}")

    # ----- reading the graph -----
    def attr(self, onnx_node, name, default=None):
        for attribute in onnx_node.attribute:
            if attribute.name == name:
                value = helper.get_attribute_value(attribute)
                return value.decode() if isinstance(value, bytes) else value
        return default

    def value(self, name):
        return self.values.get(name) if name else None

    def computed(self, onnx_node, k, what="input"):
        """Input ``k`` of ``onnx_node``, which must be computed by the network (not a constant)."""
        value = self.value(onnx_node.input[k]) if k < len(onnx_node.input) else None
        if value is None or value.node is None:
            self.refuse(onnx_node, f"its {what} must be computed by the network, not a constant")
        return value

    def const(self, onnx_node, k, what, optional=False):
        """Input ``k`` of ``onnx_node`` as an array; it must be a constant (an initializer or folded)."""
        value = self.value(onnx_node.input[k]) if k < len(onnx_node.input) else None
        if value is None and optional:
            return None
        if value is None or not value.is_const:
            self.refuse(onnx_node, f"its {what} must be a constant (an initializer); LayerLab layers hold their "
                                   "weights and options themselves")
        return value.const

    def sample_shape(self, onnx_node, name):
        """The shape of value ``name`` without the batch: the layer's computing it where the import has made
        one (the catalogue's inference), else what ONNX shape inference found; refused when unknown."""
        value = self.value(name)
        if value is not None and value.node is not None and not value.batched:
            return self.doc.shape(value)
        shape = self.shapes.get(name)
        if shape is None or any(d is None for d in shape[1:]) or not shape:
            self.refuse(onnx_node, f"the shape of {name!r} is unknown (shape inference found none); LayerLab "
                                   "needs every size but the batch")
        return tuple(shape[1:])

    def sole_consumer(self, name, op_type=None):
        """The one node reading value ``name`` (of ``op_type`` when given), or None when several read it, it
        is an output of the graph, or the one reader is of another type."""
        readers = self.consumers.get(name, [])
        if len(readers) != 1 or name in self.graph_outputs or id(readers[0]) in self.taken:
            return None
        if op_type is not None and readers[0].op_type != op_type:
            return None
        return readers[0]

    def take(self, *onnx_nodes):
        """Mark nodes after the current one as part of its pattern: they are not visited again."""
        self.taken.update(id(n) for n in onnx_nodes)

    def is_constant(self, name):
        value = self.value(name)
        return value is not None and value.is_const

    def is_scalar(self, name):
        return self.is_constant(name) and self.values[name].const.size == 1

    def is_parameter(self, onnx_node, k):
        """Whether input ``k`` of ``onnx_node`` is a named weight of the file (an initializer named like a
        ``state_dict`` key, as exporters name parameters) rather than a constant an exporter made up (an
        anonymous ``onnx::...`` or a scoped ``.../scale``): a norm's scale of ones is learned only then."""
        name = onnx_node.input[k] if k < len(onnx_node.input) else ""
        return name in self.initializers and "/" not in name and not name.startswith("onnx::")

    # ----- writing the document -----
    def layer(self, onnx_node, type_name, params, inputs, weights=None, outputs=1, name=None, fallback=None):
        """Add a ``type_name`` node fed by ``inputs`` (Values), with ``weights`` ({key: array}) as
        ``<name>.<key>``; its name is ``name`` when given and free, else comes from ``onnx_node``'s scope, else
        is ``fallback``; its group comes from the scope's module path. Returns its Value (a list for several
        outputs)."""
        scoped = onnx_node is not None
        built = self.doc.layer(type_name, params, inputs,
                               self._refusal(onnx_node), weights, outputs,
                               (name, candidate_name(onnx_node) if scoped else None, fallback),
                               module_path(onnx_node) if scoped else None)
        return Value(built.node) if outputs == 1 else [Value(o.node, o.out_port) for o in built]

    def _refusal(self, onnx_node):
        def refuse(problem):
            if onnx_node is None:
                raise OnnxImportError(self.source, problem)
            self.refuse(onnx_node, problem)

        return refuse

    # ----- the walk -----
    def run(self):
        self.initializers = {t.name for t in self.graph.initializer}
        for tensor in self.graph.initializer:
            self.values[tensor.name] = Value(const=numpy_helper.to_array(tensor))
        self._add_input()
        self._fold_constants()
        for onnx_node in self.onnx_nodes:
            if id(onnx_node) in self.taken:
                continue
            if onnx_node.domain not in ("", "ai.onnx"):
                self.refuse(onnx_node, f"operator domain {onnx_node.domain!r} is not ONNX's own; LayerLab has no "
                                       "layer for it")
            inputs = [self.value(name) for name in onnx_node.input]
            missing = [name for name, v in zip(onnx_node.input, inputs) if name and v is None]
            if missing:  # an output of a node taken as a layer that computes only its first output
                self.refuse(onnx_node, f"it reads {missing[0]!r}, which the layers before it do not compute")
            if all(v is None or v.is_const for v in inputs) and not self._batched_constant(onnx_node, inputs):
                self._fold(onnx_node, inputs, refuse=True)  # what the first pass left: its problem is the error
                continue
            rule = RULES.get(onnx_node.op_type)
            if rule is None:
                self.refuse(onnx_node, f"LayerLab has no layer for the operator {onnx_node.op_type} (nor a "
                                       "pattern that contains it here)")
            try:
                self.values.update(rule(self, onnx_node))
            except OnnxImportError:
                raise
            except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:  # a form no rule foresaw
                self.refuse(onnx_node, f"its inputs or attributes have a form the importer does not read "
                                       f"({type(e).__name__}: {e})")

    def _fold_constants(self):
        """First pass: every node computable from constants (and declared shapes) is computed, so that a rule
        seeing the start of a pattern finds the weights of its later nodes already folded (an exporter may
        write a weight's Transpose after the nodes that come before its product)."""
        for onnx_node in self.onnx_nodes:
            inputs = [self.value(name) for name in onnx_node.input]
            if onnx_node.op_type == "Shape" and (inputs[0] is None or not inputs[0].is_const):  # a computed value
                shape = self.shapes.get(onnx_node.input[0])
                if shape is not None and None not in shape[1:]:
                    self.values.update(self._shape_of(onnx_node, shape))
                    self.taken.add(id(onnx_node))
            elif all(name == "" or (v is not None and v.is_const) for name, v in zip(onnx_node.input, inputs)) \
                    and not self._batched_constant(onnx_node, inputs):
                self._fold(onnx_node, inputs, refuse=False)

    @staticmethod
    def _batched_constant(onnx_node, inputs):
        """An Expand of a constant to the batch size (a class token): for its rule, not for folding."""
        return onnx_node.op_type == "Expand" and holds_batch(inputs[1].const)

    def _add_input(self):
        initialized = {t.name for t in self.graph.initializer}
        inputs = [v for v in self.graph.input if v.name not in initialized]
        if len(inputs) != 1:
            raise OnnxImportError(self.source, f"the graph has {len(inputs)} inputs "
                                               f"({', '.join(v.name for v in inputs) or 'none'}); a LayerLab "
                                               "network takes one")
        graph_input = inputs[0]
        if graph_input.type.tensor_type.elem_type != 1:  # TensorProto.FLOAT
            raise OnnxImportError(self.source, f"the input {graph_input.name!r} is not float32; LayerLab networks "
                                               "take float32 images or features")
        shape = self.shapes.get(graph_input.name)
        if not shape or len(shape) < 2 or any(d is None or d < 1 for d in shape[1:]):
            raise OnnxImportError(self.source, f"the input {graph_input.name!r} has shape {shape}; import needs a "
                                               "batch dimension and then fixed sizes")
        params = {"shape": tuple(shape[1:]), "dataset": "Image folder"}  # the dataset is chosen at the end
        self.values[graph_input.name] = self.layer(None, "Input", params, [], name="input")

    def _shape_of(self, onnx_node, shape):
        folded = folding.shape_constant(shape)
        start, end = self.attr(onnx_node, "start", 0), self.attr(onnx_node, "end", None)
        return {onnx_node.output[0]: Value(const=folded[start:end])}

    def _fold(self, onnx_node, inputs, refuse):
        """Compute ``onnx_node`` from its constant ``inputs``; where that cannot be done, refuse the node
        (``refuse``) or leave it to the second pass."""
        arrays = [None if v is None else v.const for v in inputs]
        problem = folding.fold_problem(onnx_node, arrays, self.opset)
        if problem is None:
            try:
                results = folding.fold(onnx_node, arrays, self.opset)
            except Exception as e:  # the reference implementation raises what numpy raises
                problem = f"cannot be computed from its constants ({type(e).__name__}: {e})"
        if problem is not None:
            if refuse:
                self.refuse(onnx_node, problem)
            return
        self.values.update({name: Value(const=r) for name, r in zip(onnx_node.output, results) if name})
        self.taken.add(id(onnx_node))

    # ----- the end -----
    def metadata(self, model):
        """``(classes, (mean, std) or None)`` from LayerLab's (and others') ``metadata_props``: ``class_names``,
        ``normalize_mean`` and ``normalize_std`` as JSON lists; a value that is not one is noted and ignored."""
        props = {p.key: p.value for p in model.metadata_props}
        names = self._json_list(props, "class_names", str)
        mean, std = self._json_list(props, "normalize_mean", float), self._json_list(props, "normalize_std", float)
        return tuple(names or ()), ((tuple(mean), tuple(std)) if mean and std else None)

    def _json_list(self, props, key, kind):
        text = props.get(key)
        if text is None:
            return None
        try:
            value = json.loads(text) if len(text) <= MAX_METADATA_CHARS else None
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, kind) or (kind is float and isinstance(v, int))
                                           for v in value):
            return value
        self.notes.append(f"metadata {key!r} is not a JSON list of {kind.__name__} values; ignored")
        return None

    def finish(self, title, description, classes):
        outputs = list(self.graph.output)
        if len(outputs) != 1:
            raise OnnxImportError(self.source, f"the graph has {len(outputs)} outputs; a LayerLab network has one")
        name = outputs[0].name
        value = self.values.get(name)
        if value is None or value.node is None:
            raise OnnxImportError(self.source, f"the output {name!r} is a constant, not computed from the input")
        shape = self.shapes.get(name)
        return self.doc.finish(title, description, value, classes,
                               tuple(shape[1:]) if shape else None, self._refusal(None))


def import_onnx_model(model, source):
    """``Imported`` from a checked ``ModelProto`` (as ``read_model`` gives) named ``source`` in messages."""
    state = GraphImport(model, source)
    state.run()
    classes, mean_std = state.metadata(model)
    title = model.graph.name or "Imported model"
    network, arrays = state.finish(title, model.doc_string, classes)
    used = normalization(network) if network.input_node().params["dataset"] != "Image folder" else None
    if mean_std is not None and (used is None or not np.allclose(mean_std, used, atol=1e-3)):
        state.notes.append(f"the model was trained on inputs normalised with mean {list(mean_std[0])} and std "
                           f"{list(mean_std[1])}; the document normalises as its dataset "
                           f"({network.input_node().params['dataset']}) does: check its settings")
    return Imported(network, arrays, classes, state.notes)


def import_onnx(path):
    """``Imported`` from the ONNX file ``path``; ``OnnxImportError`` naming the file (and node) otherwise."""
    return import_onnx_model(read_model(path), path)
