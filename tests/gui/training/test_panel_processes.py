"""A run of a document whose ``processes`` setting is 2: trained by ``main.py train --processes 2`` in MPI
processes, shown by the panel as a run in the app is (steps, epochs, health, progress, the evaluation)."""

import sys
from pathlib import Path

import numpy as np
import pytest
from panel_support import wait_idle

from engine.training.runs import load_run

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "engine" / "distributed"))
from launch_support import needs_mpi

pytestmark = needs_mpi


@pytest.fixture
def two_processes(fashion_doc):
    fashion_doc.set_settings({"processes": 2})
    return fashion_doc


def test_a_run_in_two_processes_is_shown_as_one_in_the_app(make_panel, two_processes, qtbot):
    panel = make_panel(two_processes)
    c = panel.controller
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None, timeout=60000)
    assert not panel.pause_action.isEnabled() and panel.stop_action.isEnabled()  # the ranks cannot pause
    assert c.run_start.train_images == 512 and c.run_start.steps_per_epoch == 16
    assert panel.run_label.text().endswith("512 training images, batch 32  ·  2 processes (data-parallel)")
    wait_idle(qtbot, panel, timeout=120000)
    assert c.last_end.status == "finished" and c.last_end.global_step == 32
    assert len(c.history) == 32 and list(c.history.column("global_step")) == list(range(1, 33))
    assert list(c.history.epoch_column("epoch")) == [1, 2] and list(c.history.epoch_column("end_step")) == [16, 32]
    assert c.health.steps and c.health.layers  # health records every 10 steps, from rank 0
    counts = panel.plots.point_counts()
    assert counts["loss"] == 32 and 3 <= counts["grad:fc1"] <= 32  # the health records' norms, held between them
    run = load_run(c.run.folder)
    assert run.status == "finished" and run.network().settings["processes"] == 2
    assert panel.evaluation_view.result.count == 10000
    assert np.isclose(panel.evaluation_view.result.accuracy, run.test_accuracy)


def test_stop_stops_every_rank_and_keeps_the_checkpoint(make_panel, two_processes, qtbot):
    two_processes.set_settings({"epochs": 200})
    panel = make_panel(two_processes)
    c = panel.controller
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) >= 3, timeout=60000)
    panel.stop_action.trigger()
    wait_idle(qtbot, panel, timeout=60000)
    run = load_run(c.run.folder)
    assert c.last_end.status == "stopped" and run.status == "stopped" and run.has_checkpoint
    assert 3 <= run.global_step < 200 * 16
