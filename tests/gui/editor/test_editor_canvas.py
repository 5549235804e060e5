"""The canvas gestures: zoom under the cursor, panning, fit, moving and selecting nodes with the mouse,
and dropping a node onto a connection. A few mouse simulations, kept to what is robust offscreen."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from engine.graph import Edge
from gui.editor.node_item import READABLE_ZOOM


def _wheel(view, pos, steps):
    event = QWheelEvent(QPointF(pos), QPointF(view.viewport().mapToGlobal(pos)), QPoint(), QPoint(0, 120 * steps),
                        Qt.NoButton, Qt.NoModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zooms_under_the_cursor(lenet):
    view = lenet.view
    view.zoom_by(1.0 / view.zoom())
    pos = QPoint(200, 150)
    under = view.mapToScene(pos)
    _wheel(view, pos, 2)
    assert view.zoom() > 1.3
    assert (view.mapToScene(pos) - under).manhattanLength() < 2.0
    for _ in range(30):
        _wheel(view, pos, -3)
    assert abs(view.zoom() - 0.08) < 1e-6  # clamped


def _fit_with_f(editor):
    view = editor.view
    view.zoom_by(3.0)
    view.centerOn(QPointF(-5000, -5000))
    view.setFocus()
    editor.qtbot.keyClick(view, Qt.Key_F)
    return view.mapToScene(view.viewport().rect()).boundingRect()


def test_fit_shows_every_node_of_a_network_that_fits_readably(lenet):
    lenet.controller.delete([f"n{k}" for k in range(4, 15)])
    assert lenet.view.zoom() >= READABLE_ZOOM
    assert _fit_with_f(lenet).contains(lenet.scene.nodes_rect())


def test_fit_shows_a_long_network_from_its_start_at_a_readable_zoom(lenet):
    visible = _fit_with_f(lenet)
    assert abs(lenet.view.zoom() - READABLE_ZOOM) < 1e-9
    nodes = lenet.scene.nodes_rect()
    assert visible.width() < nodes.width()  # the rest is scrolled to
    assert visible.left() < nodes.left() < visible.left() + 100
    assert visible.contains(lenet.scene.node_items["n1"].sceneBoundingRect())


def test_shift_wheel_scrolls_sideways(lenet):
    view = lenet.view
    zoom, before = view.zoom(), view.view_centre()
    event = QWheelEvent(QPointF(200, 150), QPointF(view.viewport().mapToGlobal(QPoint(200, 150))), QPoint(),
                        QPoint(0, -120), Qt.NoButton, Qt.ShiftModifier, Qt.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)
    moved = view.view_centre() - before
    assert view.zoom() == zoom and abs(moved.x() - 120 / zoom) < 2 and abs(moved.y()) < 1e-6


def test_middle_button_and_space_drag_pan(lenet):
    view = lenet.view
    centre = view.viewport().rect().center()
    before = view.mapToScene(centre)
    lenet.drag(QPointF(400, 300), QPointF(300, 250), button=Qt.MiddleButton, in_view=True)
    panned = view.mapToScene(centre) - before
    assert abs(panned.x() - 100 / view.zoom()) < 2 and abs(panned.y() - 50 / view.zoom()) < 2
    view.setFocus()
    lenet.qtbot.keyPress(view, Qt.Key_Space)
    before = view.mapToScene(centre)
    lenet.drag(QPointF(300, 300), QPointF(340, 300), in_view=True)
    lenet.qtbot.keyRelease(view, Qt.Key_Space)
    assert abs((view.mapToScene(centre) - before).x() + 40 / view.zoom()) < 2
    assert lenet.selected_node_ids() == [] and lenet.undo_stack.count() == 0  # no box, no move


def test_dragging_nodes_moves_them_in_one_undo_step(lenet):
    view, scene = lenet.view, lenet.scene
    view.zoom_by(1.0 / view.zoom())
    view.centerOn(scene.node_items["n3"])
    relu, pool = scene.node_items["n3"], scene.node_items["n4"]
    relu.setSelected(True)
    grab = pool.mapToScene(QPointF(90, 45))
    lenet.mouse("press", grab, modifiers=Qt.ShiftModifier)  # Shift-click adds pool1 to the selection
    lenet.mouse("release", grab, modifiers=Qt.ShiftModifier)
    assert set(lenet.selected_node_ids()) == {"n3", "n4"}
    lenet.mouse("press", grab)
    for k in range(1, 6):
        lenet.mouse("move", grab + QPointF(0, 20 * k), buttons=Qt.LeftButton)
    lenet.mouse("release", grab + QPointF(0, 100))
    assert lenet.document.node("n3").position == (480.0, 100.0)
    assert lenet.document.node("n4").position == (720.0, 100.0)
    assert lenet.undo_stack.count() == 1
    lenet.undo_action.trigger()
    assert relu.pos() == QPointF(480, 0) and lenet.document.node("n3").position == (480.0, 0.0)


def test_box_select(lenet):
    view = lenet.view
    view.zoom_by(0.5 / view.zoom())
    view.centerOn(QPointF(600, 40))
    lenet.drag(QPointF(200, -150), QPointF(760, 150))
    assert lenet.selected_node_ids() == ["n2", "n3", "n4"]


def test_a_node_dropped_onto_a_connection_is_inserted(lenet):
    view, scene = lenet.view, lenet.scene
    dropout = lenet.drop_layer("Dropout", (2200.0, 300.0))
    assert lenet.document.predecessors(dropout) == []
    dropped_at = lenet.document.node(dropout).position
    view.zoom_by(0.6 / view.zoom())
    view.centerOn(QPointF(2300, 150))
    item = scene.node_items[dropout]
    grab = item.mapToScene(QPointF(90, 12))
    target = scene.edge_items[Edge("n10", "n11", 0)].path().pointAtPercent(0.5)
    lenet.mouse("press", grab)
    offset = target - item.sceneBoundingRect().center()
    for k in range(1, 6):
        lenet.mouse("move", grab + offset * (k / 5), buttons=Qt.LeftButton)
    assert scene.edge_items[Edge("n10", "n11", 0)].highlighted
    lenet.mouse("release", grab + offset)
    assert lenet.document.predecessors(dropout) == ["n10"]
    assert lenet.document.predecessors("n11") == [dropout]
    assert lenet.undo_stack.undoText() == "Insert into connection"
    assert lenet.document.infer().ok
    lenet.undo_action.trigger()
    assert lenet.document.predecessors("n11") == ["n10"] and lenet.document.node(dropout).position == dropped_at
