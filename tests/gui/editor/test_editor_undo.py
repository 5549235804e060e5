"""Every kind of edit is one undo step: undo gives back the document as it was, redo the edited one, and
the canvas follows both ways. Edits are made through the editor's gestures and actions on LeNet."""

import pytest
from PySide6.QtCore import QPointF

from engine.graph import Edge
from engine.graph.templates import load_template
from gui.editor.compatibility import Anchor

# LeNet template ids: n1 input, n2 conv1, n3 relu1, n4 pool1, n5 conv2, n6 relu2, n7 pool2, n8 flatten,
# n9 fc1, n10 relu3, n11 fc2, n12 relu4, n13 fc3, n14 output


def _select_and(editor, action, ids=(), edges=()):
    editor.scene.select_nodes(ids)
    for edge in edges:
        editor.scene.edge_items[edge].setSelected(True)
    editor.view.setFocus()
    action.trigger()


def add_from_palette(ed):
    ed.drop_layer("Dropout", (600.0, 300.0))


def add_after_node(ed):
    ed.controller.add_node("Dropout", QPointF(2200, 200), Anchor.output_of("n10"))


def insert_on_edge(ed):  # a palette drop onto the connection relu3 → fc2
    item = ed.scene.edge_items[Edge("n10", "n11", 0)]
    point = item.path().pointAtPercent(0.5)
    ed.drop_layer("Dropout", (point.x(), point.y()))


def delete_nodes(ed):
    _select_and(ed, ed.delete_action, ["n5", "n6"])


def delete_connection(ed):
    _select_and(ed, ed.delete_action, edges=[Edge("n8", "n9", 0)])


def move(ed):
    ed.controller.move_nodes({"n3": (480.0, 0.0), "n4": (720.0, 0.0)}, {"n3": (500.0, 90.0), "n4": (760.0, 90.0)})


def connect(ed):
    ed.controller.connect("n7", "n12")  # pool2 into the single-input relu4 after removing its input


def disconnect(ed):
    ed.controller.disconnect([Edge("n2", "n3", 0)])


def reroute(ed):  # pick up the connection into relu4 and drop it on the free relu...
    ed.controller.connect("n7", "n12", None, replacing=Edge("n11", "n12", 0))


def edit_param(ed):
    ed.set_param("n2", "out_channels", 8)


def edit_pair_param(ed):  # height then width: consecutive edits of one parameter merge into one step
    ed.set_param("n4", "kernel_size", (3, 3))


def rename(ed):
    ed.rename("n9", "hidden")


def paste(ed):
    _select_and(ed, ed.copy_action, ["n2", "n3", "n4"])
    ed.controller.paste(QPointF(300, 400))


def cut(ed):
    _select_and(ed, ed.cut_action, ["n10", "n11"])


def duplicate(ed):
    _select_and(ed, ed.duplicate_action, ["n2", "n3"])


def layout(ed):
    ed.layout_action.trigger()


def _untidy(ed):
    ed.document.move("n5", (900.0, 500.0))
    ed.undo_stack.clear()


def _unplug_relu4(ed):
    ed.document.disconnect(Edge("n11", "n12", 0))
    ed.undo_stack.clear()


EDITS = {
    "add": (add_from_palette, None), "add after node": (add_after_node, None), "insert": (insert_on_edge, None),
    "delete": (delete_nodes, None), "delete connection": (delete_connection, None), "move": (move, None),
    "connect": (connect, _unplug_relu4), "disconnect": (disconnect, None), "re-route": (reroute, None),
    "parameter": (edit_param, None), "pair parameter": (edit_pair_param, None), "rename": (rename, None),
    "paste": (paste, None), "cut": (cut, None), "duplicate": (duplicate, None), "layout": (layout, _untidy),
}


def _canvas(ed):
    """What the canvas shows: node names and positions, connections, and the faces' shapes."""
    items = ed.scene.node_items
    return ({i: (item.face.name, item.face.shape, round(item.pos().x()), round(item.pos().y()))
             for i, item in items.items()}, sorted((e.src, e.dst, e.port) for e in ed.scene.edge_items))


@pytest.mark.parametrize("kind", list(EDITS))
def test_undo_redo(lenet, kind):
    edit, setup = EDITS[kind]
    if setup:
        setup(lenet)
    before, canvas_before = lenet.snapshot(), _canvas(lenet)
    edit(lenet)
    after, canvas_after = lenet.snapshot(), _canvas(lenet)
    assert after != before, f"{kind}: the edit changed nothing"
    assert lenet.undo_stack.count() == 1, f"{kind}: expected one undo step"
    assert lenet.window.isWindowModified()
    for _ in range(2):
        lenet.undo_action.trigger()
        assert lenet.snapshot() == before
        assert _canvas(lenet) == canvas_before
        assert not lenet.window.isWindowModified()
        lenet.redo_action.trigger()
        assert lenet.snapshot() == after
        assert _canvas(lenet) == canvas_after


def test_history_view_lists_the_steps(lenet):
    edit_param(lenet)
    rename(lenet)
    model = lenet.history.model()
    texts = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert texts == ["<opened>", "Set conv1.out_channels", "Rename fc1 to hidden"]
    lenet.history.setCurrentIndex(model.index(0, 0))  # clicking the first row undoes both
    assert lenet.document.node("n2").params["out_channels"] == 6
    assert lenet.document.node("n9").name == "fc1"


def test_replacing_the_network_keeps_the_edits_before_it_undoable(lenet):
    """A run's network put in the editor (one step) over a group and a deletion: undo goes back through all
    three, and redo forward again, the document as it was at each step."""
    lenet.scene.select_nodes(["n5", "n6"])
    assert lenet.controller.group_selection("block") is None
    grouped = lenet.snapshot()
    _select_and(lenet, lenet.delete_action, ["n5"])  # a member of the group
    deleted = lenet.snapshot()
    other = load_template("lenet_cifar10")
    other.set_settings({"lr": 0.5})
    assert lenet.controller.replace_network(other, "Open the network of run x") is None
    replaced = lenet.snapshot()
    assert lenet.document.settings["lr"] == 0.5 and lenet.document.groups == {}
    assert lenet.undo_stack.undoText() == "Open the network of run x"
    for state in (deleted, grouped):
        lenet.undo_action.trigger()
        assert lenet.snapshot() == state
    lenet.undo_action.trigger()
    assert lenet.document.groups == {}
    for state in (grouped, deleted, replaced):
        lenet.redo_action.trigger()
        assert lenet.snapshot() == state
