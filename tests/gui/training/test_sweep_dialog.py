"""The sweep dialog: its form checks the values as they are typed (Start only while they can be swept); Start runs
``main.py sweep`` as a child process and fills the table of trials from the sweep's record, the best starred;
Stop leaves a resumable sweep and no process behind; Resume continues it, and closing while it runs stops it
first."""

import math
import os

import pytest
from panel_support import make_cifar
from PySide6.QtCore import Qt
from run_support import train_run

from engine.graph import save_network
from engine.graph.templates import load_template
from engine.training.sweep_record import load_sweep, sweeps_folder
from gui.training.sweep_dialog import SweepDialog
from gui.training.sweep_trials import SORT_ROLE, STAR

SWEEP_SECONDS = 90_000  # ms: two tiny trials take a few seconds, more on a busy machine


@pytest.fixture
def network(tmp_path):
    """LeNet on 80 random CIFAR-10 images (72 to train, 8 to validate), one epoch, saved in tmp_path."""
    net = load_template("lenet_cifar10")
    net.set_settings({"data_dir": str(make_cifar(str(tmp_path / "data"))), "epochs": 1, "batch_size": 16})
    path = tmp_path / "net.llnet"
    save_network(net, path)
    return path, net.settings


@pytest.fixture
def dialogs(qtbot):
    made = []

    def make(path, settings):
        dialog = SweepDialog(path, settings)
        qtbot.addWidget(dialog)
        dialog.resize(1180, 680)
        dialog.show()
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.shutdown()
        assert not dialog.running


def cells(dialog, column, role=Qt.ItemDataRole.DisplayRole):
    """The column's cells in the table's (sorted) order."""
    model = dialog.table.model()
    index = dialog.model.headers.index(column)
    return [model.data(model.index(row, index), role) for row in range(model.rowCount())]


def processes_naming(text):
    """The processes whose command line holds ``text`` (the sweep's workers name their trial's network in it)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                if text.encode() in fh.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def vary(qtbot, dialog, name, text):
    field = dialog.form.rows[name].field
    field.clear()
    qtbot.keyClicks(field, text)


def test_a_grid_of_two_learning_rates_fills_the_table_and_stars_the_best(qtbot, dialogs, network):
    path, settings = network
    dialog = dialogs(path, settings)
    assert not dialog.start_button.isEnabled()  # nothing ticked yet
    vary(qtbot, dialog, "lr", "0.01, 0.05")
    assert dialog.form.rows["lr"].check.isChecked() and dialog.start_button.isEnabled()
    assert "2 of 2 combinations" in dialog.plan.text()
    told = []
    dialog.runsChanged.connect(lambda: told.append(True))
    with qtbot.waitSignal(dialog.sweepFinished, timeout=SWEEP_SECONDS) as ended:
        qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
        assert dialog.running and not dialog.start_button.isEnabled() and dialog.stop_button.isEnabled()
    assert ended.args == [0], dialog.log.toPlainText()
    assert cells(dialog, "lr") == ["0.01", "0.05"] and cells(dialog, "Status") == ["finished", "finished"]
    scores = cells(dialog, "Val acc", SORT_ROLE)
    assert all(math.isfinite(s) for s in scores)
    assert all(text.endswith("%") for text in cells(dialog, "Test acc"))
    best = scores.index(max(scores))  # the first of equal scores
    assert [t.startswith(STAR) for t in cells(dialog, "Trial")] == [row == best for row in range(2)]
    fonts = cells(dialog, "Run", Qt.ItemDataRole.FontRole)
    assert fonts[best].bold() and fonts[1 - best] is None
    sweep = load_sweep(dialog.folder)
    assert os.path.dirname(dialog.folder) == sweeps_folder(path)
    assert cells(dialog, "Run") == [os.path.basename(t.run) for t in sweep.trials]
    assert told and "Sweep finished. Best: trial" in dialog.status.text()
    assert not dialog.resume_button.isEnabled() and dialog.start_button.isEnabled()
    assert dialog.sweeps.currentData() == dialog.folder and dialog.sweeps.count() == 2
    dialog.table.sortByColumn(dialog.model.headers.index("Val acc"), Qt.SortOrder.DescendingOrder)
    assert cells(dialog, "Val acc", SORT_ROLE) == sorted(scores, reverse=True)


def test_the_form_refuses_values_that_cannot_be_swept(qtbot, dialogs, network):
    path, settings = network
    dialog = dialogs(path, settings)
    vary(qtbot, dialog, "lr", "abc")
    assert not dialog.start_button.isEnabled() and dialog.problem.isVisible()
    assert "lr=abc: 'lr' must be a number between 1e-08 and 10, got 'abc'" in dialog.problem.text()
    vary(qtbot, dialog, "lr", "1e-4:1e-1:log")
    assert "Grid search: a grid needs listed values" in dialog.problem.text()
    dialog.form.set_method("tpe")
    assert dialog.start_button.isEnabled() and not dialog.problem.isVisible()
    dialog.form.rows["optimizer"].check.setChecked(True)  # a choice: every one offered, to remove some
    vary(qtbot, dialog, "batch_size", "16,32")
    dialog.form.trials.setValue(3)
    assert dialog.form.arguments() == [
        "--set", "optimizer=SGD, Adam, AdamW, RMSprop", "--set", "lr=1e-4:1e-1:log", "--set", "batch_size=16,32",
        "--method", "tpe", "--epochs", "1", "--jobs", "1", "--trials", "3"]
    dialog.form.rows["optimizer"].field.clear()
    assert "optimizer: list its values" in dialog.problem.text() and not dialog.start_button.isEnabled()
    unsaved = dialogs(None, settings)
    vary(qtbot, unsaved, "lr", "0.01")
    assert not unsaved.start_button.isEnabled() and "Save the network first" in unsaved.location.text()


def test_stop_leaves_a_resumable_sweep_and_closing_stops_a_resumed_one(qtbot, dialogs, network):
    path, settings = network
    dialog = dialogs(path, settings)
    vary(qtbot, dialog, "lr", "0.01, 0.02")
    dialog.form.epochs.setValue(500)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(s.startswith("running, epoch") for s in cells(dialog, "Status")),
                    timeout=SWEEP_SECONDS)  # the running trial's epochs, read from its metrics
    with qtbot.waitSignal(dialog.sweepFinished, timeout=SWEEP_SECONDS) as ended:
        qtbot.mouseClick(dialog.stop_button, Qt.MouseButton.LeftButton)
        assert dialog.stop_button.text() == "Stopping…"
    assert ended.args == [130] and "Resume continues it" in dialog.status.text()
    folder = dialog.folder
    states = [t.state for t in load_sweep(folder).trials]
    assert states and "running" not in states and "stopped" in states
    assert not processes_naming(folder) and not processes_naming(str(path))  # no worker, no coordinator
    assert dialog.resume_button.isEnabled()

    qtbot.mouseClick(dialog.resume_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "running" in [t.state for t in load_sweep(folder).trials], timeout=SWEEP_SECONDS)
    dialog.ask_stop = lambda: True
    dialog.reject()
    assert dialog.isVisible()  # until the sweep has stopped
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=SWEEP_SECONDS)
    assert not dialog.running and dialog.exit_code == 130 and not processes_naming(folder)
    assert "running" not in [t.state for t in load_sweep(folder).trials]
    assert "--resume" in dialog.log.toPlainText()


def test_the_command_lines_errors_are_shown_in_the_dialog(qtbot, dialogs, network, monkeypatch):
    path, settings = network
    dialog = dialogs(path, settings)
    vary(qtbot, dialog, "lr", "0.01")
    path.write_text("{not a network")
    with qtbot.waitSignal(dialog.sweepFinished, timeout=SWEEP_SECONDS) as ended:
        dialog.start()
    assert ended.args == [2] and "The sweep failed (exit code 2)" in dialog.status.text()
    assert f"{path}" in dialog.status.text() and dialog.log.isVisible()  # the error names the file
    assert dialog.folder is None and not dialog.resume_button.isEnabled() and dialog.start_button.isEnabled()
    monkeypatch.setattr("sys.executable", str(path.parent / "no-python"))
    with qtbot.waitSignal(dialog.sweepFinished, timeout=10_000) as ended:
        dialog.start()
    assert ended.args == [-1] and "could not start" in dialog.status.text() and "no-python" in dialog.status.text()
    assert not dialog.running and dialog.start_button.isEnabled()


def test_the_train_menu_opens_the_sweep_of_the_saved_network(workbench_window, network, qtbot):
    path, _settings = network
    window, panel = workbench_window, workbench_window.training_panel
    assert panel.sweep_action in window.train_menu.actions()
    assert window.open_file(str(path))
    panel.sweep_action.trigger()
    dialog = panel.sweep_dialog
    assert dialog.isVisible() and dialog.network_path == str(path) and dialog.settings == window.document.settings
    panel.sweep_action.trigger()
    assert panel.sweep_dialog is dialog  # the same file and settings: the same dialog, as it was left
    assert window.controller.set_settings({"lr": 0.02}) is None
    panel.sweep_action.trigger()
    assert panel.sweep_dialog is not dialog and panel.sweep_dialog.settings["lr"] == 0.02
    assert "changes that are not saved" in panel.sweep_dialog._unsaved_note()  # said while the sweep runs

    panel.tabs.setCurrentWidget(panel.runs_view)
    assert panel.runs_view.runs == []
    train_run(window.document, path, epochs=1)  # as a trial's run would appear
    panel.sweep_dialog.runsChanged.emit()
    assert len(panel.runs_view.runs) == 1


def test_a_running_trials_run_cannot_be_trashed(workbench_window, network, qtbot):
    path, _settings = network
    panel = workbench_window.training_panel
    assert workbench_window.open_file(str(path))
    dialog = panel.open_sweep_dialog()
    vary(qtbot, dialog, "lr", "0.01")
    dialog.form.epochs.setValue(500)
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: any(s.startswith("running, epoch") for s in cells(dialog, "Status")),
                    timeout=SWEEP_SECONDS)
    (trial,) = dialog.sweep.trials
    panel.refresh_runs()
    panel.runs_view.select(os.path.basename(trial.run))
    assert panel.runs_view.selected_run() is not None and not panel.runs_view.buttons["trash"].isEnabled()
    with qtbot.waitSignal(dialog.sweepFinished, timeout=SWEEP_SECONDS):
        dialog.stop()
    panel.refresh_runs()
    panel.runs_view.select(os.path.basename(trial.run))
    assert panel.runs_view.buttons["trash"].isEnabled()  # stopped: it can go
