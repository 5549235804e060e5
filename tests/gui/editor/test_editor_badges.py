"""Error and warning badges follow shape inference after every edit (and its undo), the faces show
shapes and parameter counts, and the summary, status bar and inspector agree."""

from PySide6.QtCore import QPointF, Qt

from engine.graph import Edge


def test_badge_appears_and_disappears_with_edits(lenet):
    fc1 = lenet.scene.node_items["n9"]
    assert not fc1.badge.isVisible()
    assert (fc1.face.shape, fc1.face.params) == ("120", "48.1k params")
    lenet.set_param("n5", "out_channels", 20)  # conv2 now gives 20×5×5 = 500 features to fc1 (expects 400)
    assert fc1.badge.isVisible() and fc1.badge.severity == "error"
    assert "Linear expects 400 input features but receives 500" in fc1.badge.toolTip()
    assert fc1.face.shape == ""
    downstream = lenet.scene.node_items["n11"]
    assert downstream.face.blocked and not downstream.badge.isVisible()  # blocked, not an error of its own
    assert "1 error" in lenet.problems_label.text()
    problems = [lenet.summary.problems.item(k).text() for k in range(lenet.summary.problems.count())]
    assert any("fc1" in p and "500" in p for p in problems)
    lenet.set_param("n9", "in_features", None)  # auto: fc1 takes what it gets
    assert not fc1.badge.isVisible()
    assert fc1.face.params == "60.1k params"
    assert lenet.problems_label.text() == "✓ no problems"
    lenet.undo_action.trigger()
    assert fc1.badge.isVisible()
    lenet.undo_action.trigger()
    assert not fc1.badge.isVisible() and fc1.face.shape == "120"


def test_missing_input_and_unused_layer(lenet):
    lenet.controller.disconnect([Edge("n4", "n5", 0)])
    conv2 = lenet.scene.node_items["n5"]
    assert conv2.badge.severity == "error" and "needs an input" in conv2.badge.toolTip()
    pool1 = lenet.scene.node_items["n4"]  # now leads nowhere: a warning
    assert pool1.badge.severity == "warning" and "does not lead to the Output" in pool1.badge.toolTip()
    lenet.undo_action.trigger()
    assert not conv2.badge.isVisible() and not pool1.badge.isVisible()


def test_clicking_a_problem_selects_its_node(lenet):
    lenet.set_param("n5", "out_channels", 20)
    problems = lenet.summary.problems
    (row,) = [k for k in range(problems.count()) if "fc1" in problems.item(k).text()]
    problems.itemClicked.emit(problems.item(row))
    assert lenet.selected_node_ids() == ["n9"]
    assert lenet.inspector.node_id == "n9"
    assert "Linear expects 400" in lenet.inspector.info.text()


def test_summary_rows_select_nodes(lenet):
    table = lenet.summary.table
    assert [table.item(r, 0).text() for r in range(3)] == ["input", "conv1", "relu1"]
    assert table.item(1, 2).text() == "6×28×28" and table.item(1, 3).text() == "456"
    table.itemClicked.emit(table.item(4, 1))
    assert lenet.selected_node_ids() == ["n5"]


def test_refused_parameter_is_reported_and_not_applied(lenet):
    lenet.select_node("n1")
    shape = lenet.inspector.editors["shape"]
    shape.field.setText("3×0×32")
    shape.field.editingFinished.emit()
    assert "'shape' must be between 1 and 4096" in lenet.inspector.message.text()
    assert lenet.document.node("n1").params["shape"] == (3, 32, 32)
    assert shape.field.text() == "3×32×32"
    shape.field.setText("3×a×32")
    shape.field.editingFinished.emit()
    assert "whole numbers" in lenet.inspector.message.text()
    lenet.rename("n2", "conv2")
    assert lenet.document.node("n2").name == "conv1"
    assert "already used" in lenet.statusBar().currentMessage()
    assert lenet.undo_stack.count() == 0


def test_every_node_face_follows_an_upstream_edit(lenet):
    lenet.set_param("n1", "shape", (3, 64, 64))  # the Input no longer matches CIFAR-10: an error there
    assert lenet.scene.node_items["n1"].badge.isVisible()
    lenet.set_param("n1", "dataset", "Image folder")  # any size: everything downstream re-inferred
    faces = {i: item.face for i, item in lenet.scene.node_items.items()}
    assert faces["n2"].shape == "6×60×60"
    assert faces["n9"].shape == "" and "Linear expects 400" in faces["n9"].error


def test_double_click_on_a_title_renames(lenet):
    item = lenet.scene.node_items["n3"]
    lenet.view.centerOn(item)
    title = item.mapToScene(QPointF(40, 12))
    lenet.mouse("press", title)
    lenet.mouse("release", title)
    lenet.mouse("double", title)
    field = lenet.view.rename_field
    assert field is not None and field.text() == "relu1"
    field.setText("act1")
    lenet.qtbot.keyClick(field, Qt.Key_Return)
    assert lenet.document.node("n3").name == "act1"
    assert item.face.name == "act1"
