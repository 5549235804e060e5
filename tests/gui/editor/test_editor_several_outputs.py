"""Layers with several outputs on the canvas: a port per output, each connection drawn from its own port,
and every gesture (drag from a port, drag back onto one, drop on empty canvas, re-route, insert, undo)
keeping the output it started from."""

import pytest
from PySide6.QtCore import QPointF

from engine.graph import Edge
from gui.editor.compatibility import Anchor


@pytest.fixture
def chunked(editor):
    """Input (3×32×32) → Chunk (2 on the channels: 2×32×32 and 1×32×32), and a ReLU and a Conv2d beside it."""
    add = editor.controller.add_node
    ids = {"input": add("Input", QPointF(0, 0)), "chunk": add("Chunk", QPointF(260, 0)),
           "relu": add("ReLU", QPointF(560, -120)), "conv": add("Conv2d", QPointF(560, 120))}
    editor.controller.connect(ids["input"], ids["chunk"])
    editor.view.centerOn(QPointF(450, 40))
    editor.undo_stack.clear()
    return editor, ids


def test_a_port_per_output_with_its_shape(chunked):
    editor, ids = chunked
    item = editor.scene.node_items[ids["chunk"]]
    assert [p.port for p in item.output_ports] == [0, 1] and item.output_port is item.output_ports[0]
    assert [p.toolTip() for p in item.output_ports] == ["output 0: 2×32×32", "output 1: 1×32×32"]
    first, second = (p.scenePos() for p in item.output_ports)
    assert first.x() == second.x() and second.y() - first.y() > 15
    assert item.face.shape == "2×32×32, 1×32×32"
    table = editor.summary.table
    (row,) = [r for r in range(table.rowCount()) if table.item(r, 0).text() == "chunk1"]
    assert table.item(row, 2).text() == table.item(row, 2).toolTip() == "2×32×32, 1×32×32"
    editor.select_node(ids["chunk"])
    assert "outputs" in editor.inspector.info.text() and "2×32×32, 1×32×32" in editor.inspector.info.text()
    editor.set_param(ids["chunk"], "chunks", 3)
    assert [p.port for p in item.output_ports] == [0, 1, 2]
    assert [p.toolTip() for p in item.output_ports] == [f"output {k}: 1×32×32" for k in range(3)]
    relu = editor.scene.node_items[ids["relu"]]
    assert [p.toolTip() for p in relu.output_ports] == ["output"]  # no shape before it is connected


def test_dragging_from_the_second_output_connects_it_and_draws_from_there(chunked):
    editor, ids = chunked
    scene = editor.scene
    chunk, relu = scene.node_items[ids["chunk"]], scene.node_items[ids["relu"]]
    editor.drag(chunk.output_ports[1].scenePos(), relu.input_ports[0].scenePos())
    edge = Edge(ids["chunk"], ids["relu"], 0, 1)
    assert editor.document.input_edges(ids["relu"]) == [edge]
    assert editor.document.infer().nodes[ids["relu"]].shape == (1, 32, 32)
    path = scene.edge_items[edge].path()
    assert (path.pointAtPercent(0) - chunk.output_ports[1].scenePos()).manhattanLength() < 1
    editor.undo_action.trigger()
    assert editor.document.input_edges(ids["relu"]) == []
    editor.redo_action.trigger()
    assert editor.document.input_edges(ids["relu"]) == [edge]


def test_dragging_back_from_an_input_onto_an_output_takes_that_output(chunked):
    editor, ids = chunked
    chunk, conv = editor.scene.node_items[ids["chunk"]], editor.scene.node_items[ids["conv"]]
    editor.drag(conv.input_ports[0].scenePos(), chunk.output_ports[1].scenePos())
    assert editor.document.input_edges(ids["conv"]) == [Edge(ids["chunk"], ids["conv"], 0, 1)]


def test_a_drop_between_two_outputs_takes_the_nearer_one(chunked):
    editor, ids = chunked
    chunk, conv = editor.scene.node_items[ids["chunk"]], editor.scene.node_items[ids["conv"]]
    editor.drag(conv.input_ports[0].scenePos(), chunk.output_ports[0].scenePos() + QPointF(0, 9))
    assert editor.document.input_edges(ids["conv"]) == [Edge(ids["chunk"], ids["conv"], 0, 0)]


def test_a_drop_on_the_body_of_a_node_with_several_outputs_asks_for_one(chunked):
    editor, ids = chunked
    chunk, conv = editor.scene.node_items[ids["chunk"]], editor.scene.node_items[ids["conv"]]
    before = editor.snapshot()
    editor.drag(conv.input_ports[0].scenePos(), chunk.sceneBoundingRect().center())
    assert editor.snapshot() == before
    assert "chunk1 has several outputs: drop on the one to connect" in editor.statusBar().currentMessage()


def test_split_and_chunk_are_offered_after_any_output(chunked):
    editor, ids = chunked
    relu = editor.scene.node_items[ids["relu"]]
    editor.controller.connect(ids["input"], ids["relu"])
    start = relu.output_port.scenePos()
    editor.drag(start, start + QPointF(60, 200))
    offered = editor.view.search.shown_types()
    assert "Split" in offered and "Chunk" in offered
    editor.view.search.hide()


def test_an_output_dropped_on_empty_canvas_offers_what_fits_that_output(chunked):
    editor, ids = chunked
    editor.set_param(ids["chunk"], "dim", 1)  # 3×16×32 twice
    editor.set_param(ids["chunk"], "chunks", 2)
    chunk = editor.scene.node_items[ids["chunk"]]
    start = chunk.output_ports[1].scenePos()
    editor.drag(start, start + QPointF(60, 200))
    popup = editor.view.search
    assert popup.isVisible() and "BatchNorm2d" in popup.shown_types()
    popup.field.setText("BatchNorm2d")
    popup.accept_current()
    (norm,) = editor.document.nodes_of_type("BatchNorm2d")
    assert editor.document.input_edges(norm.id) == [Edge(ids["chunk"], norm.id, 0, 1)]
    assert editor.document.infer().nodes[norm.id].shape == (3, 16, 32)


def test_a_picked_up_connection_keeps_its_output_when_re_routed(chunked):
    editor, ids = chunked
    editor.controller.connect(ids["chunk"], ids["relu"], out_port=1)
    relu, conv = editor.scene.node_items[ids["relu"]], editor.scene.node_items[ids["conv"]]
    editor.drag(relu.input_ports[0].scenePos(), conv.input_ports[0].scenePos())
    assert editor.document.input_edges(ids["relu"]) == []
    assert editor.document.input_edges(ids["conv"]) == [Edge(ids["chunk"], ids["conv"], 0, 1)]
    assert editor.undo_stack.undoText() == "Re-route connection"


def test_a_layer_inserted_into_a_connection_takes_the_same_output(chunked):
    editor, ids = chunked
    editor.controller.connect(ids["chunk"], ids["relu"], out_port=1)
    edge = Edge(ids["chunk"], ids["relu"], 0, 1)
    new = editor.controller.add_node("Identity", QPointF(420, -60), Anchor.on_edge(edge))
    assert editor.document.input_edges(new) == [Edge(ids["chunk"], new, 0, 1)]
    assert editor.document.input_edges(ids["relu"]) == [Edge(new, ids["relu"], 0, 0)]


def test_fewer_outputs_than_the_connections_use_is_refused_and_said(chunked):
    editor, ids = chunked
    editor.controller.connect(ids["chunk"], ids["relu"], out_port=1)
    before = editor.snapshot()
    assert editor.undo_stack.undoText() == "Connect chunk1:1 → relu1"
    refusal = editor.controller.set_params(ids["chunk"], {"chunks": 1})
    assert "give it 1 output, but chunk1:1 → relu1 uses output 1; disconnect it first" in refusal
    assert editor.snapshot() == before
    assert len(editor.scene.node_items[ids["chunk"]].output_ports) == 2
    editor.set_param(ids["chunk"], "chunks", 1)  # in the inspector: the field goes back to what the node has
    assert editor.snapshot() == before
    assert editor.inspector.editors["chunks"].spin.value() == 2
