"""The application window as ``python main.py`` shows it: the editor with the training panel docked and
wired both ways (Train menu, read-only editor during a run, gradient lines <-> nodes, File ▸ Export, runs
following the file). A real short run on Debian's Fashion-MNIST drives it."""

import threading

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine.graph.templates import load_template
from gui.workbench import create_window

WINDOW_PNG = "/tmp/workbench_training.png"


class SlowSteps:
    def on_step_end(self, trainer, info):
        threading.Event().wait(0.01)


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch):
    monkeypatch.setenv("LAYERLAB_RUNS", str(tmp_path / "runs"))
    win = create_window(recovery_dir=str(tmp_path / "recovery"))
    win.show_error = lambda title, message: None
    win.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    win.resize(1440, 900)
    win.show()
    yield win
    win.training_panel.shutdown()
    assert not [t for t in threading.enumerate() if t.name == "layerlab-training" and t.is_alive()]


def open_mlp(window, tmp_path, **settings):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"train_limit": 1024, "epochs": 2, "batch_size": 32, **settings})
    path = tmp_path / "mlp.llnet"
    network.save(path)
    assert window.open_file(str(path))
    return path


def test_train_menu_and_export_come_from_the_panel(window):
    texts = [a.text().replace("&", "") for a in window.train_menu.actions()]
    assert any(t.startswith("Start") for t in texts) and any(t.startswith("Stop") for t in texts)
    assert window.export_action.isEnabled()
    assert window.training_dock.widget() is window.training_panel


def test_a_run_locks_the_editor_and_links_lines_and_nodes(window, qtbot, tmp_path):
    open_mlp(window, tmp_path)
    panel = window.training_panel
    panel.controller.extra_callbacks = (SlowSteps(),)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: not window.editing_enabled, timeout=10000)
    nodes_before = window.document.to_dict()["nodes"]
    window.controller.add_node("ReLU", (0.0, 0.0))  # refused while training
    assert window.document.to_dict()["nodes"] == nodes_before
    assert not window.layer_palette.isEnabled()
    qtbot.waitUntil(lambda: len(panel.controller.history) >= 20, timeout=20000)

    fc2 = window.document.node_by_name("fc2")
    window.select_node(fc2.id)
    assert panel.plots._highlighted == "fc2"
    panel.layerActivated.emit("fc1")
    assert window.selected_node_ids() == [window.document.node_by_name("fc1").id]

    panel.plots.refresh()
    assert window.grab().save(WINDOW_PNG)
    image = window.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine() // 4, 4)
    assert len(np.unique(rgb[..., :3].reshape(-1, 3), axis=0)) > 200  # canvas, nodes and curves, not blank

    panel.stop_action.trigger()
    qtbot.waitUntil(lambda: window.editing_enabled, timeout=20000)
    window.controller.add_node("ReLU", (0.0, 0.0))
    assert len(window.document.nodes) == len(nodes_before) + 1


def test_closing_the_window_mid_run_stops_the_worker(window, qtbot, tmp_path):
    open_mlp(window, tmp_path)
    panel = window.training_panel
    panel.controller.extra_callbacks = (SlowSteps(),)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: len(panel.controller.history) >= 5, timeout=20000)
    window.close()
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name == "layerlab-training"], timeout=20000)


def test_runs_follow_the_file_after_save_as(window, tmp_path, monkeypatch):
    open_mlp(window, tmp_path)
    refreshed = []
    monkeypatch.setattr(window.training_panel, "refresh_runs", lambda: refreshed.append(window.current_path))
    assert window.save_file(str(tmp_path / "renamed.llnet"))
    assert refreshed == [str(tmp_path / "renamed.llnet")]


def test_settings_edits_in_the_panel_are_undoable(window, tmp_path):
    open_mlp(window, tmp_path)
    form = window.training_panel.settings_form
    form.editors["epochs"].spin.setValue(9)
    form.dataset.activated.emit(form.dataset.findText("MNIST"))
    assert window.document.settings["epochs"] == 9 and window.document.input_node().params["dataset"] == "MNIST"
    window.undo_action.trigger()
    assert window.document.input_node().params["dataset"] == "Fashion-MNIST"
    assert form.dataset.currentText() == "Fashion-MNIST"
    window.undo_action.trigger()
    assert window.document.settings["epochs"] == 2 and form.editors["epochs"].value() == 2
    window.redo_action.trigger()
    assert window.document.settings["epochs"] == 9
