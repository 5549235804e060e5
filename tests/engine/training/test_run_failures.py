"""Every exception in a run ends it in a known state: run.json says failed with the message, the checkpoint holds
the last completed step, and a full disk while writing the checkpoint keeps the previous one whole."""

import errno
import os

import numpy as np
import pytest

import engine
import engine.nn as nn
import engine.serialization as serialization
from engine.training import Trainer, load_run
from engine.training.runs import Run

BATCHES = [(engine.randn(8, 4), engine.randint(0, 3, (8,))) for _ in range(4)]


class Failing:
    """A loader whose batch ``at`` (counted over all epochs, from 0) raises ``error``."""

    def __init__(self, at, error):
        self.at, self.error, self.served = at, error, 0

    def __len__(self):
        return len(BATCHES)

    def __iter__(self):
        for batch in BATCHES:
            if self.served == self.at:
                raise self.error
            self.served += 1
            yield batch


def make(loader=BATCHES, loss_fn=None):
    engine.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    optimizer = engine.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    return Trainer(model, optimizer, loss_fn or nn.CrossEntropyLoss(), loader, seed=0)


def run_in(folder, trainer):
    run = Run(str(folder))
    run.save()
    trainer.callbacks = run.callbacks()
    return run


@pytest.mark.parametrize("error, message", [
    (RuntimeError("the loader broke"), "RuntimeError: the loader broke"),
    (OSError(errno.EIO, "Input/output error", "/data/img3.png"), "/data/img3.png: Input/output error"),
])
def test_an_error_mid_epoch_fails_the_run_and_keeps_the_last_step(tmp_path, error, message):
    trainer = make(Failing(6, error))
    run_in(tmp_path, trainer)
    info = trainer.fit(3)
    assert (info.status, info.message, info.epochs_completed, info.global_step) == ("failed", message, 1, 6)
    run = load_run(tmp_path)
    assert (run.status, run.message, run.epochs_completed, run.global_step) == ("failed", message, 1, 6)
    state = engine.load(tmp_path / "checkpoint.llw")
    assert (state["epoch"], state["epoch_step"], state["global_step"]) == (1, 2, 6)
    np.testing.assert_array_equal(state["model"]["0.weight"].numpy(), trainer.model[0].weight.detach().numpy())


def test_a_full_disk_while_checkpointing_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    trainer = make()
    run_in(tmp_path, trainer)
    write_zip = serialization._write_zip
    writes = []

    def full_after_the_first(fh, manifest, blobs):
        writes.append(1)
        if len(writes) > 1:
            fh.write(b"partial")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        write_zip(fh, manifest, blobs)

    monkeypatch.setattr(serialization, "_write_zip", full_after_the_first)
    info = trainer.fit(3)
    path = tmp_path / "checkpoint.llw"
    assert info.status == "failed"
    assert info.message == f"{path}: the checkpoint could not be written (No space left on device); the previous " \
                           "one is kept"
    assert load_run(tmp_path).status == "failed" and load_run(tmp_path).message == info.message
    assert sorted(os.listdir(tmp_path)) == ["checkpoint.llw", "metrics.csv", "run.json", "steps.jsonl"]
    monkeypatch.undo()
    resumed = make()
    resumed.load_checkpoint(path)  # whole: the first epoch's
    assert (resumed.epoch, resumed.global_step) == (1, 4)
    assert resumed.fit(3).status == "finished"


def test_divergence_names_the_input_or_the_loss_op_when_no_layer_went_non_finite():
    bad = [(engine.full((8, 4), float("nan")), engine.zeros(8, dtype=engine.int64))]
    info = make(bad).fit(1)
    assert info.status == "failed" and "; the input batch is not finite." in info.message

    def infinite_loss(outputs, targets):
        return (outputs - outputs).sum() + float("inf")

    info = make(loss_fn=infinite_loss).fit(1)
    assert "the loss became inf at step 1 of epoch 1 (global step 1); the first op to make a value that is not " \
           "finite is add (forward) outside any module: it made [scalar] 1 inf of 1" in info.message


def test_an_interrupt_in_the_middle_of_an_update_keeps_the_previous_checkpoint(tmp_path):
    trainer = make()
    run_in(tmp_path, trainer)
    step = trainer.optimizer.step
    calls = []

    def interrupted_sixth_update():
        calls.append(1)
        step()
        if len(calls) == 6:  # the weights are updated, the counters not yet
            raise KeyboardInterrupt

    trainer.optimizer.step = interrupted_sixth_update
    first_epoch = None

    class KeepFirst:
        def on_epoch_end(self, trainer, info):
            nonlocal first_epoch
            first_epoch = (tmp_path / "checkpoint.llw").read_bytes()

    trainer.callbacks.append(KeepFirst())
    info = trainer.fit(3)
    assert info.status == "failed" and info.message.startswith("interrupted; ")
    assert "checkpoint.llw: not written: the run was interrupted in the middle of an update" in info.message
    assert (tmp_path / "checkpoint.llw").read_bytes() == first_epoch
    assert load_run(tmp_path).status == "failed"


def test_a_full_disk_while_logging_steps_names_the_log(tmp_path):
    trainer = make()
    run = run_in(tmp_path, trainer)
    metrics = trainer.callbacks[0]

    class FullDisk:
        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            pass

        def close(self):
            pass

    class SwapInFullDisk:
        def on_fit_start(self, trainer):
            metrics._steps.close()
            metrics._steps = FullDisk()

    trainer.callbacks.insert(1, SwapInFullDisk())
    info = trainer.fit(2)
    assert info.message == f"{run.steps_path}: cannot write the file: No space left on device" and info.global_step == 1
    assert load_run(tmp_path).message == info.message
    assert engine.load(tmp_path / "checkpoint.llw")["global_step"] == 1
