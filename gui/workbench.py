"""The whole application window: the node editor (``MainWindow``) with the training panel docked under
the canvas, tabbed with the summary, and the two wired together.

Wiring, both ways: the Train menu holds the panel's actions; settings edits are undoable editor
commands; while a run is live the editor is read-only; clicking a layer's gradient-norm line selects its
node, and selecting a node highlights its line; File ▸ Export opens the panel's export dialog; when the
network gets a file (saved for the first time, or opened) the panel follows it: runs made while it had none move
into ``NET.runs/`` beside it, and a file opened with runs shows its last one (see ``gui.training.document_runs``).
"""

from PySide6.QtCore import QSettings, Qt

from gui.main_window import MainWindow
from gui.training import TrainingPanel
from gui.training.health_badges import layer_nodes


def attach_training_panel(window):
    """Dock a ``TrainingPanel`` on ``window``'s document and wire it; returns the panel."""
    panel = TrainingPanel(window.document, lambda: window.current_path, window, edits=window.controller)
    dock = window.add_panel_dock(panel, "Training", Qt.BottomDockWidgetArea)
    window.tabifyDockWidget(window.summary_dock, dock)
    window.summary_dock.raise_()
    if QSettings().value("window/state") is None:  # first run: docking the panel squeezed the side docks
        window.default_dock_sizes()
    window.train_menu.addActions(panel.actions())
    window.training_dock = dock
    window.training_panel = panel

    def running_changed(running):
        window.set_editing_enabled(not running)
        if running:  # show the plots, with room to read them
            dock.show()
            dock.raise_()
            if dock.height() < window.height() // 2:
                window.resizeDocks([dock], [int(window.height() * 0.58)], Qt.Vertical)

    def layer_activated(name):
        """A layer's line, row or name was clicked: select its node (a module inside it, a repeated copy: the
        node that computes it)."""
        node_id = layer_nodes(window.document, [name]).get(name)
        if node_id is not None:
            window.select_node(node_id)

    def nodes_selected(ids):
        names = [window.document.nodes[i].name for i in ids if i in window.document.nodes]
        panel.highlight_layer(names[0] if len(names) == 1 else None)
        edges = window.scene.selected_edges()
        if len(names) == 1 or (not names and len(edges) == 1):  # a layer, or a connection: what its source gives
            panel.inspect_layer(names[0] if names else window.document.nodes[edges[0].src].name, bool(names))

    panel.runningChanged.connect(running_changed)
    panel.layerActivated.connect(layer_activated)
    panel.healthBadges.connect(window.scene.show_health)
    window.nodeSelectionChanged.connect(nodes_selected)
    window.pathChanged.connect(lambda _path: panel.network_file_changed())
    window.export_action.triggered.connect(panel.open_export_dialog)
    window.export_action.setEnabled(True)
    return panel


def create_window(**kwargs):
    """A ``MainWindow`` with its training panel (what ``python main.py`` shows)."""
    window = MainWindow(**kwargs)
    attach_training_panel(window)
    return window
