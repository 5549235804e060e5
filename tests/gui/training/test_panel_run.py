"""A whole run driven through the panel's own actions: start, pause, single steps, resume, stop, then the
evaluation, prediction, exports and runs that follow; closing mid-run; a run that goes non-finite."""

import csv
import math
import time
from pathlib import Path

import numpy as np
import pytest
from panel_support import training_threads, wait_idle
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMainWindow

from engine.graph import save_network
from engine.graph.export import load_weights
from engine.graph.templates import load_template
from engine.training.imported_run import save_imported_run
from engine.training.runs import list_runs, load_run
from engine.vision.datasets import FashionMNIST


def test_start_pause_step_resume_stop_then_evaluate_and_export(make_panel, fashion_doc, qtbot, tmp_path):
    panel = make_panel(fashion_doc, slow=0.02)
    states = []
    panel.runningChanged.connect(states.append)
    c = panel.controller
    assert [a.text() for a in panel.actions()][:6] == ["Start", "Pause", "Resume", "Step", "Stop", "Continue"]
    assert panel.start_action.shortcut().toString() == "Ctrl+Return"

    panel.start_action.trigger()
    assert states == [True] and not panel.settings_form.isEnabled()
    panel.pause_action.trigger()  # before the first step: the data may still be loading
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=20000)
    assert len(c.history) == 0 and panel.step_action.isEnabled() and not panel.pause_action.isEnabled()

    panel.step_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) == 1)
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) == 2)
    qtbot.wait(150)
    assert len(c.history) == 2  # still paused after the single steps
    counts = panel.plots.point_counts()
    assert counts["loss"] == 2 and counts["lr"] == 2 and counts["grad:fc1"] == 2
    assert "Epoch 1/2" in panel.progress.text and "step 2/16" in panel.progress.text

    panel.resume_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) >= 6)
    panel.stop_action.trigger()
    wait_idle(qtbot, panel)
    assert states == [True, False] and panel.settings_form.isEnabled()
    assert c.last_end.status == "stopped" and 6 <= c.last_end.global_step < 32
    assert not training_threads()

    # the run folder has everything, and the evaluation view shows the test split
    run = load_run(c.run.folder)
    assert run.status == "stopped" and run.has_checkpoint and run.test_accuracy is not None
    ev = panel.evaluation_view
    assert ev.result is not None and ev.result.count == 10000
    assert ev.headline.text() == f"Test accuracy {100 * run.test_accuracy:.2f} %"
    assert ev.matrix.image.shape == (10, 10) and len(ev.cell_labels) == 100
    assert ev.gallery.count() == 60
    first = ev.gallery.view.item(0)
    assert first.text().split("\n")[1].startswith("✗")  # misclassified images come first

    # exports: weights back equal to the model's, plots and metrics
    dialog = panel.open_export_dialog()
    written = dialog.export("safetensors", str(tmp_path / "mlp"))
    assert written == [str(tmp_path / "mlp.safetensors")]
    loaded = load_weights(written[0])
    for key, value in c.setup.model.state_dict().items():
        np.testing.assert_array_equal(np.asarray(loaded[key]), value.numpy())
    code = dialog.export("pytorch", str(tmp_path / "mlp_code"))
    assert code[0].endswith(".py") and "class" in Path(code[0]).read_text()
    dialog.close()

    panel.export_plots_png(str(tmp_path / "plots.png"))
    assert Image.open(tmp_path / "plots.png").size[0] > 800
    panel.export_metrics_csv(str(tmp_path / "metrics.csv"))
    with open(tmp_path / "metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(c.history) and {"loss", "lr", "grad_norm_fc1", "val_accuracy"} <= set(rows[0])
    assert float(rows[0]["loss"]) == pytest.approx(c.history.column("loss")[0])


def test_resume_right_after_a_step_stays_running_and_pause_still_works(make_panel, fashion_doc, qtbot):
    """The trainer reports each wait after a single step; a report still queued when the user resumes must not
    put the panel back to "paused" while the trainer runs (Pause was then refused, and Resume did nothing)."""
    fashion_doc.set_settings({"epochs": 20})
    panel = make_panel(fashion_doc, slow=0.02)
    c = panel.controller
    panel.start_action.trigger()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=60000)
    trainer = c.worker.setup.trainer
    panel.step_action.trigger()
    deadline = time.monotonic() + 30
    while not (trainer.global_step == 1 and trainer.status == "paused") and time.monotonic() < deadline:
        time.sleep(0.005)  # no Qt events: the trainer's report of its wait stays queued
    panel.resume_action.trigger()
    qtbot.wait(400)  # the queue is drained
    assert c.state == "running" and panel.pause_action.isEnabled()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: trainer.status == "paused", timeout=20000)


def test_rates_and_eta_count_running_time_only(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"epochs": 20})  # far more steps than the test watches: the run cannot end first
    panel = make_panel(fashion_doc, slow=0.03)
    c = panel.controller  # generous waits: loading Fashion-MNIST takes long on a busy machine
    started = time.perf_counter()
    panel.start_action.trigger()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=60000)
    qtbot.wait(600)
    panel.step_action.trigger()  # one step after a long pause: no rate, no ETA, no elapsed time
    qtbot.waitUntil(lambda: len(c.history) == 1, timeout=20000)
    assert "— img/s" in panel.progress.text and "ETA —" in panel.progress.text
    assert c.elapsed() == 0.0 and "elapsed 0:00" in panel.progress.text

    panel.resume_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) >= 10, timeout=60000)
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.worker.setup.trainer.status == "paused", timeout=60000)
    rate_before, elapsed_before = c.progress.images_per_second, c.elapsed()
    qtbot.wait(2000)
    assert c.elapsed() == elapsed_before
    panel.resume_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) >= 20, timeout=60000)
    p = c.progress
    assert p.images_per_second > 0.5 * rate_before  # the step after the pause was not slowed by it
    seconds = 32 / c.history.column("images_per_second")
    # no step's duration holds the 2 s paused (the first step also loads the compiled kernels, so it is left out)
    assert seconds[1:].max() < 0.5
    steps_left = p.epochs * 16 - ((p.epoch - 1) * 16 + p.step)
    assert p.eta == pytest.approx(steps_left * 32 / p.images_per_second)
    assert c.elapsed() < time.perf_counter() - started - 2.6  # both pauses left out


def test_prediction_of_an_image_file_after_a_run(make_panel, fashion_doc, qtbot, tmp_path):
    fashion_doc.set_settings({"epochs": 1})
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    test = FashionMNIST(None, train=False)
    image, label = test[0]
    path = tmp_path / "boot.png"
    image.save(path)
    top = panel.prediction_view.predict_file(str(path))
    assert len(top) == 5 and [n for n, _ in top] == [panel.prediction_view.names[k].text() for k in range(5)]
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and 0.2 < sum(probs) <= 1.0 + 1e-6
    assert top[0][0] == test.classes[label]  # an ankle boot, the easiest class

    (tmp_path / "notes.txt").write_text("not an image")
    assert panel.prediction_view.predict_file(str(tmp_path / "notes.txt")) == []
    assert "notes.txt" in panel.prediction_view.error.text()

    fashion_doc.assign(load_template("lenet_cifar10"))  # another network opened into the editor
    assert len(panel.controller.history) == 0 and panel.plots.point_counts()["loss"] == 0
    assert panel.evaluation_view.result is None and panel.evaluation_view.gallery.count() == 0
    assert panel.prediction_view.predictor is None and panel.settings_form.dataset.currentText() == "CIFAR-10"


def test_continue_from_the_checkpoint_and_overlay_two_runs(make_panel, fashion_doc, qtbot, tmp_path):
    path = tmp_path / "mlp.llnet"
    save_network(fashion_doc, path)
    fashion_doc.set_settings({"epochs": 1})
    panel = make_panel(fashion_doc, path=str(path))
    assert not panel.continue_action.isEnabled()
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    first = panel.controller.run
    assert first.folder.startswith(str(tmp_path / "mlp.runs"))
    assert panel.continue_action.isEnabled()

    fashion_doc.set_settings({"epochs": 2})
    panel.continue_action.trigger()
    wait_idle(qtbot, panel)
    again = load_run(first.folder)
    assert panel.controller.run.folder == first.folder
    assert again.epochs_completed == 2 and again.global_step == 32
    history = panel.controller.history
    assert len(history) == 32 and list(history.epoch_column("epoch")) == [1, 2]
    assert np.isnan(history.gradients.data[:16]).all() and np.isfinite(history.gradients.data[16:]).all()

    panel.start_action.trigger()  # a second run, to overlay
    wait_idle(qtbot, panel)
    runs = list_runs(str(path))
    assert len(runs) == 2
    view = panel.runs_view
    assert view.tree.topLevelItemCount() == 2
    view.set_checked([r.name for r in runs])
    assert sorted(view.overlay.drawn[0]) == sorted(r.name for r in runs)
    assert [len(plot.listDataItems()) for _widget, plot in view.overlay.plots] == [2, 2]

    view.tree.setCurrentItem(view.tree.topLevelItem(1))  # the older run: the continued one
    view.predict_button.click()
    assert panel.tabs.currentWidget() is panel.prediction_view
    assert panel.prediction_view.predictor.source == f"run {first.name}"
    assert panel.prediction_view.predictor.classes[0] == "T-shirt/top"


@pytest.mark.parametrize("in_main_window", [False, True])
def test_closing_the_window_mid_run_stops_and_joins_the_worker(make_panel, fashion_doc, qtbot, in_main_window):
    fashion_doc.set_settings({"epochs": 50})
    panel = make_panel(fashion_doc, slow=0.01)
    window = panel
    if in_main_window:
        window = QMainWindow()
        qtbot.addWidget(window)
        window.setCentralWidget(panel)
        window.show()
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: len(panel.controller.history) > 3, timeout=20000)
    assert training_threads() and panel.running
    window.close()
    qtbot.waitUntil(lambda: not training_threads(), timeout=5000)
    assert panel.controller.worker.run.status == "stopped"
    assert load_run(panel.controller.worker.run.folder).has_checkpoint


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way to NaN
def test_a_non_finite_loss_stops_the_run_with_its_message(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"optimizer": "SGD", "lr": 10.0, "momentum": 0.9})
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    end = panel.controller.last_end
    assert end.status == "failed" and "loss became" in end.message
    assert panel.plots.message.isVisible() and "lower learning rate" in panel.plots.message.text()
    assert panel.banner.isVisible()
    loss = panel.controller.history.column("loss")
    assert math.isnan(loss[-1]) and np.isfinite(loss[:-1]).all()  # the failed step is a gap
    assert panel.evaluation_view.result is None  # no evaluation of a diverged model


def test_a_network_with_errors_is_not_started(make_panel, fashion_doc):
    fc2 = fashion_doc.node_by_name("fc2")
    fashion_doc.set_params(fc2.id, {"in_features": 7})
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    assert not panel.controller.busy
    assert panel.banner.isVisible() and "Cannot train" in panel.banner.text() and "fc2" in panel.banner.text()


def test_a_run_without_checkpoint_is_fine_tuned_from_its_weights(make_panel, fashion_doc, qtbot, tmp_path):
    """An imported model's run has weights but no checkpoint: Continue starts a new run from those weights."""
    path = tmp_path / "mlp.llnet"
    save_network(fashion_doc, path)
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal(tuple(v.shape)).astype(np.float32)
               for k, v in fashion_doc.build().state_dict().items()}
    save_imported_run(fashion_doc, weights, path, "mlp.onnx")
    panel = make_panel(fashion_doc, path=str(path), slow=0.02)
    panel.refresh_runs()
    view = panel.runs_view
    view.tree.setCurrentItem(view.tree.topLevelItem(0))
    assert view.continue_button.text() == "Fine-tune from this run" and view.continue_button.isEnabled()
    assert panel.continue_action.isEnabled()

    c = panel.controller
    view.continue_button.click()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=20000)
    started = {k: v.numpy() for k, v in c.worker.setup.model.state_dict().items()}
    for key, array in weights.items():
        np.testing.assert_array_equal(started[key], array)
    panel.stop_action.trigger()
    wait_idle(qtbot, panel)
    assert c.run.folder != str(tmp_path / "mlp.runs" / "imported")
    assert load_run(tmp_path / "mlp.runs" / "imported").status == "finished"  # the imported run is untouched


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way to NaN
def test_a_diverged_run_offers_to_start_again_with_the_learning_rate_halved(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"optimizer": "SGD", "lr": 10.0, "momentum": 0.9, "epochs": 1})
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    bar = panel.recovery_bar
    assert bar.isVisible() and bar.run is None  # diverged in its first epoch: no checkpoint to rewind to
    assert "before its first checkpoint" in bar.label.text()
    assert [b.text() for b in bar.buttons] == ["The learning rate halved (5)", "Gradient clipping at norm 1"]
    qtbot.mouseClick(bar.buttons[0], Qt.LeftButton)
    assert fashion_doc.settings["lr"] == 5.0 and not bar.isVisible() and panel.controller.busy
    wait_idle(qtbot, panel)


def test_a_recovery_continues_the_run_from_its_checkpoint_with_the_change(make_panel, fashion_doc, qtbot):
    class StopAfterFirstEpoch:
        def on_epoch_end(self, trainer, info):
            trainer.stop()

    fashion_doc.set_settings({"epochs": 2})
    panel = make_panel(fashion_doc)
    panel.controller.extra_callbacks = (StopAfterFirstEpoch(),)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    run = load_run(panel.controller.run.folder)
    assert run.status == "stopped" and run.has_checkpoint and run.epochs_completed == 1
    clipping = []

    class Clipping:  # what the continued run's trainer really does
        def on_fit_start(self, trainer):
            clipping.append((trainer.clip_grad_norm, trainer.epoch))

    panel.controller.extra_callbacks = (Clipping(),)
    panel.recovery_bar.offer(run, run.network().settings)
    assert "Rewind to the last good checkpoint" in panel.recovery_bar.label.text()
    qtbot.mouseClick(panel.recovery_bar.buttons[1], Qt.LeftButton)  # gradient clipping
    wait_idle(qtbot, panel)
    assert clipping == [(1.0, 1)]  # from the checkpoint after epoch 1, clipping
    run = load_run(run.folder)
    assert run.status == "finished" and run.epochs_completed == 2
    assert run.network().settings["clip_grad_norm"] == 1.0 and fashion_doc.settings["clip_grad_norm"] == 0.0
