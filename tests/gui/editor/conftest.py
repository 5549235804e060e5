"""The editor window fixture and helpers that drive it the way a user does: through its actions, the
palette's drag-and-drop, the inspector's widgets and (sparingly) the mouse."""

import warnings

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QMouseEvent
from PySide6.QtWidgets import QApplication

from engine.graph import network_to_json
from gui.main_window import MainWindow


class Editor:
    """A MainWindow with its questions answered by the test (``answers``) and its errors recorded."""

    def __init__(self, window, qtbot):
        self.window, self.qtbot = window, qtbot
        self.errors = []
        self.answers = {"save_changes": "discard", "restore": True, "save_path": None, "open_path": None}
        window.show_error = lambda title, message: self.errors.append(message)
        window.ask_save_changes = lambda: self.answers["save_changes"]
        window.ask_restore = lambda recovery: self.answers["restore"]
        window.ask_save_path = lambda: self.answers["save_path"]
        window.ask_open_path = lambda: self.answers["open_path"]

    def __getattr__(self, name):
        return getattr(self.window, name)

    # ----- user gestures -----
    def viewport_point(self, scene_pos):
        return self.window.view.mapFromScene(scene_pos)

    def drop_layer(self, type_name, scene_pos):
        """Drag ``type_name`` from the palette and drop it at ``scene_pos``; returns the new node's id."""
        palette_item = self.window.layer_palette.items[type_name]
        mime = self.window.layer_palette.tree.mimeData([palette_item])
        viewport = self.window.view.viewport()
        point = self.viewport_point(QPointF(*scene_pos))
        before = set(self.window.document.nodes)
        with warnings.catch_warnings():  # PySide marks the QPoint constructors deprecated but has no other
            warnings.simplefilter("ignore", DeprecationWarning)
            events = (QDragEnterEvent(point, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier),
                      QDragMoveEvent(point, Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier))
        for event in (*events, QDropEvent(QPointF(point), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)):
            QApplication.sendEvent(viewport, event)
        added = [i for i in self.window.document.nodes if i not in before]
        return added[0] if added else None

    def mouse(self, kind, scene_pos, button=Qt.LeftButton, buttons=None, modifiers=Qt.NoModifier, view_pos=None):
        """Send one mouse event to the canvas at ``scene_pos`` (or at ``view_pos`` in the viewport)."""
        types = {"press": QEvent.MouseButtonPress, "move": QEvent.MouseMove, "release": QEvent.MouseButtonRelease,
                 "double": QEvent.MouseButtonDblClick}
        viewport = self.window.view.viewport()
        local = QPointF(view_pos if view_pos is not None else self.viewport_point(scene_pos))
        held = buttons if buttons is not None else (Qt.NoButton if kind == "release" else button)
        event = QMouseEvent(types[kind], local, QPointF(viewport.mapToGlobal(local.toPoint())),
                            Qt.NoButton if kind == "move" else button, held, modifiers)
        QApplication.sendEvent(viewport, event)

    def drag(self, start, end, steps=6, button=Qt.LeftButton, in_view=False):
        """Press at ``start``, move to ``end`` in steps, release (scene points, or viewport points when
        ``in_view``: for gestures that move the view itself)."""
        def at(kind, point, **kw):
            self.mouse(kind, None if in_view else point, button, view_pos=point if in_view else None, **kw)

        at("press", start)
        for k in range(1, steps + 1):
            at("move", start + (end - start) * (k / steps), buttons=button)
        at("release", end)

    def set_param(self, node_id, name, value):
        """Edit a parameter in the inspector, as a user would, with the node selected."""
        self.window.select_node(node_id)
        editor = self.window.inspector.editors[name]
        kind = editor.spec.kind
        if kind in ("int", "float"):
            editor.spin.setValue(editor.spin.minimum() if value is None else value)  # the lowest reads "auto"
        elif kind in ("pair", "padding"):
            for spin, v in zip(editor.spins, value or (None, None)):
                spin.setValue(spin.minimum() if v is None else v)
        elif kind == "bool":
            editor.check.setChecked(value)
        elif kind == "choice":
            editor.combo.setCurrentIndex(editor.spec.choices.index(value))
            editor.combo.activated.emit(editor.combo.currentIndex())
        else:
            editor.field.setText("×".join(map(str, value)) if isinstance(value, tuple) else value)
            editor.field.editingFinished.emit()

    def rename(self, node_id, name):
        """Double-click-title renaming, finished with Enter."""
        self.window.view.start_rename(node_id)
        field = self.window.view.rename_field
        field.setText(name)
        field.editingFinished.emit()

    def snapshot(self):
        """The document as JSON, with nodes and edges in a canonical order."""
        data = network_to_json(self.window.document)
        data["nodes"] = sorted(data["nodes"], key=lambda n: n["id"])
        data["edges"] = sorted(data["edges"], key=lambda e: (e["from"], e["to"], e["port"]))
        return data


@pytest.fixture
def editor(qtbot, tmp_path):
    window = MainWindow(recovery_dir=str(tmp_path / "recovery"))
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    ed = Editor(window, qtbot)
    yield ed
    ed.answers["save_changes"] = "discard"
    window.close()


@pytest.fixture
def lenet(editor):
    """The editor with the LeNet template open."""
    editor.window.new_from_template("lenet_cifar10")
    return editor

