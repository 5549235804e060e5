"""The learning-rate finder dialog: opened from the training panel, it sweeps in a thread and draws the curve, the
suggestions and the update ratios; Use sets the learning rate as one undoable edit; Run again clears the last
sweep's marks; Stop ends the sweep, closing drops it; no sweep while a training run is in progress and no run
while a sweep is; opening another network closes it; bad input is shown in the dialog."""

import math
import threading

import numpy as np
import pytest
from panel_support import wait_idle

from engine.graph import save_network
from engine.graph.templates import load_template
from gui.training.lr_finder_dialog import LRFinderDialog
from gui.workbench import create_window


def sweep_threads():
    return [t for t in threading.enumerate() if t.name == "layerlab-lr-finder" and t.is_alive()]


def points(item):
    x, _ = item.getData()
    return 0 if x is None else len(x)


def gone(qtbot, job):
    """The job was told to stop and its thread ends."""
    assert job.stop_event.is_set()
    qtbot.waitUntil(lambda: not job.thread.is_alive(), timeout=20000)


@pytest.fixture
def window(qtbot, tmp_path):
    win = create_window(recovery_dir=str(tmp_path / "recovery"))
    win.ask_save_changes = lambda: "discard"
    qtbot.addWidget(win)
    win.show()
    yield win
    win.training_panel.shutdown()
    assert not sweep_threads()


@pytest.fixture
def dialogs(qtbot):
    made = []

    def make(document, **kwargs):
        dialog = LRFinderDialog(document, **kwargs)
        qtbot.addWidget(dialog)
        made.append(dialog)
        return dialog

    yield make
    for dialog in made:
        dialog.shutdown()
    assert not sweep_threads()


def test_find_lr_draws_the_sweep_and_use_is_one_undoable_edit(window, qtbot, tmp_path, fashion_doc):
    path = tmp_path / "mlp.llnet"
    save_network(fashion_doc, path)  # 512 Fashion-MNIST images, batch 32: the sweep cycles them
    assert window.open_file(str(path))
    panel = window.training_panel
    actions = panel.actions()
    assert actions.index(panel.preflight_action) == actions.index(panel.find_lr_action) + 1
    assert panel.find_lr_action.isEnabled() and panel.start_action.isEnabled()
    panel.find_lr_action.trigger()
    dialog = panel.lr_finder
    assert not panel.start_action.isEnabled()  # a run would have its random draws rewound by the sweep
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert panel.start_action.isEnabled()
    result = dialog.result
    assert not sweep_threads() and dialog.run_button.text() == "Run again"
    n = len(result.lrs)
    x, y = dialog.loss_smooth.getData()  # x as drawn on the log axis
    np.testing.assert_allclose(x, np.log10(result.lrs), rtol=1e-12)
    np.testing.assert_array_equal(y, result.smoothed_losses)
    assert len(dialog.ratio_curves) == 3 and [label.text for _, label in dialog.ratio_legend.items] == [
        "fc1", "fc2", "fc3"]
    assert 0 < len(dialog.ratio_curves[0].getData()[0]) <= n
    assert [points(marker) for marker in dialog.markers.values()] == [1, 1, 1]
    x, y = dialog.markers["valley"].getData()
    assert x == pytest.approx([math.log10(result.suggestion)])
    assert y[0] == pytest.approx(result.smoothed_loss_at(result.suggestion))
    assert dialog.suggestion_line.isVisible()
    assert dialog.suggestion_line.value() == pytest.approx(math.log10(result.suggestion))
    assert f"Suggested learning rate: {result.suggestion:.3g}" in dialog.status.text()
    lr = dialog.suggested_lr()
    assert lr == float(f"{result.suggestion:.3g}") and dialog.use_button.text() == f"Use {lr:g}"
    before = window.document.settings["lr"]
    assert before != lr
    dialog.use_button.click()
    assert window.document.settings["lr"] == lr
    assert panel.settings_form.editors["lr"].value() == pytest.approx(lr)
    assert f"now {lr:g}" in dialog.status.text()
    window.undo_action.trigger()
    assert window.document.settings["lr"] == before
    window.redo_action.trigger()
    assert window.document.settings["lr"] == lr

    dialog.run_button.click()  # Run again: the last sweep's marks go at once
    assert [points(marker) for marker in dialog.markers.values()] == [0, 0, 0]
    assert not dialog.suggestion_line.isVisible() and not dialog.use_button.isEnabled()
    job = dialog.jobs.job
    window.document.assign(load_template("lenet_cifar10"))  # another network opened: the old sweep is no use
    assert not dialog.isVisible()
    gone(qtbot, job)
    qtbot.waitUntil(panel.start_action.isEnabled, timeout=5000)
    assert panel.open_lr_finder() is dialog  # one dialog, shown again: a new sweep of the network now open
    assert dialog.jobs.active and dialog.steps == []
    job = dialog.jobs.job
    dialog.close()
    gone(qtbot, job)


def test_stop_run_again_and_close_end_the_thread(dialogs, qtbot, fashion_doc):
    fashion_doc.set_settings({"batch_size": 8})
    dialog = dialogs(fashion_doc)
    dialog.steps_field.setValue(1000)
    dialog.end_field.setText("0.01")  # no divergence: it would run all 1000 steps
    dialog.show()
    qtbot.waitUntil(lambda: dialog._shown_steps >= 3, timeout=20000)
    assert dialog.run_button.text() == "Stop" and sweep_threads()
    assert dialog.status.text().startswith("Step ")
    dialog.run_button.click()
    assert dialog.jobs.job.stop_event.is_set() and not dialog.run_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.result is not None, timeout=20000)
    assert not sweep_threads()
    result = dialog.result
    assert result.stop_reason == "stopped" and 3 <= len(result.lrs) < 1000
    assert "the sweep was stopped" in dialog.status.text() and dialog.run_button.text() == "Run again"
    dialog.run_button.click()  # again, then closed while it runs
    assert dialog.result is None and not dialog.use_button.isEnabled()
    qtbot.waitUntil(lambda: dialog._shown_steps >= 1, timeout=20000)
    job = dialog.jobs.job
    dialog.close()
    gone(qtbot, job)
    assert dialog.result is None  # the dropped sweep's result is not shown


def test_no_sweep_while_a_run_trains(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"epochs": 20})
    panel = make_panel(fashion_doc, slow=0.02)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: panel.controller.state == "running", timeout=20000)
    assert not panel.find_lr_action.isEnabled() and not panel.preflight_action.isEnabled()
    dialog = panel.open_lr_finder()  # as an LR finder left open would, on Run again
    assert "training run is in progress" in dialog.status.text()
    assert dialog.jobs.job is None and not sweep_threads()
    panel.stop_action.trigger()
    wait_idle(qtbot, panel)
    assert panel.find_lr_action.isEnabled() and panel.preflight_action.isEnabled()
    dialog.close()


def test_bad_input_is_shown_in_the_dialog(dialogs, qtbot, fashion_doc, tmp_path):
    dialog = dialogs(fashion_doc)
    dialog.start_field.setText("1")
    dialog.end_field.setText("0.1")
    dialog.show()
    assert "the start learning rate (1) must be below the end (0.1)" in dialog.status.text()
    assert dialog.jobs.job is None and not sweep_threads()

    broken = load_template("lenet_cifar10")
    broken.set_params(broken.node_by_name("fc1").id, {"in_features": 123})
    dialog = dialogs(broken)
    dialog.show()
    assert dialog.status.text().startswith("Cannot sweep: the network 'LeNet (CIFAR-10 tutorial)' has 1 error")

    missing = load_template("lenet_cifar10")
    missing.set_settings({"data_dir": str(tmp_path / "nowhere")})
    dialog = dialogs(missing)
    dialog.show()
    qtbot.waitUntil(lambda: not dialog.jobs.active, timeout=10000)
    assert dialog.status.text().startswith("The dataset is missing")
    assert dialog.result is None and not dialog.use_button.isEnabled()
