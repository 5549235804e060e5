"""The training worker when a run fails: the user gets one ErrorMessage, run.json says failed with the message,
the checkpoint holds the last completed step, and continuing a run from a checkpoint that does not fit is
refused before anything is loaded or written."""

import errno
import os

import pytest

import engine
from engine.graph.fileformat import network_to_json
from engine.training import load_run
from gui.training.worker import Done, ErrorMessage, Job, RunEnded, TrainingWorker

FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
pytestmark = pytest.mark.skipif(not os.path.isdir(FASHION_MNIST), reason="Debian's Fashion-MNIST is not installed")


class DiskFullAt:
    def __init__(self, global_step):
        self.global_step = global_step

    def on_step_end(self, trainer, info):
        if info.global_step == self.global_step:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/runs/steps.jsonl")


def run_worker(job):
    worker = TrainingWorker(job)
    worker.start()
    assert worker.join(60)
    messages = []
    while not worker.messages.empty():
        messages.append(worker.messages.get())
    assert isinstance(messages[-1], Done)
    return worker, messages


def test_an_error_in_a_run_is_reported_and_recorded(fashion_doc, tmp_path):
    fashion_doc.set_settings({"train_limit": 128, "epochs": 2, "data_dir": FASHION_MNIST})
    job = Job(network_to_json(fashion_doc), str(tmp_path / "net.llnet"), extra_callbacks=(DiskFullAt(6),))
    worker, messages = run_worker(job)
    errors = [m.message for m in messages if isinstance(m, ErrorMessage)]
    assert errors == ["Training failed: /runs/steps.jsonl: No space left on device"]
    end = next(m.info for m in messages if isinstance(m, RunEnded))
    assert (end.status, end.global_step) == ("failed", 6)
    run = load_run(worker.run.folder)
    assert (run.status, run.message, run.global_step) == ("failed", "/runs/steps.jsonl: No space left on device", 6)
    state = engine.load(run.checkpoint_path)
    assert (state["epoch"], state["epoch_step"], state["global_step"]) == (1, 2, 6)


class Bug:
    def on_step_end(self, trainer, info):
        if info.global_step == 2:
            raise ZeroDivisionError("a bug")


def test_a_bug_in_a_run_is_reported_with_its_traceback(fashion_doc, tmp_path):
    fashion_doc.set_settings({"train_limit": 64, "epochs": 1, "data_dir": FASHION_MNIST})
    worker, messages = run_worker(Job(network_to_json(fashion_doc), str(tmp_path / "net.llnet"),
                                      extra_callbacks=(Bug(),)))
    (error,) = [m.message for m in messages if isinstance(m, ErrorMessage)]
    assert error.startswith("Training failed: ZeroDivisionError: a bug\n\nTraceback") and "on_step_end" in error
    assert load_run(worker.run.folder).message == "ZeroDivisionError: a bug"


def test_continuing_from_a_checkpoint_that_does_not_fit_is_refused(fashion_doc, tmp_path):
    fashion_doc.set_settings({"train_limit": 64, "epochs": 1, "data_dir": FASHION_MNIST})
    worker, _ = run_worker(Job(network_to_json(fashion_doc), str(tmp_path / "net.llnet")))
    run = worker.run
    state = engine.load(run.checkpoint_path)
    first = next(iter(state["optimizer"]["state"]))
    state["optimizer"]["state"][first]["exp_avg"] = engine.zeros(3)  # Adam
    engine.save(state, run.checkpoint_path)
    document = open(run.network_path).read()  # noqa: SIM115 - read once
    _, messages = run_worker(Job(network_to_json(run.network()), epochs=2, continue_folder=run.folder))
    errors = [m.message for m in messages if isinstance(m, ErrorMessage)]
    assert len(errors) == 1 and errors[0].startswith(f"{run.checkpoint_path}: does not fit the network: ")
    assert f"optimizer state 'exp_avg' of parameter {first} has shape (3,)" in errors[0]
    assert open(run.network_path).read() == document  # noqa: SIM115
    assert load_run(run.folder).status == "finished"


def test_the_panel_shows_a_failed_run_in_its_banner(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"train_limit": 128, "epochs": 2, "data_dir": FASHION_MNIST})
    panel = make_panel(fashion_doc)
    panel.controller.extra_callbacks = (DiskFullAt(3),)
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=20000)
    assert panel.controller.last_end.status == "failed"
    assert panel.banner.isVisible()
    assert panel.banner.text() == "Training failed: /runs/steps.jsonl: No space left on device"
    assert load_run(panel.controller.worker.run.folder).status == "failed"
