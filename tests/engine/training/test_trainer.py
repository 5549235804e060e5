"""The shared training loop: learning, control from another thread, checkpoints, non-finite losses,
gradient monitoring, callbacks and metrics."""

import csv
import threading
import time

import numpy as np
import pytest

import engine
import engine.nn as nn
from engine.training import (
    Checkpoint,
    EarlyStopping,
    GradientMonitor,
    MetricsLog,
    Trainer,
    accuracy,
    confusion_matrix,
    format_per_class,
    per_class_accuracy,
    topk_accuracy,
)


def blobs(n=256, classes=3, seed=0, batch=32):
    """Separable Gaussian blobs as a list of (inputs, labels) batches: a loader as far as Trainer cares."""
    centers = np.random.default_rng(1234).standard_normal((classes, 4)) * 3
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    x = (centers[labels] + rng.standard_normal((n, 4))).astype(np.float32)
    return [(engine.tensor(x[i:i + batch]), engine.tensor(labels[i:i + batch])) for i in range(0, n, batch)]


def make(init_seed=0, lr=0.1, dropout=0.0, **kw):
    engine.manual_seed(init_seed)
    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 3))
    opt = engine.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    return Trainer(model, opt, nn.CrossEntropyLoss(), blobs(), val_loader=blobs(seed=1), num_classes=3, **kw)


class Recorder:
    def __init__(self):
        self.events = []
        self.steps = []

    def on_fit_start(self, trainer):
        self.events.append("fit_start")

    def on_epoch_start(self, trainer, epoch):
        self.events.append(f"epoch_start {epoch}")

    def on_step_end(self, trainer, info):
        self.steps.append(info)

    def on_epoch_end(self, trainer, info):
        self.events.append(f"epoch_end {info.epoch}")

    def on_fit_end(self, trainer, info):
        self.events.append(f"fit_end {info.status}")


def test_learns_and_reports_events():
    rec = Recorder()
    trainer = make(callbacks=[rec])
    info = trainer.fit(5)
    assert info.status == "finished" and trainer.epoch == 5 and trainer.global_step == 40
    assert rec.events[0] == "fit_start" and rec.events[-1] == "fit_end finished"
    assert rec.events[1:3] == ["epoch_start 0", "epoch_end 0"]
    first, last = trainer.history[0], trainer.history[-1]
    assert last.train_loss < first.train_loss / 2 and last.val_accuracy > 0.9
    step = rec.steps[-1]
    assert step.step == 8 and step.steps_per_epoch == 8 and step.images_per_second > 0 and step.lr == 0.1
    result = trainer.evaluate(blobs(seed=1))
    assert result.count == 256 and result.confusion.sum() == 256 and result.accuracy == pytest.approx(last.val_accuracy)
    probs = trainer.predict(blobs(seed=1)[0][0])
    assert probs.shape == (32, 3) and np.allclose(probs.sum(1), 1, atol=1e-5)


def test_pause_step_resume_stop_from_another_thread():
    trainer = make()
    trainer.train_loader = trainer.train_loader * 50  # long enough to control
    started = threading.Event()
    count = []

    class Count:
        def on_step_end(self, trainer, info):
            count.append(info.global_step)
            started.set()

    trainer.callbacks.append(Count())
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("info", trainer.fit(3)))
    worker.start()
    assert started.wait(10)
    trainer.pause()
    time.sleep(0.2)
    assert trainer.status == "paused"
    frozen = len(count)
    time.sleep(0.2)
    assert len(count) == frozen
    trainer.step_once()
    deadline = time.time() + 5
    while len(count) < frozen + 1 and time.time() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    assert len(count) == frozen + 1  # exactly one more step
    weights = trainer.model[0].weight.detach().numpy().copy()
    trainer.resume()
    time.sleep(0.1)
    trainer.stop()
    worker.join(10)
    assert not worker.is_alive()
    assert result["info"].status == "stopped" and len(count) > frozen + 1
    assert not np.array_equal(weights, trainer.model[0].weight.detach().numpy())  # kept what it learned


def test_time_spent_paused_is_not_training_time():
    rec = Recorder()
    trainer = make(callbacks=[rec])
    trainer.pause()  # before the first step
    worker = threading.Thread(target=trainer.fit, args=(1,))
    worker.start()
    time.sleep(0.3)
    trainer.step_once()
    time.sleep(0.3)
    trainer.resume()
    worker.join(10)
    seconds = [step.batch_size / step.images_per_second for step in rec.steps]
    assert len(seconds) == 8 and max(seconds) < 0.2  # neither the single step nor the next one holds a pause
    assert trainer.history[0].seconds < 0.5


def test_checkpoint_resume_gives_the_same_parameters(tmp_path):
    straight = make(init_seed=3, dropout=0.3, seed=11)
    straight.fit(4)
    first = make(init_seed=3, dropout=0.3, seed=11, callbacks=[Checkpoint(tmp_path)])
    first.fit(2)
    resumed = make(init_seed=99, dropout=0.3, seed=0)  # different initial weights and seed: all come from the file
    resumed.load_checkpoint(tmp_path / "checkpoint.llw")
    assert resumed.epoch == 2 and resumed.seed == 11 and len(resumed.history) == 2
    resumed.fit(4)
    for a, b in zip(straight.model.parameters(), resumed.model.parameters()):
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    assert [h.train_loss for h in straight.history] == [h.train_loss for h in resumed.history]


def test_non_finite_loss_stops_with_the_step_and_layer():
    trainer = make(lr=1e6)
    info = trainer.fit(3)
    assert info.status == "failed" and trainer.status == "failed" and trainer.epoch == 0
    assert info.message.startswith("the loss became ") and f"at step {info.global_step + 1} of epoch 1" in info.message

    trainer = make()
    with engine.no_grad():
        trainer.model[3].bias[1] = float("nan")
    weights = trainer.model[0].weight.detach().numpy().copy()
    info = trainer.fit(1)
    assert info.message.startswith("the loss became nan at step 1 of epoch 1 (global step 1)")
    assert "the first op whose result is not finite is mm (forward) in layer '3' (Linear), and an input was " \
           "already not finite: 3.bias [3]" in info.message
    np.testing.assert_array_equal(trainer.model[0].weight.detach().numpy(), weights)  # no step with NaNs


def test_gradient_monitor_reports_norms_per_layer():
    trainer = make(monitor_gradients=True)
    seen = []
    grads_after = []

    class Watch:
        def on_gradients(self, trainer, norms):
            seen.append(dict(norms))
            grads_after.append({name: float(np.sqrt(sum(float((p.grad.numpy() ** 2).sum())
                                                           for p in layer.parameters())))
                                for name, layer in (("0", trainer.model[0]), ("3", trainer.model[3]))})

    trainer.callbacks.append(Watch())
    trainer.fit(1)
    assert list(seen[0]) == ["0", "3"] and len(seen) == 8
    for norms, expected in zip(seen, grads_after):
        for layer in ("0", "3"):
            assert norms[layer] == pytest.approx(expected[layer], rel=1e-5)


def test_monitors_register_no_hooks():
    trainer = make(monitor_gradients=True)
    trainer.fit(1)
    assert all(p._hooks is None for p in trainer.model.parameters())
    monitor = GradientMonitor(trainer.model)
    assert monitor.layers == ["0", "3"] and all(p._hooks is None for p in trainer.model.parameters())


def test_a_shared_layer_counts_its_whole_gradient():
    """A layer used twice gets two gradient contributions: its norm is that of their sum, as ``.grad`` holds."""
    engine.manual_seed(0)
    shared = nn.Linear(4, 4)
    model = nn.Sequential(shared, nn.Tanh(), shared)
    model(engine.randn(8, 4)).square().sum().backward()
    norms = GradientMonitor(model).collect()
    expected = np.sqrt(sum(float((p.grad.numpy().astype(np.float64) ** 2).sum()) for p in shared.parameters()))
    assert list(norms) == ["0"] and norms["0"] == pytest.approx(expected, rel=1e-6)


def test_metrics_log_and_early_stopping(tmp_path):
    stopper = EarlyStopping(monitor="train_loss", patience=1, min_delta=10.0)
    trainer = make(callbacks=[MetricsLog(tmp_path), stopper])
    info = trainer.fit(10)
    assert info.status == "stopped" and trainer.epoch == 2 and stopper.stopped_epoch == 1
    rows = list(csv.reader((tmp_path / "metrics.csv").read_text().splitlines()))
    assert rows[0][:3] == ["epoch", "train_loss", "train_accuracy"] and len(rows) == 3
    assert len((tmp_path / "steps.jsonl").read_text().splitlines()) == 16


def test_metrics():
    outputs = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.3, 0.3, 0.4], [0.2, 0.5, 0.3]])
    targets = np.array([1, 0, 1, 2])
    assert accuracy(outputs, targets) == 0.5
    assert topk_accuracy(outputs, targets, k=2) == 0.75
    cm = confusion_matrix(outputs.argmax(1), targets, 3)
    assert cm.tolist() == [[1, 0, 0], [0, 1, 1], [0, 1, 0]]
    np.testing.assert_allclose(per_class_accuracy(cm), [1.0, 0.5, 0.0])
    assert format_per_class(cm, ["plane", "car", "bird"]).splitlines()[0] == "Accuracy of plane : 100 %"
    with pytest.raises(ValueError, match="targets must lie in"):
        confusion_matrix([0], [5], 3)
