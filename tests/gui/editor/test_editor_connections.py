"""Connecting on the canvas: refused connections say why (while dragging too) and change nothing; a
connection dropped on empty canvas opens a search of the layers that fit, and the choice is connected;
a connected input can be picked up and re-routed or dropped to remove it."""

import pytest
from PySide6.QtCore import QPointF, Qt

from engine.graph import Edge

# LeNet ids: n1 input, n2 conv1, n3 relu1, n4 pool1, ..., n8 flatten, n9 fc1, ..., n13 fc3, n14 output


@pytest.mark.parametrize(("src", "dst", "reason"), [
    ("n9", "n2", "cycle"),  # fc1 → conv1: fc1 depends on conv1
    ("n14", "n2", "no output"),  # from the Output node
    ("n2", "n1", "takes no inputs"),  # into the Input node
    ("n2", "n4", "single input"),  # a second input into pool1
    ("n3", "n3", "itself"),
])
def test_refused_connections_change_nothing(lenet, src, dst, reason):
    before = lenet.snapshot()
    refusal = lenet.controller.connect(src, dst)
    assert reason in refusal
    assert lenet.snapshot() == before
    assert lenet.undo_stack.count() == 0
    assert reason in lenet.statusBar().currentMessage()


def test_refusal_is_shown_while_dragging(lenet):
    scene = lenet.scene
    conv1, pool1 = scene.node_items["n2"], scene.node_items["n4"]
    start = conv1.output_port.scenePos()
    lenet.view.centerOn(QPointF(500, 40))
    lenet.mouse("press", start)
    lenet.mouse("move", pool1.input_ports[0].scenePos(), buttons=Qt.LeftButton)
    assert "single input" in scene._tip.text
    assert scene._pending_edge.state == "refused"
    lenet.mouse("move", scene.node_items["n3"].input_ports[0].scenePos() + QPointF(0, -150),  # empty canvas
                buttons=Qt.LeftButton)
    assert scene._tip.text == "" and scene._pending_edge.state == "none"
    lenet.mouse("release", pool1.input_ports[0].scenePos())
    assert lenet.document.predecessors("n4") == ["n3"]  # unchanged
    assert "single input" in lenet.statusBar().currentMessage()


def test_output_dropped_on_an_output_is_refused(lenet):
    relu1, conv2 = lenet.scene.node_items["n3"], lenet.scene.node_items["n5"]
    lenet.view.centerOn(QPointF(700, 40))
    before = lenet.snapshot()
    lenet.drag(relu1.output_port.scenePos(), conv2.output_port.scenePos())
    assert lenet.snapshot() == before
    assert "an output connects to an input" in lenet.statusBar().currentMessage()


def test_shape_mismatch_is_allowed_and_shown(lenet):
    lenet.controller.disconnect([Edge("n8", "n9", 0)])
    assert lenet.controller.connect("n4", "n9") is None  # pool1 (6×14×14) into fc1 (400 features)
    badge = lenet.scene.node_items["n9"].badge
    assert badge.isVisible() and "Linear expects 400 input features" in badge.toolTip()


def test_connection_dropped_on_empty_canvas_adds_a_fitting_layer(lenet):
    flatten = lenet.scene.node_items["n8"]
    lenet.view.centerOn(flatten)
    empty = flatten.output_port.scenePos() + QPointF(40, 160)
    lenet.drag(flatten.output_port.scenePos(), empty)
    popup = lenet.view.search
    assert popup.isVisible()
    offered = popup.shown_types()
    assert "Linear" in offered and "Dropout" in offered
    assert "Conv2d" not in offered and "MaxPool2d" not in offered  # a vector cannot be convolved
    assert "Input" not in offered
    popup.field.setText("drop")
    assert popup.shown_types()[0] == "Dropout"
    popup.accept_current()
    assert not popup.isVisible()
    (new,) = [n for n in lenet.document.nodes.values() if n.type == "Dropout"]
    assert lenet.document.predecessors(new.id) == ["n8"]
    assert lenet.selected_node_ids() == [new.id]
    assert lenet.undo_stack.count() == 1
    lenet.undo_action.trigger()
    assert lenet.document.nodes_of_type("Dropout") == []


def test_picking_up_a_connection_reroutes_or_removes_it(lenet):
    scene = lenet.scene
    relu4 = scene.node_items["n12"]
    lenet.view.centerOn(relu4)
    # drop the picked-up fc2 → relu4 connection on empty canvas: it is removed
    lenet.drag(relu4.input_ports[0].scenePos(), relu4.input_ports[0].scenePos() + QPointF(-60, 150))
    assert lenet.document.predecessors("n12") == []
    lenet.undo_action.trigger()
    assert lenet.document.predecessors("n12") == ["n11"]
    # re-route it into the Output instead (whose fc3 input is removed first)
    lenet.controller.disconnect([Edge("n13", "n14", 0)])
    output = scene.node_items["n14"]
    lenet.view.centerOn(QPointF(2900, 40))
    lenet.drag(scene.node_items["n12"].input_ports[0].scenePos(), output.input_ports[0].scenePos())
    assert lenet.document.predecessors("n14") == ["n11"]
    assert lenet.document.predecessors("n12") == []
    assert lenet.undo_stack.undoText() == "Re-route connection"


def test_merge_nodes_grow_an_input_slot_per_connection(editor):
    doc = editor.document
    a = editor.controller.add_node("Input", QPointF(0, 0))
    b = editor.controller.add_node("ReLU", QPointF(250, -100))
    c = editor.controller.add_node("Identity", QPointF(250, 100))
    add = editor.controller.add_node("Add", QPointF(500, 0))
    item = editor.scene.node_items[add]
    assert item.face.slots == (None,)
    for src in (b, c):
        editor.controller.connect(a, src)
        editor.controller.connect(src, add)
    assert item.face.slots == (0, 1, None)
    assert [p.port for p in item.input_ports] == [0, 1, None]
    assert doc.infer().nodes[add].shape == (3, 32, 32)
    editor.controller.disconnect([Edge(b, add, 0)])
    assert item.face.slots == (1, None)


def test_a_refused_drop_is_shown_in_a_bubble_at_the_port(lenet):
    scene = lenet.scene
    conv1, pool1 = scene.node_items["n2"], scene.node_items["n4"]
    lenet.view.centerOn(QPointF(500, 40))
    port = pool1.input_ports[0].scenePos()
    lenet.drag(conv1.output_port.scenePos(), port)
    bubble = scene.refusal_bubble
    assert bubble.scene() is scene and bubble.isVisible() and "single input" in bubble.text
    assert (bubble.scenePos() - port).manhattanLength() < 1
    assert "single input" in lenet.statusBar().currentMessage()  # the status bar keeps it too


def test_a_refused_edit_is_shown_beside_its_node_and_goes_away(lenet):
    scene = lenet.scene
    scene._refusal_timer.setInterval(50)
    refusal = lenet.controller.connect("n12", "n14")  # a second input into the Output
    bubble = scene.refusal_bubble
    assert bubble.isVisible() and bubble.text == refusal
    output = scene.node_items["n14"].sceneBoundingRect()
    assert output.left() <= bubble.scenePos().x() <= output.right()
    assert abs(bubble.scenePos().y() - output.bottom()) < 12
    assert "input" in refusal and refusal in lenet.statusBar().currentMessage()
    lenet.qtbot.waitUntil(lambda: bubble.scene() is None, timeout=2000)


def test_settings_refusals_stay_off_the_canvas(lenet):
    assert lenet.controller.set_settings({"batch_size": -1})
    assert lenet.scene.refusal_bubble.scene() is None
