"""Which layer types fit where a connection is being made: what the search offers when a dragged
connection is dropped on empty canvas or a node is inserted into a connection.

The shape test asks the document's own inference, on a scratch network of an Input shaped like the
source and one node of the candidate type, so the editor has no shape rules of its own.
"""

from dataclasses import dataclass

from engine.graph import Network, NetworkError, layer_types


@dataclass(frozen=True)
class Anchor:
    """Where a new node attaches: after a node's output ``out_port`` (``out``), into an input slot (``in``,
    port None for a free slot) or into an existing connection (``edge``)."""

    kind: str
    node_id: str | None = None
    port: int | None = None
    edge: object = None
    out_port: int = 0

    @classmethod
    def output_of(cls, node_id, out_port=0):
        return cls("out", node_id, out_port=out_port)

    @classmethod
    def input_of(cls, node_id, port=None):
        return cls("in", node_id, port)

    @classmethod
    def on_edge(cls, edge):
        return cls("edge", edge=edge)


def fits_shape(layer_type, shape):
    """Whether a node of ``layer_type`` with default parameters accepts an input of ``shape``."""
    if layer_type.min_inputs > 1 or layer_type.multi_output:  # merges join any shape; a Split's pieces are
        return True  # set once it is placed (its default cuts 2 channels)
    scratch = Network()
    try:
        source = scratch.add_node("Input", {"shape": shape, "dataset": "Image folder"})
    except NetworkError:  # a shape an Input node cannot have: no opinion
        return True
    node = scratch.add_node(layer_type.name)
    scratch.connect(source.id, node.id)
    return scratch.infer().nodes[node.id].error is None


def compatible_types(document, anchor):
    """Layer types, in catalogue order, that can be connected at ``anchor`` (all of them for None)."""
    types = layer_types()
    if anchor is None:
        return types
    if anchor.kind == "in":
        return [lt for lt in types if lt.has_output]
    takes_input = [lt for lt in types if lt.max_inputs != 0]
    if anchor.kind == "edge":
        takes_input = [lt for lt in takes_input if lt.has_output]
    source, output = (anchor.node_id, anchor.out_port) if anchor.kind == "out" else (anchor.edge.src,
                                                                                      anchor.edge.out_port)
    info = document.infer().nodes.get(source)
    if info is None or output >= len(info.outputs):
        return takes_input
    return [lt for lt in takes_input if fits_shape(lt, info.outputs[output])]
