"""The pre-flight dialog: the layer table with the warning cells coloured, the warnings in words, row clicks
naming the layer, the numerical gradient check's pass/fail per layer (FAIL with a broken backward), no check
while training runs and no run while a check is, closing stopping the check (between the layers of the gradient
check), the panel's toolbar action and Train menu entry opening it, and opening another network closing it."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt
from sample_networks import deep_sigmoid

import engine
from engine import nn
from engine.graph import save_network
from engine.graph.templates import load_template
from engine.training.imported_run import save_imported_run
from engine.training.recipe import DataSplits
from engine.utils.data import TensorDataset
from gui import theme
from gui.training import preflight_dialog
from gui.training.preflight_dialog import GRADCHECK_COLUMN, PreflightDialog


@pytest.fixture(autouse=True)
def noise_data(monkeypatch):
    """32 CIFAR-shaped noise images with labels 0..9 instead of the dataset on disk."""
    rng = np.random.default_rng(0)
    images = engine.tensor(rng.standard_normal((32, 3, 32, 32)).astype(np.float32))
    data = DataSplits(TensorDataset(images, engine.tensor(np.arange(32) % 10)), None, None, tuple("abcdefghij"))
    loads = []
    monkeypatch.setattr(preflight_dialog, "load_data", lambda network: loads.append(network) or data)
    return loads



def finished(qtbot, dialog):
    qtbot.waitUntil(lambda: not dialog.running, timeout=30000)


def open_dialog(qtbot, document, **kwargs):
    dialog = PreflightDialog(document, **kwargs)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def cell(dialog, name, column):
    row = next(r for r in range(dialog.table.rowCount()) if dialog.table.item(r, 0).text() == name)
    return dialog.table.item(row, column)


def click_row(qtbot, dialog, name, column):
    """A real mouse click on the cell of layer ``name`` in ``column``."""
    rect = dialog.table.visualItemRect(cell(dialog, name, column))
    assert rect.isValid() and dialog.table.viewport().rect().contains(rect.center())
    qtbot.mouseClick(dialog.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def preflight_threads():
    return [t for t in threading.enumerate() if t.name == "layerlab-preflight" and t.is_alive()]


def gone(qtbot, job):
    """The job was told to stop and its thread ends."""
    assert job.stop_event.is_set()
    qtbot.waitUntil(lambda: not job.thread.is_alive(), timeout=20000)


def test_vanishing_gradients_are_coloured_and_explained(qtbot, noise_data):
    dialog = open_dialog(qtbot, deep_sigmoid())
    finished(qtbot, dialog)
    assert [dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())][:3] == ["input", "flatten", "fc1"]
    amber = theme.canvas_style(theme.current_theme()).warning
    assert cell(dialog, "fc1", 6).background().color().rgb() == amber.rgb()
    assert cell(dialog, "head", 6).background().style() == Qt.BrushStyle.NoBrush  # no brush: not flagged
    assert cell(dialog, "fc1", 4).background().style() == Qt.BrushStyle.NoBrush  # the activations are fine
    text = dialog.warnings.toPlainText()
    assert "Gradients vanish: the gradient reaching 'fc1'" in text and "sigmoid" in text
    assert "1 warning" in dialog.status.text()
    with qtbot.waitSignal(dialog.layerActivated) as clicked:
        click_row(qtbot, dialog, "fc1", 0)
    assert clicked.args == ["fc1"]
    dialog.run_check()
    finished(qtbot, dialog)
    assert len(noise_data) == 1  # the dataset is loaded once while its settings stay the same
    dialog.close()


def test_the_gradient_check_shows_pass_per_layer_and_fail_for_a_broken_backward(qtbot, monkeypatch):
    document = load_template("lenet_cifar10")
    dialog = open_dialog(qtbot, document)
    finished(qtbot, dialog)
    assert "No warnings" in dialog.status.text() and "No warnings" in dialog.warnings.toPlainText()
    assert dialog.gradcheck_button.isEnabled()
    dialog.gradcheck_button.click()
    finished(qtbot, dialog)
    assert cell(dialog, "conv1", GRADCHECK_COLUMN).text().startswith("pass")
    assert cell(dialog, "relu1", GRADCHECK_COLUMN).text() == ""  # no parameters: nothing to check
    assert "agrees with the numerical gradients in every layer" in dialog.status.text()
    original = nn.Linear.forward
    monkeypatch.setattr(nn.Linear, "forward", lambda self, x: (lambda y: y + 0.01 * (y - y.detach()))(
        original(self, x)))
    dialog.run_check()
    finished(qtbot, dialog)
    assert cell(dialog, "conv1", GRADCHECK_COLUMN).text() == ""  # a new check clears the old verdicts
    dialog.gradcheck_button.click()
    finished(qtbot, dialog)
    assert cell(dialog, "fc3", GRADCHECK_COLUMN).text().startswith("FAIL")
    assert "5 layers FAILED" in dialog.status.text()
    dialog.close()


def test_no_check_while_training_and_closing_stops_the_check(qtbot, monkeypatch):
    busy = open_dialog(qtbot, load_template("lenet_cifar10"), is_busy=lambda: True)
    assert not busy.running and busy.jobs.job is None and "training run is in progress" in busy.status.text()
    busy.close()

    training = [False]
    dialog = open_dialog(qtbot, load_template("lenet_cifar10"), is_busy=lambda: training[0])
    finished(qtbot, dialog)
    training[0] = True  # a run started while the dialog was open: no gradient check now
    dialog.gradcheck_button.click()
    assert dialog.jobs.job is None and "training run is in progress" in dialog.status.text()
    training[0] = False
    reports = []
    real = preflight_dialog.check_gradients
    monkeypatch.setattr(preflight_dialog, "check_gradients", lambda *a, **k: reports.append(real(*a, **k)))
    dialog.gradcheck_button.click()
    job = dialog.jobs.job
    dialog.close()  # at once: the check stops before its next layer, and what it found is dropped
    gone(qtbot, job)
    assert len(reports) == 1 and len(reports[0].layers) < 5  # LeNet has 5 layers with weights
    assert cell(dialog, "conv1", GRADCHECK_COLUMN).text() == ""
    assert not dialog.running and not preflight_threads()


def test_the_panel_action_opens_the_dialog_and_forwards_row_clicks(qtbot, make_panel, tmp_path):
    document = deep_sigmoid()
    path = tmp_path / "deep.llnet"
    save_network(document, path)
    weights = {k: v.numpy() for k, v in document.build().state_dict().items()}
    save_imported_run(document, weights, path, "deep.onnx")  # a run to continue, without training one
    panel = make_panel(document, path=str(path))
    panel.refresh_runs()
    panel.runs_view.tree.setCurrentItem(panel.runs_view.tree.topLevelItem(0))
    assert panel.preflight_action in panel.toolbar.actions() and panel.preflight_action in panel.actions()
    assert panel.start_action.isEnabled() and panel.continue_action.isEnabled()
    panel.preflight_action.trigger()
    dialog = panel.findChild(PreflightDialog)
    assert dialog.running and not panel.start_action.isEnabled() and not panel.continue_action.isEnabled()
    panel.start()  # as Ctrl+Enter or the runs list's Continue would
    panel.continue_run()
    assert not panel.controller.busy and "pre-flight check is running" in panel.banner.text()
    finished(qtbot, dialog)
    qtbot.waitUntil(panel.start_action.isEnabled, timeout=5000)
    assert panel.continue_action.isEnabled()
    with qtbot.waitSignal(panel.layerActivated) as clicked:
        click_row(qtbot, dialog, "fc1", 1)
    assert clicked.args == ["fc1"]
    dialog.close()
    panel.preflight_action.trigger()
    assert panel.findChild(PreflightDialog) is dialog and dialog.running  # shown again: checked again
    job = dialog.jobs.job
    document.assign(load_template("lenet_cifar10"))  # another network opened: its check is of the old one
    assert not dialog.isVisible()
    gone(qtbot, job)
    qtbot.waitUntil(panel.start_action.isEnabled, timeout=5000)
    assert not preflight_threads()


def test_closing_during_a_data_load_does_not_wait_for_it(qtbot, make_panel, monkeypatch, noise_data):
    """The load cannot be interrupted: closing leaves it to end on its own, Start stays off until it has, and a
    check asked for meanwhile waits for it."""
    loading = threading.Event()
    data = preflight_dialog.load_data(None)
    monkeypatch.setattr(preflight_dialog, "load_data", lambda network: loading.wait(20) and data)
    panel = make_panel(deep_sigmoid())
    panel.preflight_action.trigger()
    dialog = panel.findChild(PreflightDialog)
    job = dialog.jobs.job
    dialog.close()  # returns while the load goes on
    assert job.stop_event.is_set() and job.thread.is_alive() and not dialog.running
    assert not panel.start_action.isEnabled()
    panel.preflight_action.trigger()  # opened again: its check waits for the dropped one's thread
    assert dialog.running and dialog.jobs.job is job
    loading.set()
    finished(qtbot, dialog)
    assert not job.thread.is_alive() and dialog.report is not None
    qtbot.waitUntil(panel.start_action.isEnabled, timeout=5000)
    dialog.close()
    assert not preflight_threads()
