"""What every importer shares: layers added one by one with their shapes inferred as they come (so a rule can
ask the shape of what it reads), readable unique names, and the finished document checked before it is
returned: an Output with a loss that fits, the dataset the input's shape and classes say, shapes inferred,
the output shape the source declares, and weights that fit the built module. The finished document opens as
the source's structure: the layers of each top-level module of the source (``layer1`` of a ResNet) form a
collapsed group, and those before the first and after the last form ``stem`` and ``head``."""

import itertools
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from ..creation import from_numpy
from .catalogue import ShapeError, get_layer_type
from .datasets import DATASETS
from .document import Edge, Network, NetworkError, Node, name_problem
from .export.errors import ExportError
from .export.weights import checked_arrays
from .inference import output_shapes
from .params import validate_params

_NO_DATASET = {"dataset": None, "num_classes": None}  # while importing, the dataset is not chosen yet
MIN_GROUP_LAYERS = 2  # a module of one layer stays a layer
MAX_GROUP_LAYERS = 40  # a module of more is split into groups by its own modules (MobileNetV2's features.1, ...)


@dataclass
class Imported:
    """An imported model: the document, its weights (``state_dict`` names -> arrays), the class names the source
    gave (empty when none) and notes on what the import changed or could not carry."""

    network: Network
    arrays: OrderedDict
    classes: tuple
    notes: list


def weighted_module(network, arrays):
    """The module of ``network`` holding ``arrays`` (``state_dict`` names -> arrays), in evaluation mode."""
    module = network.build()
    module.load_state_dict({key: from_numpy(array) for key, array in arrays.items()})
    return module.eval()


def relative_difference(got, want):
    """The largest difference of two outputs over the largest of ``want`` (at least 1); inf for other shapes."""
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got - want).max()) / max(1.0, float(np.abs(want).max()))


@dataclass(frozen=True)
class Output:
    """An output of a document node being built: the node's id and which of its outputs."""

    node: str
    out_port: int = 0


class DocumentBuilder:
    """Nodes, edges and weights of a document being imported. ``refuse(message)`` callbacks raise the
    importer's own error naming what in its source is to blame."""

    def __init__(self):
        self.nodes, self.edges, self.arrays = [], [], OrderedDict()
        self.shapes = {}  # node id -> its output shapes, as the catalogue infers them
        self.scopes = {}  # node id -> the module path of the source computing it (None: the model's own code)
        self.used_names = set()

    def shape(self, value):
        """The shape (without the batch) of a built node's output ``value`` (anything with ``node`` and
        ``out_port``)."""
        return self.shapes[value.node][value.out_port]

    def layer(self, type_name, params, inputs, refuse, weights=None, outputs=1, names=(), scope=None):
        """Add a ``type_name`` node fed by ``inputs`` (``Output``-like values), with ``weights`` ({key: array})
        as ``<name>.<key>``; its name is the first free, valid one of ``names``, else the layer's prefix and a
        number; ``scope``: the path of the module of the source it comes from (``("layer1", "0")``), which groups
        it. A
        value fed twice (x + x) passes through an Identity first, since a document connects an output to a node
        once. Returns its ``Output`` (a list of them for several outputs)."""
        inputs = self._distinct(inputs, refuse, scope)
        name = self._name(type_name, names)
        node_id = f"n{len(self.nodes) + 1}"
        layer_type = get_layer_type(type_name)
        try:
            params = validate_params(layer_type.params, dict(params))
            in_shapes = tuple(self.shape(v) for v in inputs)
            self.shapes[node_id] = (output_shapes(layer_type, params, in_shapes, _NO_DATASET) if inputs else
                                    (tuple(params["shape"]),))
        except (ShapeError, ValueError) as e:
            refuse(f"as a {type_name} layer: {e}")
        self.nodes.append(Node(node_id, type_name, name, params))
        self.scopes[node_id] = scope
        for port, value in enumerate(inputs):
            self.edges.append(Edge(value.node, node_id, port, value.out_port))
        for key, array in (weights or {}).items():
            dtype = np.int64 if key == "num_batches_tracked" else np.float32
            self.arrays[f"{name}.{key}"] = np.array(array, dtype=dtype, order="C")
        return Output(node_id) if outputs == 1 else [Output(node_id, k) for k in range(outputs)]

    def _distinct(self, inputs, refuse, scope):
        seen, distinct = set(), []
        for value in inputs:
            if (value.node, value.out_port) in seen:
                value = self.layer("Identity", {}, [value], refuse, scope=scope)
            seen.add((value.node, value.out_port))
            distinct.append(value)
        return distinct

    def _name(self, type_name, names):
        name = next((c for c in names if c and not name_problem(c) and c not in self.used_names), None)
        if name is None:
            prefix = get_layer_type(type_name).prefix or "layer"
            k = 1
            while f"{prefix}{k}" in self.used_names:
                k += 1
            name = f"{prefix}{k}"
        self.used_names.add(name)
        return name

    def finish(self, title, description, output, classes, declared, refuse):
        """The checked document and weights, with an Output fed by ``output``; ``declared``: the output shape
        per sample the source states (None when it states none)."""
        sample = self.shape(output)
        last_type = next(n.type for n in self.nodes if n.id == output.node)
        loss = ("NLLLoss" if last_type == "LogSoftmax" else "CrossEntropyLoss") if len(sample) == 1 else "MSELoss"
        self.layer("Output", {"loss": loss}, [output], refuse, names=("output",))
        self.nodes[0].params["dataset"] = _dataset(self.shapes[self.nodes[0].id][0], classes, sample)
        network = Network(title=title, description=description)
        try:
            network.add_many(self.nodes, self.edges)
        except NetworkError as e:
            refuse(f"the imported layers do not make a network: {e}")
        layers = [n.id for n in self.nodes if n.type not in ("Input", "Output")]
        for name, members in scope_groups(layers, self.scopes):  # before inferring, which a group's edit redoes
            network.add_group(members, name=_group_name(network, name))
        inference = network.infer()
        if not inference.ok:
            problem = inference.errors[0]
            where = f"{network.node(problem.node_id).label()}: " if problem.node_id else ""
            refuse(f"the imported network does not infer ({where}{problem.message}); this is a gap in the importer, "
                   "please report it with the file")
        if declared is not None and None not in declared and tuple(declared) != sample:
            refuse(f"the imported network gives {sample} per sample but the source declares {tuple(declared)}; "
                   "refusing a network that computes something else")
        network.layout()
        try:
            arrays = checked_arrays(network, self.arrays)
        except ExportError as e:
            refuse(f"the imported weights do not fit: {e}")
        return network, arrays


def scope_groups(layers, scopes):
    """``[(name, member ids)]`` for ``layers`` (node ids in the order they were added) and their ``scopes``
    (module paths, None for the model's own code): each run of at least ``MIN_GROUP_LAYERS`` layers of one
    top-level module, named after it (split by its own modules when it has more than ``MAX_GROUP_LAYERS``), and
    ``stem`` and ``head`` for the layers before the first and after the last such run when they are as many;
    no groups when one would hold every layer."""
    runs = [(top, list(ids)) for top, ids in itertools.groupby(layers, key=lambda i: (scopes.get(i) or (None,))[0])]
    kept = [k for k, (top, ids) in enumerate(runs) if top is not None and len(ids) >= MIN_GROUP_LAYERS]
    if not kept:
        return []
    groups = [part for k in kept for part in _split(*runs[k], scopes)]
    if len(groups) == 1 and len(groups[0][1]) == len(layers):
        return []
    before = [i for _, ids in runs[:kept[0]] for i in ids]
    after = [i for _, ids in runs[kept[-1] + 1:] for i in ids]
    if len(before) >= MIN_GROUP_LAYERS:
        groups.insert(0, ("stem", before))
    if len(after) >= MIN_GROUP_LAYERS:
        groups.append(("head", after))
    return groups


def _split(name, ids, scopes):
    """A large module's run as groups of the modules inside it, at the first depth where they differ
    (``features`` as ``features_0``, ``features_1``...; ``encoder.layers`` as ``encoder_layer_0``...), each
    split again while still large, the layers of none left ungrouped; a smaller run, or one that does not
    divide, as one group."""
    if len(ids) <= MAX_GROUP_LAYERS:
        return [(name, ids)]
    depth = max(len(scopes[i]) for i in ids)
    for d in range(1, depth):
        keys = [scopes[i][d] if len(scopes[i]) > d else None for i in ids]
        if len(set(keys) - {None}) > 1:
            parts = [(key, [i for i, _ in run]) for key, run in itertools.groupby(zip(ids, keys), key=lambda p: p[1])]
            kept = [(key if key.startswith(name) else f"{name}_{key}", members) for key, members in parts
                    if key is not None and len(members) >= MIN_GROUP_LAYERS]
            if 2 * sum(len(members) for _, members in kept) < len(ids):  # one-layer modules: no better as groups
                return [(name, ids)]
            return [group for sub_name, members in kept for group in _split(sub_name, members, scopes)]
    return [(name, ids)]


def _group_name(network, wanted):
    """``wanted`` when it is a valid name no node or group has, else one made from it (``stem_group``,
    ``group_0`` for a module named ``0``), else ``group<k>``."""
    for name in (wanted, f"{wanted}_group", f"group_{wanted}"):
        if network.check_name(name) is None:
            return name
    return network.unique_name("group")


def _dataset(shape, classes, sample):
    """The dataset whose images have ``shape`` and which has as many classes as the outputs, the one whose class
    names are ``classes`` first (MNIST and Fashion-MNIST share a shape); else an image folder, which takes any
    shape."""
    fits = [key for key, info in DATASETS.items() if info.shape == shape and sample == (len(info.classes),)]
    named = [key for key in fits if [c.lower() for c in DATASETS[key].classes] == [c.lower() for c in classes]]
    return (named or fits or ["Image folder"])[0]
