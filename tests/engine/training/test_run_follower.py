"""Following another process's run folder: complete lines only, the newest health step and the last epoch held
back until they are surely whole, and logs rewritten shorter (a resumed run) read again."""

import json

import numpy as np

from engine.training.callbacks import HealthLog, MetricsLog
from engine.training.health_measures import KEYS
from engine.training.run_follower import RunFollower


def _step(epoch, step, global_step):
    return json.dumps({"epoch": epoch, "step": step, "global_step": global_step, "steps_per_epoch": 2, "loss": 1.5,
                       "lr": 0.1, "images_per_second": 100.0, "batch_size": 4}) + "\n"


def _health_rows(step, epoch, layers=("fc1", "fc2")):
    return "".join(f"{step},{epoch + 1},{layer}," + ",".join(str(step + k) for k in range(len(KEYS))) + "\n"
                   for layer in layers)


def _metrics(epochs):
    rows = [",".join(MetricsLog.FIELDS)] + [f"{e},1.0,0.5,1.1,0.4,0.1,2.0" for e in range(1, epochs + 1)]
    return "\n".join(rows) + "\n"


def test_complete_lines_only_and_what_may_be_half_written_is_held(tmp_path):
    steps, health, metrics = tmp_path / "steps.jsonl", tmp_path / "health.csv", tmp_path / "metrics.csv"
    steps.write_text(_step(0, 1, 1) + _step(0, 2, 2)[:20])  # the second line is being written
    health.write_text(",".join(HealthLog.FIELDS) + "\n" + _health_rows(1, 0))
    follower = RunFollower(tmp_path, ())
    got_steps, got_health, got_epochs = follower.poll()
    assert [s.global_step for s in got_steps] == [1] and got_health == [] and got_epochs == []  # step 1's rows held

    steps.write_text(_step(0, 1, 1) + _step(0, 2, 2) + _step(1, 1, 3))
    with open(health, "a") as f:
        f.write(_health_rows(3, 1))
    metrics.write_text(_metrics(1))
    got_steps, got_health, got_epochs = follower.poll()
    assert [s.global_step for s in got_steps] == [2, 3] and isinstance(got_steps[0].loss, float)
    assert [r.step for r in got_health] == [1] and got_health[0].layers == ("fc1", "fc2")
    np.testing.assert_array_equal(got_health[0].values[:, 0], [1, 1])
    assert [(e.epoch, end) for e, end in got_epochs] == [(0, 2)]  # its end known once a step of epoch 2 is read

    metrics.write_text(_metrics(2))
    got_steps, got_health, got_epochs = follower.poll(final=True)  # the run ended: nothing is held any more
    assert got_steps == [] and [r.step for r in got_health] == [3] and [(e.epoch, end) for e, end in got_epochs] == \
        [(1, 3)]


def test_a_log_rewritten_shorter_is_read_again(tmp_path):
    health = tmp_path / "health.csv"
    header = ",".join(HealthLog.FIELDS) + "\n"
    health.write_text(header + _health_rows(10, 0) + _health_rows(20, 0) + _health_rows(30, 0))
    follower = RunFollower(tmp_path, (), from_end=True)  # a continued run: what is there is shown already
    health.write_text(header + _health_rows(10, 0))  # resumed from step 15: its rows from step 20 on dropped
    assert follower.poll()[1] == []
    with open(health, "a") as f:
        f.write(_health_rows(20, 0) + _health_rows(25, 0))
    assert [r.step for r in follower.poll(final=True)[1]] == [10, 20, 25]  # the panel's history replaces by step
