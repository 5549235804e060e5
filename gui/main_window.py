"""LayerLab's main window: the node canvas in the middle, the palette, inspector, summary and undo
history docks around it, menus and a toolbar, and the files (open, save, recent, autosave).

The window edits ONE network document for its whole life (``document``): opening a file or a template
assigns the loaded network into it, so every view and panel keeps listening to the same object. Every
edit goes through ``controller`` as an undoable command; the window keeps no copy of the graph.
"""

import html
import os
import warnings

from PySide6.QtCore import QByteArray, QEvent, QPoint, QPointF, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence, QPalette, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QUndoView,
)

from engine.graph import EXTENSIONS, Network, NetworkFileError, load_network, save_network
from engine.graph.templates import list_templates, load_template
from engine.utils.files import FileError, FileWarning
from gui import theme
from gui.block_actions import add_block, remove_block, save_group_as_block
from gui.class_import_dialog import ClassImportDialog
from gui.editor import formatting
from gui.editor.compatibility import compatible_types
from gui.editor.controller import LOCKED, EditorController
from gui.editor.files import AUTOSAVE_MS, Autosave, RecentFiles
from gui.editor.icons import glyph_icon
from gui.editor.inspector import Inspector
from gui.editor.node_item import READABLE_ZOOM, NodeItem
from gui.editor.palette import Palette
from gui.editor.scene import NetworkScene
from gui.editor.summary_dock import SummaryWidget
from gui.editor.view import NetworkView
from gui.model_import import MODEL_EXTENSIONS, MODEL_FILTER, import_architecture, import_model

APP_NAME = "LayerLab"
DEFAULT_SIZE = (1440, 900)  # the window on first run, where the screen has room for it
BOTTOM_DOCK_SHARE = 0.38  # of the window's height, at first: the summary and training panel under the canvas
FILE_FILTER = "LayerLab networks (*.llnet *.json);;All files (*)"
CANVAS_GESTURES = (
    ("Wheel", "zoom under the cursor"), ("Shift+wheel", "scroll sideways"), ("Middle drag / Space+drag", "pan"),
    ("Tab / double-click on the canvas", "search for a layer to add"),
    ("Drag from a port", "connect; drop on empty canvas to add a connected layer"),
    ("Drag a connected input", "re-route or (dropped on empty canvas) remove the connection"),
    ("Drop a node on a connection", "insert it there"), ("Double-click a title", "rename"),
    ("Ctrl/Shift-click, drag a box", "select several"),
)


def _clamp(value, low, high):
    return round(min(max(value, low), high))


class MainWindow(QMainWindow):
    nodeSelectionChanged = Signal(list)  # selected node ids, in document order
    pathChanged = Signal(str)  # the network's file after open, save as or new ("" when it has none)

    def __init__(self, document=None, *, recovery_dir=None, autosave_ms=AUTOSAVE_MS, parent=None):
        super().__init__(parent)
        self.document = document if document is not None else Network()
        self.current_path = None
        self.editing_enabled = True
        self.undo_stack = QUndoStack(self)
        self.scene = NetworkScene(self.document, theme.canvas_style(theme.current_theme()), self)
        self.controller = EditorController(self.document, self.undo_stack, self.scene, self)
        self.view = NetworkView(self.scene, lambda anchor: compatible_types(self.document, anchor))
        self.setCentralWidget(self.view)
        self.recent = RecentFiles()
        self.autosave = Autosave(self.document, self.undo_stack, recovery_dir, autosave_ms, self)
        self.layer_palette = Palette()
        self.inspector = Inspector(self.document, self.controller)
        self.summary = SummaryWidget(self.document)
        self.history = QUndoView(self.undo_stack)
        self.history.setEmptyLabel("<opened>")
        self.panel_docks = []
        self._build_docks()
        self._build_actions()
        self._build_menus()
        self._build_toolbar()
        self._build_status_bar()
        self._connect()
        self.setAcceptDrops(True)
        self._bottom_heights = {}  # dock -> height, taken as each resize of the window begins
        self.installEventFilter(self)
        self._fit_default_size_to_screen()
        self._restore_layout()
        self._on_inference(self.scene.inference)
        self._update_title()
        self.view.fit()

    # ----- construction -----
    def _dock(self, widget, title, area, name):
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self):
        self.palette_dock = self._dock(self.layer_palette, "Layers", Qt.LeftDockWidgetArea, "palette_dock")
        self.inspector_dock = self._dock(self.inspector, "Inspector", Qt.RightDockWidgetArea, "inspector_dock")
        self.history_dock = self._dock(self.history, "History", Qt.RightDockWidgetArea, "history_dock")
        self.summary_dock = self._dock(self.summary, "Summary", Qt.BottomDockWidgetArea, "summary_dock")
        self.tabifyDockWidget(self.inspector_dock, self.history_dock)
        self.inspector_dock.raise_()

    def default_dock_sizes(self):
        """The docks' first-run sizes, as shares of the window's (a saved layout replaces them)."""
        width = self.width()
        palette = max(0.16 * width, self.layer_palette.sizeHint().width())  # every layer name whole
        self.resizeDocks([self.palette_dock, self.inspector_dock],
                         [_clamp(palette, 170, 240), _clamp(0.22 * width, 240, 300)], Qt.Horizontal)
        self.resizeDocks([self.summary_dock], [round(BOTTOM_DOCK_SHARE * self.height())], Qt.Vertical)

    def eventFilter(self, watched, event):
        if watched is self and event.type() == QEvent.Type.Resize:  # before the layout has moved anything
            self._bottom_heights = {dock: self._dock_area_height(dock) for dock in self._bottom_docks()}
        return super().eventFilter(watched, event)

    def resizeEvent(self, event):
        """The docks under the canvas keep their share of the height: Qt would give most of the change to the
        canvas, leaving it a strip in a smaller window."""
        super().resizeEvent(event)
        old, new = event.oldSize().height(), event.size().height()
        if old > 0 and old != new and self._bottom_heights:
            docks, heights = zip(*self._bottom_heights.items())
            self.resizeDocks(list(docks), [round(h * new / old) for h in heights], Qt.Vertical)

    def _dock_area_height(self, dock):
        """What ``resizeDocks`` sets for a dock under the canvas: its height, with the tab bar of its group."""
        bottom = self.statusBar().y() if self.statusBar().isVisible() else self.height()
        return bottom - dock.y()

    def _bottom_docks(self):
        """The docks on show under the canvas (of tabbed ones, the current tab)."""
        return [dock for dock in self.findChildren(QDockWidget) if not dock.isFloating() and dock.isVisible()
                and not dock.visibleRegion().isEmpty() and self.dockWidgetArea(dock) == Qt.BottomDockWidgetArea]

    def _action(self, text, slot, shortcut=None, *, icon=None, tip=None, canvas=False):
        """A QAction; ``canvas`` ones fire only while the canvas has focus (so Delete or Ctrl+C in a text
        field keeps its usual meaning)."""
        action = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
        if icon is not None:
            self._glyphs[action] = icon
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(lambda checked=False: slot())
        if canvas:
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            self.view.addAction(action)
        return action

    def _build_actions(self):
        c, v = self.controller, self.view
        self._glyphs = {}  # action -> icon name, drawn in the theme's colours
        a = self._action
        self.new_action = a("&Blank network", self.new_blank, QKeySequence.New, icon="new")
        self.open_action = a("&Open…", self.open_dialog, QKeySequence.Open, icon="open")
        self.save_action = a("&Save", self.save_file, QKeySequence.Save, icon="save")
        self.save_as_action = a("Save &As…", self.save_as, QKeySequence.SaveAs)
        self.import_action = a("&Import Model…", lambda: import_model(self), "Ctrl+I",
                               tip="Import an ONNX model or a PyTorch model class as a network, with its weights "
                                   "as a finished run")
        self.import_architecture_action = a("Import &Known Architecture…", lambda: import_architecture(self),
                                            tip="Import an architecture of the engine's vision models (ResNet, "
                                                "MobileNet, ViT...) as a network")
        self.export_action = QAction("&Export…", self)
        self.export_action.setShortcut(QKeySequence("Ctrl+E"))
        self.export_action.setStatusTip("Export the trained model (weights, ONNX, code): needs the training panel")
        self.export_action.setEnabled(False)  # the training panel connects and enables it
        self.quit_action = a("&Quit", self.close, QKeySequence.Quit)
        self.undo_action = a("&Undo", self.undo_stack.undo, QKeySequence.Undo, icon="undo")
        self.redo_action = a("&Redo", self.undo_stack.redo, ["Ctrl+Shift+Z", "Ctrl+Y"], icon="redo")
        self.cut_action = a("Cu&t", c.cut, QKeySequence.Cut, canvas=True)
        self.copy_action = a("&Copy", c.copy, QKeySequence.Copy, canvas=True)
        self.paste_action = a("&Paste", lambda: c.paste(v.cursor_scene_pos()), QKeySequence.Paste, canvas=True)
        self.duplicate_action = a("&Duplicate", c.duplicate, "Ctrl+D", canvas=True)
        self.delete_action = a("De&lete", c.delete_selection, [QKeySequence.Delete, "Backspace"], canvas=True)
        self.select_all_action = a("Select &All", c.select_all, QKeySequence.SelectAll, canvas=True)
        self.rename_action = a("Re&name", self._rename_selected, "F2", canvas=True)
        self.group_action = a("&Group", c.group_selection, "Ctrl+G", canvas=True,
                              tip="Group the selected layers into one box (double-click it to open it)")
        self.ungroup_action = a("&Ungroup", c.ungroup, "Ctrl+Shift+G", canvas=True,
                                tip="Dissolve the selected groups, keeping their layers")
        self.freeze_action = a("&Freeze / Thaw", c.toggle_frozen, "Ctrl+Shift+F", canvas=True,
                               tip="Keep the selected layers' parameters as they are in training (or train them "
                                   "again)")
        self.add_layer_action = a("Add &Layer…", lambda: v.open_search(v.cursor_scene_pos() or v.view_centre()),
                                  tip="Search the layers (Tab on the canvas)")
        self.layout_action = a("Auto-&layout", c.layout, "Ctrl+L", icon="layout",
                               tip="Arrange the nodes in layers from left to right")
        self.fit_action = a("&Fit to Window", v.fit, "F", icon="fit", canvas=True)
        self.find_action = a("&Find Layer…", v.open_find, QKeySequence.Find, tip="Find a layer by name or type")
        self.minimap_action = QAction("&Minimap", self, checkable=True, checked=True)
        self.minimap_action.setStatusTip("The whole network in the canvas's corner while it does not fit")
        self.minimap_action.toggled.connect(v.minimap.set_enabled)
        self.zoom_in_action = a("Zoom &In", lambda: v.zoom_by(1.25), QKeySequence.ZoomIn)
        self.zoom_out_action = a("Zoom &Out", lambda: v.zoom_by(0.8), QKeySequence.ZoomOut)
        self.zoom_reset_action = a("&Actual Size", lambda: v.zoom_by(1.0 / v.zoom()), "Ctrl+0")
        self.shortcuts_action = a("&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self.about_action = a("&About LayerLab", self.show_about)
        self.edit_actions = [self.cut_action, self.paste_action, self.duplicate_action, self.delete_action,
                             self.rename_action, self.group_action, self.ungroup_action, self.freeze_action,
                             self.add_layer_action, self.layout_action]
        self.file_actions = [self.new_action, self.open_action, self.import_action,
                             self.import_architecture_action]  # they replace the network
        self.theme_group = QActionGroup(self)
        self.theme_actions = {}
        for name in theme.THEMES:
            action = QAction(name.capitalize(), self, checkable=True)
            action.setChecked(name == theme.current_theme())
            action.triggered.connect(lambda checked=False, name=name: self.set_theme(name))
            self.theme_group.addAction(action)
            self.theme_actions[name] = action

    def _build_menus(self):
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.new_menu = file_menu.addMenu("&New")
        self.new_menu.addAction(self.new_action)
        self.new_menu.addSeparator()
        for template in list_templates():
            action = QAction(template.title, self)
            action.setStatusTip(template.description)
            action.triggered.connect(lambda checked=False, key=template.key: self.new_from_template(key))
            self.new_menu.addAction(action)
            self.file_actions.append(action)
        file_menu.addAction(self.open_action)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.import_architecture_action)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action, self.export_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit = bar.addMenu("&Edit")
        for action in (self.undo_action, self.redo_action, None, self.cut_action, self.copy_action,
                       self.paste_action, self.duplicate_action, self.delete_action, None, self.select_all_action,
                       self.rename_action, self.group_action, self.ungroup_action, self.freeze_action,
                       self.add_layer_action, self.layout_action):
            edit.addAction(action) if action else edit.addSeparator()
        self.view_menu = bar.addMenu("&View")
        for action in (self.find_action, self.fit_action, self.zoom_in_action, self.zoom_out_action,
                       self.zoom_reset_action, self.minimap_action):
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        theme_menu = self.view_menu.addMenu("&Theme")
        for action in self.theme_actions.values():
            theme_menu.addAction(action)
        self.panels_menu = self.view_menu.addMenu("&Panels")
        for dock in (self.palette_dock, self.inspector_dock, self.summary_dock, self.history_dock):
            self.panels_menu.addAction(dock.toggleViewAction())
        self.train_menu = bar.addMenu("&Train")
        help_menu = bar.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _build_toolbar(self):
        bar = QToolBar("Main", self)
        bar.setObjectName("main_toolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonTextBesideIcon)
        for action in (self.new_action, self.open_action, self.save_action, None, self.undo_action,
                       self.redo_action, None, self.layout_action, self.fit_action):
            bar.addAction(action) if action else bar.addSeparator()
        self.new_action.setIconText("New")
        self.fit_action.setIconText("Fit")
        self.toolbar = bar
        self._draw_icons()
        self.addToolBar(Qt.TopToolBarArea, bar)

    def _build_status_bar(self):
        self.params_label, self.macs_label, self.problems_label = QLabel(), QLabel(), QLabel()
        for label in (self.params_label, self.macs_label, self.problems_label):
            label.setContentsMargins(8, 0, 8, 0)
            self.statusBar().addPermanentWidget(label)

    def _connect(self):
        self.scene.inferenceUpdated.connect(self._on_inference)
        self.scene.selectionChanged.connect(self._on_selection)
        self.scene.connectionRequested.connect(lambda s, d, p, o, old: self.controller.connect(s, d, p, old, o))
        self.scene.disconnectRequested.connect(self.controller.disconnect)
        self.scene.connectionDroppedOnEmpty.connect(lambda anchor, pos: self.view.open_search(pos, anchor))
        self.scene.nodesMoved.connect(self.controller.move_nodes)
        self.scene.groupFoldRequested.connect(self.controller.toggle_fold)
        self.scene.groupInputRequested.connect(self.controller.feed_group_input)
        self.view.blockDropped.connect(lambda name, pos: add_block(self, name, pos))
        self.layer_palette.blockActivated.connect(lambda name: add_block(self, name, self._free_spot()))
        self.layer_palette.blockRemoveRequested.connect(lambda name: remove_block(self, name))
        self.inspector.group_form.saveRequested.connect(lambda group_id: save_group_as_block(self, group_id))
        self.scene.renameRequested.connect(self.view.start_rename)
        self.scene.refused.connect(self._show_refusal)
        self.view.addRequested.connect(self.controller.add_node)
        self.view.renameCommitted.connect(self.controller.rename)
        self.controller.refused.connect(self._show_refusal)
        self.view.start_page.templateChosen.connect(self.new_from_template)
        self.layer_palette.layerActivated.connect(lambda name: self.controller.add_node(name, self._free_spot()))
        self.summary.nodeActivated.connect(self.select_node)
        self.view.findChosen.connect(self.show_node)
        self.autosave.failed.connect(lambda message: self.statusBar().showMessage(message, 15000))
        self.undo_stack.cleanChanged.connect(self._update_title)
        self.undo_stack.indexChanged.connect(self._update_undo_actions)
        self._update_undo_actions()

    # ----- panels -----
    def add_panel_dock(self, widget, title, area=Qt.BottomDockWidgetArea):
        """Add a panel (e.g. training) as a dock with a View ▸ Panels entry; its layout is remembered."""
        dock = self._dock(widget, title, area, "panel_" + "".join(ch if ch.isalnum() else "_" for ch in title))
        self.panels_menu.addAction(dock.toggleViewAction())
        self.restoreDockWidget(dock)
        self.panel_docks.append(dock)
        return dock

    # ----- selection -----
    def selected_node_ids(self):
        return self.scene.selected_node_ids()

    def select_node(self, node_id):
        """Select a node, or a group (the Problems list names both), and bring it into view."""
        if node_id in self.document.groups:
            self.scene.select_nodes([], [node_id])
            self.view.centerOn(self.scene.group_item(node_id))
            return
        self.scene.select_nodes([node_id])
        self.view.centre_on_node(node_id)

    def show_node(self, node_id):
        """Select a node and bring it to the middle of the canvas, readable (Find's choice), opening the
        collapsed group it is in."""
        group = self.document.group_of(node_id)
        if group is not None and group.collapsed:
            self.controller.toggle_fold(group.id)
        self.view.zoom_by(max(1.0, READABLE_ZOOM / self.view.zoom()))
        self.scene.select_nodes([node_id])
        self.view.centerOn(self.scene.node_items[node_id])

    def _on_selection(self):
        ids = self.scene.selected_node_ids()
        group = self.scene.lone_selected_group()
        if group is not None:
            self.inspector.show_group(group)
        else:
            self.inspector.show_nodes(ids)
        self.nodeSelectionChanged.emit(ids)

    def _rename_selected(self):
        """F2: rename the selected node in place, or the selected group in the inspector."""
        if self.editing_enabled and self.scene.lone_selected_group() is not None:
            self.inspector_dock.raise_()
            self.inspector.group_form.name_field.setFocus()
            self.inspector.group_form.name_field.selectAll()
            return
        ids = self.selected_node_ids()
        if len(ids) == 1 and self.editing_enabled:
            self.view.start_rename(ids[0])

    def _free_spot(self):
        """Where a layer added without a position goes: right of the selected node (or group box), else the
        view centre."""
        boxes = [item for item in self.scene.selectedItems() if isinstance(item, NodeItem)]
        if len(boxes) == 1:
            return boxes[0].sceneBoundingRect().topRight() + QPointF(130, 13)
        return self.view.view_centre()

    # ----- read-only while training -----
    def set_editing_enabled(self, enabled):
        """Allow or forbid every edit (canvas, palette, inspector, undo/redo, opening another network)."""
        self.editing_enabled = bool(enabled)
        self.controller.enabled = self.editing_enabled
        self.scene.set_editable(self.editing_enabled)
        self.view.finish_rename(commit=False)
        self.view.search.hide()
        self.layer_palette.setEnabled(self.editing_enabled)
        self.inspector.set_editing_enabled(self.editing_enabled)
        self.history.setEnabled(self.editing_enabled)
        for action in self.edit_actions + self.file_actions + list(self.recent_menu.actions()):
            action.setEnabled(self.editing_enabled)
        self.recent_menu.setEnabled(self.editing_enabled)
        self._update_undo_actions()

    def _update_undo_actions(self):
        stack = self.undo_stack
        self.undo_action.setEnabled(self.editing_enabled and stack.canUndo())
        self.redo_action.setEnabled(self.editing_enabled and stack.canRedo())
        self.undo_action.setText(f"&Undo {stack.undoText()}".rstrip())
        self.redo_action.setText(f"&Redo {stack.redoText()}".rstrip())
        self.undo_action.setIconText("Undo")  # the toolbar stays short; the menu names the step
        self.redo_action.setIconText("Redo")

    # ----- status -----
    def _on_inference(self, inference):
        self.summary.refresh(inference)
        self.inspector.refresh(inference)
        self.params_label.setText(f"{formatting.count(inference.total_params)} parameters")
        self.macs_label.setText(f"{formatting.short_count(inference.total_macs)} MACs")
        errors = len(inference.errors)
        warnings = len(inference.problems) - errors
        if not self.document.nodes:
            self.problems_label.setText(formatting.EMPTY_NETWORK)
            self.problems_label.setStyleSheet("")
        elif not inference.problems:
            self.problems_label.setText("✓ no problems")
            self.problems_label.setStyleSheet("color: #2e7d32;")
        else:
            parts = [f"{errors} error{'s' * (errors != 1)}"] if errors else []
            parts += [f"{warnings} warning{'s' * (warnings != 1)}"] if warnings else []
            self.problems_label.setText(", ".join(parts))
            self.problems_label.setStyleSheet("color: #d32f2f;" if errors else "color: #ef8f00;")

    def _show_refusal(self, message):
        self.statusBar().showMessage(message, 6000)

    def _update_title(self):
        name = os.path.basename(self.current_path) if self.current_path else self.document.title
        self.setWindowTitle(f"{name}[*] — {APP_NAME}")
        self.setWindowModified(not self.undo_stack.isClean())

    # ----- files -----
    def _replace_document(self, network, path, modified=False):
        self.document.assign(network)
        self.undo_stack.clear()
        if modified:
            self.undo_stack.resetClean()
        self.current_path = os.path.abspath(path) if path else None
        self.autosave.original_path = self.current_path
        self._update_title()
        self.view.fit()
        self.pathChanged.emit(self.current_path or "")

    def open_file(self, path):
        """Open a network file into this window's document; a damaged file leaves the document untouched."""
        if not self.editing_enabled:
            self.show_error("Cannot open a network", LOCKED)
            return False
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", FileWarning)
                network = load_network(path)
        except NetworkFileError as e:
            self.show_error("Cannot open the network", str(e))
            return False
        self._replace_document(network, path)
        self.recent.add(path)
        notes = [str(w.message) for w in caught if issubclass(w.category, FileWarning)]
        if notes:
            self.statusBar().showMessage(f"Opened {path}, with warnings: " + " ".join(notes), 20000)
        else:
            self.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def save_file(self, path=None):
        """Save to ``path`` (default: the current file, else ask); returns whether it was saved. A failed save
        (full disk, unwritable folder) is shown and changes nothing: the document stays modified, and its
        recovery file is brought up to date so the work survives even if the window is then killed."""
        path = path or self.current_path or self.ask_save_path()
        if not path:
            return False
        if not os.path.splitext(path)[1]:
            path += EXTENSIONS[0]
        try:
            save_network(self.document, path)
        except (FileError, OSError) as e:
            self.autosave.save_now()
            self.show_error("Cannot save the network",
                            str(e) if isinstance(e, FileError) else f"{path}: {e.strerror or e}")
            return False
        moved = self.current_path != os.path.abspath(path)
        self.current_path = os.path.abspath(path)
        self.autosave.original_path = self.current_path
        if moved:
            self.pathChanged.emit(self.current_path)
        self.undo_stack.setClean()
        self.autosave.discard()
        self.recent.add(path)
        self._update_title()
        self.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    def save_as(self):
        path = self.ask_save_path()
        return self.save_file(path) if path else False

    def open_dialog(self):
        if self.maybe_save():
            path = self.ask_open_path()
            if path:
                self.open_file(path)

    def new_blank(self):
        if self.editing_enabled and self.maybe_save():
            self._replace_document(Network(), None)

    def new_from_template(self, key):
        if self.editing_enabled and self.maybe_save():
            self._replace_document(load_template(key), None)

    def _fill_recent_menu(self):
        self.recent_menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = self.recent_menu.addAction(os.path.basename(path))
            action.setStatusTip(path)
            action.setEnabled(self.editing_enabled)
            action.triggered.connect(lambda checked=False, path=path: self._open_recent(path))
        if not paths:
            self.recent_menu.addAction("No recent files").setEnabled(False)
        else:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear Recent Files", self.recent.clear)

    def _open_recent(self, path):
        if not self.maybe_save():
            return
        if not os.path.exists(path):
            self.recent.remove(path)
            self.show_error("Cannot open the network", f"{path}: the file no longer exists")
            return
        self.open_file(path)

    def maybe_save(self):
        """Whether to go on after asking about unsaved changes (saving them if the user says so)."""
        if self.undo_stack.isClean():
            return True
        choice = self.ask_save_changes()
        if choice == "save":
            return self.save_file()
        return choice == "discard"

    def offer_recovery(self):
        """At start: offer the work of sessions that crashed, newest first, until one is restored; returns
        whether one was. Each file is handled on its own: a declined one is removed, a damaged one is reported
        and set aside (kept, never offered again), and the ones not reached stay for the next start."""
        damaged = []
        restored = False
        for recovery in self.autosave.left_behind():
            try:
                network = recovery.load()
            except NetworkFileError as e:
                kept = recovery.set_aside()
                damaged.append(f"{e}\n(kept as {kept})" if kept else str(e))
                continue
            if self.ask_restore(recovery):
                self._replace_document(network, recovery.original_path, modified=True)
                recovery.discard()
                self.autosave.save_now()
                restored = True
                break
            recovery.discard()
        if damaged:
            self.show_error("Cannot restore the network", "A recovery file is damaged:\n\n" + "\n\n".join(damaged))
        return restored

    # ----- questions (tests replace these) -----
    def ask_save_changes(self):
        """``'save'``, ``'discard'`` or ``'cancel'``."""
        name = os.path.basename(self.current_path) if self.current_path else self.document.title
        answer = QMessageBox.question(
            self, APP_NAME, f"Save the changes to “{name}” before closing it?",
            QMessageBox.Save | QMessageBox.Discard | QMessageBox.Cancel, QMessageBox.Save)
        return {QMessageBox.Save: "save", QMessageBox.Discard: "discard"}.get(answer, "cancel")

    def ask_open_path(self):
        path, _ = QFileDialog.getOpenFileName(self, "Open network", self.dialog_dir(), FILE_FILTER)
        return path or None

    def ask_save_path(self):
        start = self.current_path or os.path.join(self.dialog_dir(), "network.llnet")
        path, _ = QFileDialog.getSaveFileName(self, "Save network", start, FILE_FILTER)
        return path or None

    def ask_import_path(self):
        path, _ = QFileDialog.getOpenFileName(self, "Import model", self.dialog_dir(), MODEL_FILTER)
        return path or None

    def ask_model_class(self, path):
        """``(spec, kwargs, input shape, weights)`` for a class of the Python file ``path`` (None: a known
        architecture), or None when cancelled."""
        dialog = ClassImportDialog(self, path)
        return dialog.choice if dialog.exec() == QDialog.Accepted else None

    def ask_import_save_path(self, default):
        path, _ = QFileDialog.getSaveFileName(self, "Save the imported network", default, FILE_FILTER)
        return path or None

    def ask_replace_imported_run(self, folder):
        answer = QMessageBox.question(self, APP_NAME, f"{folder} holds an earlier import. Replace it?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def ask_restore(self, recovery):
        where = f" (last saved as {recovery.original_path})" if recovery.original_path else ""
        when = f" from {recovery.saved_label}" if recovery.saved_label else ""
        answer = QMessageBox.question(
            self, APP_NAME, f"LayerLab did not close normally. Restore the unsaved network{where}{when}?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.Yes)
        return answer == QMessageBox.Yes

    def ask_block_name(self, default):
        """``(name, description)`` for a group saved as a palette block, or None when cancelled."""
        name, ok = QInputDialog.getText(self, "Save as Block", "Name of the block in the palette's My blocks:",
                                        text=default)
        return (name.strip(), "") if ok and name.strip() else None

    def ask_remove_block(self, name):
        answer = QMessageBox.question(self, APP_NAME, f"Delete the block “{name}” from the palette?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def show_error(self, title, message):
        QMessageBox.critical(self, title, message)

    def dialog_dir(self):
        recent = self.recent.paths()
        return os.path.dirname(recent[0]) if recent else os.path.expanduser("~")

    # ----- drag a file onto the window -----
    @staticmethod
    def _dropped_files(event):
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        return [u.toLocalFile() for u in urls
                if u.isLocalFile() and u.toLocalFile().lower().endswith((*EXTENSIONS, *MODEL_EXTENSIONS))]

    def dragEnterEvent(self, event):
        if self._dropped_files(event) and self.editing_enabled:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event):
        files = self._dropped_files(event)
        if files and self.editing_enabled:
            event.acceptProposedAction()
            if files[0].lower().endswith(MODEL_EXTENSIONS):
                import_model(self, files[0])  # it asks about unsaved changes itself
            elif self.maybe_save():
                self.open_file(files[0])

    # ----- look and layout -----
    def set_theme(self, name):
        theme.apply_theme(QApplication.instance(), name)
        theme.save_theme(name)
        self.theme_actions[name].setChecked(True)
        self.scene.set_style(theme.canvas_style(name))
        self.view.minimap.invalidate()
        self._draw_icons()

    def _draw_icons(self):
        colour = QApplication.instance().palette().color(QPalette.ButtonText)
        for action, name in self._glyphs.items():
            action.setIcon(glyph_icon(name, colour))

    def _fit_default_size_to_screen(self):
        """The first-run size, no larger than the screen's free area (a 1280×720 laptop showed the window cut off
        at the right and bottom); a saved geometry replaces it."""
        free = self.screen().availableGeometry()
        self.resize(min(DEFAULT_SIZE[0], free.width()), min(DEFAULT_SIZE[1], free.height()))
        self.move(free.topLeft() + QPoint((free.width() - self.width()) // 2, (free.height() - self.height()) // 2))
        self.default_dock_sizes()  # shares of the size just chosen

    def _restore_layout(self):
        settings = QSettings()
        geometry, state = settings.value("window/geometry"), settings.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def save_layout(self):
        settings = QSettings()
        settings.setValue("window/geometry", self.saveGeometry())
        settings.setValue("window/state", self.saveState())

    def closeEvent(self, event):
        if not self.maybe_save():
            event.ignore()
            return
        self.save_layout()
        self.autosave.stop()
        self.scene.detach()
        event.accept()

    # ----- help -----
    def shortcuts_html(self):
        rows = []
        for action in self.findChildren(QAction):
            keys = ", ".join(s.toString(QKeySequence.NativeText) for s in action.shortcuts())
            if keys and action.text():
                rows.append((action.text().replace("&", ""), keys))
        rows.sort()
        gestures = [(what[0].upper() + what[1:], how) for how, what in CANVAS_GESTURES]
        sections = (("Commands", rows), ("On the canvas", gestures))
        body = "".join(f"<tr><td colspan='2' style='padding-top:6px'><b>{title}</b></td></tr>" + "".join(
            f"<tr><td>{html.escape(a)}</td><td style='padding-left:16px'><b>{html.escape(k)}</b></td></tr>"
            for a, k in section) for title, section in sections)
        return f"<table>{body}</table>"

    def show_shortcuts(self):
        box = QMessageBox(self)
        box.setWindowTitle("Keyboard shortcuts")
        box.setTextFormat(Qt.RichText)
        box.setText(self.shortcuts_html())
        box.exec()

    def show_about(self):
        QMessageBox.about(self, f"About {APP_NAME}",
                          f"<b>{APP_NAME}</b><p>Build neural networks by dragging layers, see every layer's "
                          "output shape and parameter count as you build, and train them on LayerLab's own "
                          "PyTorch-compatible engine.</p>")
