"""The window as other panels and the app see it: its public interface, remembered layout and theme,
keyboard shortcuts on the canvas, the clipboard, and ``gui.app.main``."""

from PySide6.QtCore import QMimeData, QPointF, Qt, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDockWidget, QLabel

from engine.graph import save_network
from engine.graph.templates import load_template
from gui import app as gui_app
from gui import theme
from gui.editor.clipboard import NODES_MIME
from gui.main_window import MainWindow


def test_selection_signal_and_panel_docks(lenet):
    seen = []
    lenet.nodeSelectionChanged.connect(seen.append)
    lenet.select_node("n9")
    assert seen[-1] == ["n9"] and lenet.selected_node_ids() == ["n9"]
    lenet.select_all_action.trigger()
    assert seen[-1] == list(lenet.document.nodes)
    dock = lenet.add_panel_dock(QLabel("training"), "Training")
    assert isinstance(dock, QDockWidget) and dock.objectName() == "panel_Training"
    assert dock.toggleViewAction() in lenet.panels_menu.actions()
    assert lenet.train_menu.title() == "&Train"


def test_layout_and_theme_are_remembered(editor, qtbot, tmp_path):
    editor.summary_dock.hide()
    editor.set_theme("dark")
    assert QApplication.instance().palette().color(QPalette.Window).lightness() < 80
    assert editor.scene.style.background.lightness() < 60
    editor.window.close()
    again = MainWindow(recovery_dir=str(tmp_path / "recovery"))
    qtbot.addWidget(again)
    again.show()
    assert not again.summary_dock.isVisible() and again.palette_dock.isVisible()
    assert theme.saved_theme() == "dark" and again.theme_actions["dark"].isChecked()
    again.set_theme("light")
    again.close()


def test_canvas_keys(lenet):
    view = lenet.view
    view.setFocus()
    lenet.select_node("n10")
    lenet.qtbot.keyClick(view, Qt.Key_Delete)
    assert "n10" not in lenet.document.nodes
    lenet.qtbot.keyClick(view, Qt.Key_Z, Qt.ControlModifier)
    assert "n10" in lenet.document.nodes
    lenet.select_node("n2")
    lenet.qtbot.keyClick(view, Qt.Key_D, Qt.ControlModifier)
    (copy,) = lenet.selected_node_ids()
    assert lenet.document.node(copy).type == "Conv2d" and lenet.document.node(copy).name != "conv1"
    lenet.qtbot.keyClick(view, Qt.Key_Z, Qt.ControlModifier | Qt.ShiftModifier)  # nothing to redo: no change
    lenet.qtbot.keyClick(view, Qt.Key_L, Qt.ControlModifier)
    assert lenet.undo_stack.undoText() == "Auto-layout"
    lenet.inspector.editors["out_channels"].spin.setFocus()
    lenet.qtbot.keyClick(lenet.inspector.editors["out_channels"].spin, Qt.Key_Delete)
    assert copy in lenet.document.nodes  # Delete in a field edits the field, not the network


def test_clipboard_holds_json_under_layerlab_mime(lenet):
    lenet.controller.copy(["n2", "n3"])
    mime = QApplication.clipboard().mimeData()
    assert mime.hasFormat(NODES_MIME) and '"Conv2d"' in mime.text()
    lenet.controller.paste()
    lenet.controller.paste()
    assert len(lenet.document.nodes) == 18
    assert lenet.undo_stack.count() == 2
    QApplication.clipboard().setText("just text")
    assert "no LayerLab nodes" in lenet.controller.paste()
    broken = QMimeData()
    broken.setData(NODES_MIME, b'{"nodes": [{"id": "x", "type": "Warp", "name": "w"}], "edges": []}')
    QApplication.clipboard().setMimeData(broken)
    refusal = lenet.controller.paste()
    assert "clipboard" in refusal and "Warp" in refusal
    assert len(lenet.document.nodes) == 18 and lenet.undo_stack.count() == 2
    # another program's data under our type: nested past the stack, not UTF-8, not an object, odd positions
    for data, problem in ((b"[" * 100_000 + b"]" * 100_000, "deep"), (b"\xff\xfe", "UTF-8"),
                          (b"[1, 2]", "list"),
                          (b'{"nodes": [{"id": "x", "type": "ReLU", "name": "r", "position": ["a", 1]}], "edges": []}',
                           "position")):
        odd = QMimeData()
        odd.setData(NODES_MIME, data)
        QApplication.clipboard().setMimeData(odd)
        refusal = lenet.controller.paste(QPointF(10, 10))
        assert refusal.startswith("clipboard: ") and problem in refusal, refusal
    assert len(lenet.document.nodes) == 18 and lenet.undo_stack.count() == 2


def test_shortcuts_help_lists_actions_and_gestures(editor):
    text = editor.shortcuts_html()
    for entry in ("Auto-layout", "Ctrl+L", "Duplicate", "Ctrl+D", "Wheel", "Space+drag", "Tab"):
        assert entry in text


def test_main_opens_the_file_given(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "vgg.llnet"
    save_network(load_template("vgg_cifar10"), str(path))
    opened = []

    def check_and_quit():
        (window,) = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        opened.append((window.current_path, len(window.document.nodes)))
        window.close()
        QApplication.instance().quit()

    monkeypatch.setattr(MainWindow, "offer_recovery", lambda self: False)
    QTimer.singleShot(0, check_and_quit)
    assert gui_app.main([str(path)]) == 0
    assert opened == [(str(path), len(load_template("vgg_cifar10").nodes))]
