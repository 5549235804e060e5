"""The pre-flight dialog: the layer table with the warning cells coloured, the warnings in words, row clicks
naming the layer, the numerical gradient check's pass/fail per layer (FAIL with a broken backward), no check
while training runs, its thread joined on close, and the panel's toolbar action opening it."""

import threading

import numpy as np
import pytest
from PySide6.QtCore import Qt

import engine
from engine import nn
from engine.graph import Network
from engine.graph.templates import load_template
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


def deep_sigmoid(depth=4):
    network = Network("deep sigmoid")
    previous = network.add_node("Input", {"shape": (3, 32, 32), "dataset": "CIFAR-10"}, name="input").id
    chain = [("Flatten", {}, "flatten")]
    for k in range(1, depth + 1):
        chain += [("Linear", {"out_features": 32}, f"fc{k}"), ("Sigmoid", {}, f"sigmoid{k}")]
    for kind, params, name in [*chain, ("Linear", {"out_features": 10}, "head"), ("Output", {}, "output")]:
        node = network.add_node(kind, params, name=name)
        network.connect(previous, node.id)
        previous = node.id
    network.set_settings({"batch_size": 16})
    return network


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
        dialog.table.cellClicked.emit(2, 0)
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


def test_no_check_while_training_and_the_thread_is_joined_on_close(qtbot):
    busy = open_dialog(qtbot, load_template("lenet_cifar10"), is_busy=lambda: True)
    assert not busy.running and "training run is in progress" in busy.status.text()
    busy.close()
    dialog = open_dialog(qtbot, load_template("resnet_cifar10"))
    assert dialog.running
    dialog.close()
    assert not dialog.running
    assert not [t for t in threading.enumerate() if t.name == "layerlab-preflight"]


def test_the_panel_action_opens_the_dialog_and_forwards_row_clicks(qtbot, make_panel):
    panel = make_panel(deep_sigmoid())
    assert panel.preflight_action in panel.toolbar.actions()
    panel.preflight_action.trigger()
    dialog = panel.findChild(PreflightDialog)
    finished(qtbot, dialog)
    with qtbot.waitSignal(panel.layerActivated) as clicked:
        dialog.table.cellClicked.emit(2, 1)
    assert clicked.args == ["fc1"]
    dialog.close()
    panel.preflight_action.trigger()
    assert panel.findChild(PreflightDialog) is dialog and dialog.running  # shown again: checked again
    finished(qtbot, dialog)
    dialog.close()
