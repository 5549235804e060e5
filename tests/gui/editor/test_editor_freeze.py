"""Freezing layers in the editor: the inspector's checkbox and Edit ▸ Freeze / Thaw, one undo step each, the
node's face saying so, and only layers with a module offering it."""


def node_id(editor, name):
    return editor.document.node_by_name(name).id


def test_the_inspector_checkbox_freezes_with_undo(lenet):
    conv = node_id(lenet, "conv1")
    lenet.select_node(conv)
    box = lenet.inspector.frozen_box
    assert box is not None and not box.isChecked()
    box.setChecked(True)
    assert lenet.document.nodes[conv].frozen
    face = lenet.scene.node_items[conv].face
    assert face.params == "frozen" and "frozen" in face.tooltip
    assert "62,006</b> parameters (456 frozen)" in lenet.summary.totals.text()
    cells = [lenet.summary.table.item(row, 3).text() for row in range(lenet.summary.table.rowCount())]
    assert "456 frozen" in cells
    lenet.undo_action.trigger()
    assert not lenet.document.nodes[conv].frozen and not box.isChecked()
    assert not lenet.scene.node_items[conv].face.params.startswith("frozen")
    lenet.redo_action.trigger()
    assert box.isChecked()


def test_the_action_freezes_the_selection_then_thaws_it(lenet):
    names = ("conv1", "conv2", "fc1")
    for name in names:
        lenet.scene.node_items[node_id(lenet, name)].setSelected(True)
    lenet.freeze_action.trigger()
    assert all(lenet.document.node_by_name(n).frozen for n in names)
    assert lenet.undo_stack.undoText() == "Freeze 3 nodes"
    lenet.freeze_action.trigger()
    assert not any(lenet.document.node_by_name(n).frozen for n in names)


def test_layers_without_a_module_offer_no_checkbox(lenet):
    lenet.select_node(lenet.document.input_node().id)
    assert lenet.inspector.frozen_box is None
