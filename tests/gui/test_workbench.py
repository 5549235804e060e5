"""The application window as ``python main.py`` shows it: the editor with the training panel docked and
wired both ways (Train menu, read-only editor during a run, gradient lines <-> nodes, File ▸ Export, runs
following the file). A real short run on Debian's Fashion-MNIST drives it."""

import os
import threading

import numpy as np
import pytest
from PySide6.QtGui import QImage

from engine.graph import network_to_json, save_network
from engine.graph.templates import load_template
from engine.training.runs import create_run, load_run

WINDOW_PNG = "/tmp/workbench_training.png"


class SlowSteps:
    def on_step_end(self, trainer, info):
        threading.Event().wait(0.01)


@pytest.fixture
def window(workbench_window):
    workbench_window.resize(1440, 900)
    return workbench_window


def open_mlp(window, tmp_path, **settings):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"train_limit": 1024, "epochs": 2, "batch_size": 32, **settings})
    path = tmp_path / "mlp.llnet"
    save_network(network, path)
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
    nodes_before = network_to_json(window.document)["nodes"]
    window.controller.add_node("ReLU", (0.0, 0.0))  # refused while training
    assert network_to_json(window.document)["nodes"] == nodes_before
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


def train_unsaved_mlp(window, qtbot, slow=False):
    """New from the MLP template (no file), one short epoch started; waits for its end unless ``slow``."""
    window.new_from_template("mlp_fashion_mnist")
    window.document.set_settings({"train_limit": 512, "epochs": 1, "batch_size": 32})
    panel = window.training_panel
    panel.controller.extra_callbacks = (SlowSteps(),) if slow else ()
    panel.start_action.trigger()
    if not slow:
        qtbot.waitUntil(lambda: not panel.controller.busy, timeout=30000)
    return panel


def test_runs_made_before_the_first_save_follow_the_file(window, qtbot, tmp_path):
    other = create_run(load_template("lenet_cifar10"))  # another document's run in the shared folder
    panel = train_unsaved_mlp(window, qtbot)
    cached = panel.controller.run.folder
    assert cached.startswith(str(tmp_path / "runs")) and cached in panel.run_label.text()

    assert window.save_file(str(tmp_path / "net.llnet"))
    moved = str(tmp_path / "net.runs" / os.path.basename(cached))
    assert not os.path.exists(cached) and load_run(moved).status == "finished" and os.path.isdir(other.folder)
    assert panel.controller.run.folder == moved and moved in panel.run_label.text()
    assert cached not in panel.run_label.text()
    assert [r.folder for r in panel.runs_view.runs] == [moved] and panel.continue_action.isEnabled()
    assert not panel.banner.isVisible()

    assert window.save_file(str(tmp_path / "renamed.llnet"))  # Save As: the runs stay with net.llnet
    assert os.path.isdir(moved) and panel.runs_view.runs == []
    location = panel.runs_view.location.text()
    assert str(tmp_path / "renamed.runs") in location and str(tmp_path / "net.runs") in location

    window.open_file(str(tmp_path / "net.llnet"))  # reopened: its last run is on screen, and where it is
    history = panel.controller.history
    assert len(history) == 16 and list(history.epoch_column("epoch")) == [1]
    assert panel.plots.point_counts()["loss"] == 16
    assert panel.run_label.text().startswith(f"Last run {os.path.basename(moved)}: finished, 1/1 epochs, test accuracy")
    assert str(tmp_path / "net.runs") in panel.run_label.text() and "Runs tab" in panel.run_label.text()
    assert "Epoch 1/1" in panel.progress.text and "step 16/16" in panel.progress.text
    assert panel.prediction_view.predictor.source == f"run {os.path.basename(moved)}"
    assert panel.continue_action.isEnabled() and panel.export_csv_action.isEnabled()


def test_a_new_network_does_not_claim_the_shared_folders_runs(window, qtbot, tmp_path):
    panel = train_unsaved_mlp(window, qtbot)
    window.new_blank()
    assert panel.run_label.text() == "" and len(panel.controller.history) == 0
    assert panel.prediction_view.predictor is None


def test_a_run_saved_while_training_moves_when_it_ends(window, qtbot, tmp_path):
    panel = train_unsaved_mlp(window, qtbot, slow=True)
    qtbot.waitUntil(lambda: len(panel.controller.history) >= 3, timeout=30000)
    cached = panel.controller.run_start.run_folder
    assert window.save_file(str(tmp_path / "live.llnet"))
    assert os.path.isdir(cached) and panel.controller.busy  # still training, still writing there
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=30000)
    moved = str(tmp_path / "live.runs" / os.path.basename(cached))
    run = load_run(moved)
    assert not os.path.exists(cached) and run.status == "finished" and run.global_step == 16 and run.has_checkpoint
    assert len(run.metrics().steps["global_step"]) == 16
    assert panel.controller.run.folder == moved and moved in panel.run_label.text()
    assert [r.folder for r in panel.runs_view.runs] == [moved]


def test_a_run_that_cannot_move_stays_and_the_banner_says_where(window, qtbot, tmp_path):
    panel = train_unsaved_mlp(window, qtbot)
    cached = panel.controller.run.folder
    (tmp_path / "blocked.runs").write_text("a file where the runs folder would go")
    assert window.save_file(str(tmp_path / "blocked.llnet"))
    assert load_run(cached).status == "finished" and panel.controller.run.folder == cached
    text = panel.banner.text()
    assert panel.banner.isVisible() and f"Could not move run {os.path.basename(cached)}" in text
    assert str(tmp_path / "blocked.runs") in text and f"still in {tmp_path / 'runs'}" in text


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
