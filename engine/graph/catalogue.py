"""The layer catalogue: every layer type a network document may hold, described once.

A ``LayerType`` gives its parameters (``ParamSpec``), how many inputs it takes, how it infers its output
shape, parameter count and multiply-accumulate count from its input shapes, and how it becomes engine
code: either an ``engine.nn`` module (``module``: class name and constructor arguments, which also serve
the PyTorch and engine code exporters; ``apply`` when the node calls it other than as ``module(x)``) or a
function of its inputs (``combine``, for merges and reshapes). A layer type with several outputs (Split,
Chunk) says how many its parameters give (``outputs``); its ``infer`` returns one shape per output, its
``combine`` a tuple of tensors and its ``code`` an expression that gives that tuple, and connections name
the output they take (``Edge.out_port``). The GUI builds its palette and inspector
from this catalogue, so a layer type added here appears there.

Shapes never include the batch dimension.
"""

from dataclasses import dataclass, field

MAX_OUTPUTS = 16  # the most outputs a layer may have (ports on one node)

CATEGORIES = ("Input/Output", "Convolution", "Pooling", "Linear", "Attention", "Normalisation", "Activation",
              "Regularisation", "Merge", "Reshape")


class ShapeError(ValueError):
    """A node cannot take the shapes it receives; the message is shown on that node."""


@dataclass(frozen=True)
class ModuleCall:
    """``engine.nn.<cls>(*args, **kwargs)``: how a node becomes a module (and a line of exported code)."""

    cls: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def _no_params(params, in_shapes, out_shape):
    return 0


@dataclass(frozen=True)
class LayerType:
    name: str
    category: str
    description: str
    params: dict  # name -> ParamSpec, in display order
    infer: object  # (params, in_shapes, context) -> out_shape (one per output with ``outputs``); raises ShapeError
    inputs: tuple = (1, 1)  # (min, max); max None means any number
    prefix: str = ""  # default node name prefix: conv -> conv1, conv2...
    module: object = None  # (params, in_shapes) -> ModuleCall, or None for nodes without a module
    apply: object = None  # module nodes not called as module(x): (module, x) -> tensor
    apply_code: object = None  # the same as source: (module expression, input name) -> Python expression
    combine: object = None  # merges and reshapes: (xs, params) -> engine tensor
    code: object = None  # merges and reshapes: (input variable names, params) -> Python expression using ``torch``
    outputs: object = None  # several outputs: (params) -> how many (at most MAX_OUTPUTS); None: one
    count_params: object = _no_params  # (params, in_shapes, out_shape) -> int
    count_macs: object = _no_params  # (params, in_shapes, out_shape) -> int
    summary: object = None  # (params) -> short text for the node face
    auto_params: dict = field(default_factory=dict)  # "auto" parameter -> its value from the input shapes

    @property
    def min_inputs(self):
        return self.inputs[0]

    @property
    def max_inputs(self):
        return self.inputs[1]

    @property
    def has_output(self):
        return self.name != "Output"

    @property
    def multi_output(self):
        return self.outputs is not None

    def output_count(self, params):
        """How many outputs a node of this type with ``params`` has (0 for the Output)."""
        if not self.has_output:
            return 0
        return self.outputs(params) if self.multi_output else 1

    def accepts_more_inputs(self, current):
        return self.max_inputs is None or current < self.max_inputs

    def default_params(self):
        return {name: spec.default for name, spec in self.params.items()}

    def describe(self, params, in_shapes=()):
        """Key parameters as short text (``3→6, k5``); "auto" parameters show the value they take from
        ``in_shapes`` when those are known."""
        if in_shapes:
            params = {**params, **{name: take(in_shapes) for name, take in self.auto_params.items()
                                   if params.get(name) is None}}
        if self.summary is not None:
            return self.summary(params)
        parts = [f"{name}={spec.format(params[name])}" for name, spec in self.params.items() if spec.key]
        return ", ".join(parts)


_REGISTRY = {}


def register(layer_type):
    if layer_type.category not in CATEGORIES:
        raise ValueError(f"{layer_type.name}: unknown category {layer_type.category!r}")
    if layer_type.name in _REGISTRY:
        raise ValueError(f"layer type {layer_type.name!r} is registered twice")
    _REGISTRY[layer_type.name] = layer_type
    return layer_type


def layer_types():
    """All layer types, in catalogue order."""
    return list(_REGISTRY.values())


def get_layer_type(name):
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown layer type {name!r}") from None


def has_layer_type(name):
    return name in _REGISTRY


def by_category():
    """``{category: [LayerType, ...]}`` in the palette's order."""
    groups = {c: [] for c in CATEGORIES}
    for lt in _REGISTRY.values():
        groups[lt.category].append(lt)
    return {c: lts for c, lts in groups.items() if lts}
