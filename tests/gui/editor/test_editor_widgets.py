"""The inspector's widgets come from the catalogue's ParamSpecs and take the wheel only when focused; the
palette and the search find layers by fuzzy names; while a training run is live the editor refuses every edit."""

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QGraphicsItem
from wheel_support import turn_wheel

from engine.graph import get_layer_type, layer_types
from gui.editor.fuzzy import rank_layer_types
from gui.editor.param_widgets import IntEditor, PairEditor, editor_for


@pytest.mark.parametrize("layer_type", layer_types(), ids=lambda lt: lt.name)
def test_every_parameter_gets_a_widget_with_its_range(qtbot, layer_type):
    for spec in layer_type.params.values():
        editor = editor_for(spec)
        qtbot.addWidget(editor)
        editor.set_value(spec.default)
        assert editor.value() == spec.default, spec.name
        spins = [editor.spin] if hasattr(editor, "spin") else list(getattr(editor, "spins", ()))
        for spin in spins:
            if spec.maximum is not None:
                assert spin.maximum() == min(spec.maximum, 2**31 - 1)
            if spec.minimum is not None:
                assert spin.minimum() == spec.minimum - (1 if spec.optional else 0)


def test_optional_parameters_read_auto(qtbot):
    spec = get_layer_type("Conv2d").params["in_channels"]
    editor = IntEditor(spec)
    qtbot.addWidget(editor)
    editor.set_value(None)
    assert editor.spin.text() == "auto" and editor.value() is None
    with qtbot.waitSignal(editor.edited) as signal:
        editor.spin.setValue(3)
    assert signal.args == [3]
    stride = PairEditor(get_layer_type("MaxPool2d").params["stride"])
    qtbot.addWidget(stride)
    stride.set_value(None)
    assert [s.text() for s in stride.spins] == ["auto", "auto"]
    stride.set_value((1, 2))
    assert stride.value() == (1, 2)


def test_inspector_edits_choices_floats_bools_and_padding(lenet):
    lenet.set_param("n14", "loss", "NLLLoss")
    lenet.set_param("n14", "label_smoothing", 0.1)
    lenet.set_param("n2", "bias", False)
    lenet.set_param("n2", "padding", (2, 2))
    output, conv1 = lenet.document.node("n14"), lenet.document.node("n2")
    assert output.params["loss"] == "NLLLoss" and output.params["label_smoothing"] == 0.1
    assert conv1.params["bias"] is False and conv1.params["padding"] == (2, 2)
    padding = lenet.inspector.editors["padding"]
    padding.mode.setCurrentIndex(1)
    padding.mode.activated.emit(1)
    assert conv1.params["padding"] == "same"
    assert lenet.scene.node_items["n2"].face.shape == "6×32×32"
    assert lenet.inspector.editors["bias"].check.isChecked() is False
    lenet.undo_action.trigger()  # edits of one parameter in a row are one step
    assert conv1.params["padding"] == (0, 0) and lenet.inspector.editors["padding"].value() == (0, 0)
    lenet.undo_action.trigger()
    assert conv1.params["bias"] is True and lenet.inspector.editors["bias"].check.isChecked()


def test_inspector_controls_take_the_wheel_only_when_focused(lenet):
    """A wheel turned while scrolling the inspector goes to the inspector, not to the control under the cursor."""
    lenet.window.select_node("n2")  # conv1
    conv1 = lenet.document.node("n2")
    editors = lenet.inspector.editors
    controls = (editors["out_channels"].spin, editors["padding"].mode, *editors["padding"].spins)
    params = dict(conv1.params)
    for control in controls:
        assert control.focusPolicy() == Qt.FocusPolicy.StrongFocus
        assert not turn_wheel(control)
    assert conv1.params == params
    out_channels = editors["out_channels"].spin
    lenet.window.activateWindow()
    out_channels.setFocus()
    lenet.qtbot.waitUntil(out_channels.hasFocus)
    assert turn_wheel(out_channels)
    assert out_channels.value() == params["out_channels"] + 1


def test_fuzzy_search_ranks_layers():
    names = [lt.name for lt in rank_layer_types("bn", layer_types())]
    assert names[:2] == ["BatchNorm1d", "BatchNorm2d"]
    assert rank_layer_types("mxpl", layer_types())[0].name == "MaxPool2d"
    assert [lt.name for lt in rank_layer_types("fc", layer_types())] == ["Linear"]
    assert rank_layer_types("zzz", layer_types()) == []


def test_palette_filter_and_activation(editor):
    palette = editor.layer_palette
    palette.search.setText("pool")
    assert palette.visible_types() == ["MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "Mean",
                                       "Upsample", "PixelShuffle", "TokenPool"]  # the Pooling category matches too
    palette.search.setText("")
    assert len(palette.visible_types()) == len(layer_types())
    palette.search.setText("conv")
    palette.search.returnPressed.emit()
    (node,) = editor.document.nodes.values()
    assert node.type == "Conv2d" and editor.selected_node_ids() == [node.id]


def test_tab_opens_the_search_at_the_cursor(editor):
    editor.view.setFocus()
    editor.qtbot.keyClick(editor.view, Qt.Key_Tab)
    popup = editor.view.search
    assert popup.isVisible() and len(popup.shown_types()) == len(layer_types())
    editor.qtbot.keyClicks(popup.field, "rel")
    assert popup.shown_types()[:4] == ["ReLU", "ReLU6", "LeakyReLU", "PReLU"]
    editor.qtbot.keyClick(popup.field, Qt.Key_Down)
    assert popup.list.currentItem().data(Qt.UserRole) == "ReLU6"
    editor.qtbot.keyClick(popup.field, Qt.Key_Return)
    assert [n.type for n in editor.document.nodes.values()] == ["ReLU6"]


def test_double_click_on_empty_canvas_opens_the_search(editor):
    point = editor.view.mapToScene(editor.view.viewport().rect().center())
    editor.mouse("double", point)
    assert editor.view.search.isVisible()
    editor.view.search.hide()


def test_read_only_while_training(lenet):
    lenet.set_param("n2", "out_channels", 8)
    before = lenet.snapshot()
    lenet.set_editing_enabled(False)
    c = lenet.controller
    refusals = [c.add_node("ReLU", QPointF(0, 300)), c.connect("n4", "n9"), c.set_params("n2", {"groups": 2}),
                c.rename("n2", "first"), c.delete(["n3"]), c.layout(), c.duplicate(["n2"])]
    assert refusals[0] is None and all("training run" in r for r in refusals[1:])
    for action in (lenet.undo_action, lenet.redo_action, lenet.delete_action, lenet.paste_action,
                   lenet.layout_action, lenet.open_action, lenet.new_action):
        assert not action.isEnabled(), action.text()
        action.trigger()
    lenet.undo_stack.undo()  # QUndoView and shortcuts are off; the stack itself stays consistent
    lenet.undo_stack.redo()
    assert not lenet.layer_palette.isEnabled() and not lenet.inspector.form_host.isEnabled()
    assert not lenet.history.isEnabled()
    assert not lenet.scene.node_items["n2"].flags() & QGraphicsItem.ItemIsMovable
    assert lenet.drop_layer("Dropout", (0.0, 300.0)) is None
    assert not lenet.open_file("whatever.llnet")
    assert lenet.snapshot() == before
    lenet.set_editing_enabled(True)
    assert lenet.undo_action.isEnabled() and lenet.layer_palette.isEnabled()
    assert lenet.controller.rename("n2", "first") is None
