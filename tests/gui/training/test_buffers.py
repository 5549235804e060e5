"""The numeric side of the live plots: growable buffers, min-max decimation, smoothing, view ranges, the
metrics history and its CSV."""

import csv
import math

import numpy as np
import pytest

from engine.training import EpochInfo, StepInfo
from engine.training.runs import RunMetrics
from engine.training.smoothing import Smoother
from gui.training.buffers import (
    GrowableArray,
    finite_bounds,
    minmax_decimate,
    sticky_range,
    visible_slice,
)
from gui.training.history import STEP_FIELDS, TrainingHistory, step_rows


def test_growable_array_keeps_every_row_across_growth():
    buf = GrowableArray(3, capacity=2)
    for k in range(1000):
        buf.append([k, 2 * k, 3 * k])
    buf.append(np.ones((5, 3)))
    assert len(buf) == 1005 and buf.data.shape == (1005, 3)
    np.testing.assert_array_equal(buf.column(1)[:1000], 2 * np.arange(1000))
    with pytest.raises(ValueError, match="rows of 3 values"):
        buf.append([1, 2])


def test_minmax_decimation_keeps_spikes_gaps_and_order():
    x = np.arange(100_000, dtype=float)
    y = np.sin(x / 5000)
    y[31_337] = 50.0
    y[77_777] = -50.0
    y[60_000] = np.nan
    dx, dy = minmax_decimate(x, y, 1000)
    assert len(dx) <= 1100 and np.all(np.diff(dx) >= 0)
    assert np.nanmax(dy) == 50.0 and np.nanmin(dy) == -50.0
    assert 31_337 in dx and 77_777 in dx
    assert np.isnan(dy).sum() == 1  # the bucket holding the NaN draws a gap
    small_x, small_y = minmax_decimate(x[:10], y[:10], 1000)  # short series pass through
    np.testing.assert_array_equal(small_x, x[:10])
    np.testing.assert_array_equal(small_y, y[:10])


def test_smoother_is_debiased_and_skips_non_finite_values():
    s = Smoother(0.9)
    out = s.feed(np.array([2.0, 2.0, np.nan, 2.0]))
    np.testing.assert_allclose(out[[0, 1, 3]], 2.0)  # a constant stays constant from the first step
    assert math.isnan(out[2])
    more = s.feed(np.array([12.0]))  # fed incrementally: same as one long feed
    whole = Smoother(0.9).feed(np.array([2.0, 2.0, np.nan, 2.0, 12.0]))
    assert more[0] == pytest.approx(whole[-1])


def test_view_ranges():
    x = np.arange(10.0)
    assert visible_slice(x, 2.5, 5.5) == (2, 7)
    assert visible_slice(x, -5, 50) == (0, 10)
    assert finite_bounds(np.array([np.nan, 1.0, 3.0]), np.array([-2.0])) == (-2.0, 3.0)
    assert finite_bounds(np.array([0.0, 10.0, 1000.0]), log=True) == (1.0, 3.0)
    assert finite_bounds(np.array([np.nan])) is None
    first = sticky_range(None, (0.0, 10.0))
    assert first[0] < 0 < 10 < first[1]
    assert sticky_range(first, (1.0, 9.0)) == first  # inside, and filling most of it: unchanged
    assert sticky_range(first, (1.0, 12.0)) != first  # outside: rescaled
    assert sticky_range(first, (4.0, 5.0)) != first  # a small part of it: rescaled


def test_history_epochs_smoothing_and_csv(tmp_path):
    h = TrainingHistory(smoothing=0.5)
    h.reset(["fc1", "fc2"])
    rows = step_rows(StepInfo(int(s > 4), s - 4 * (s > 4), s, 4, 1.0 / s, 0.1, 100.0, 4) for s in range(1, 9))
    h.add_steps(rows[:5], np.full((5, 2), 0.5, np.float32))
    h.add_epoch(EpochInfo(0, 0.9, 0.5, 0.8, 0.6, 1.0, 0.1), 4)
    h.add_steps(rows[5:])  # no gradient norms: NaN
    assert h.epoch_starts == [(1, 1.0), (2, 5.0)] and h.last_step == 8
    assert np.isnan(h.gradients.data[5:]).all()
    before = h.revision
    h.set_smoothing(0.0)
    assert h.revision > before
    np.testing.assert_allclose(h.smoothed.column(0), h.column("loss"))

    path = tmp_path / "m.csv"
    h.write_csv(path)
    with open(path) as f:
        table = list(csv.DictReader(f))
    assert len(table) == 8 and list(table[0])[:len(STEP_FIELDS)] == list(STEP_FIELDS)
    assert [table[5][k] for k in ("epoch", "step", "global_step", "loss")] == ["2", "2", "6", repr(1 / 6)]
    assert table[0]["epoch"] == "1"  # counted from 1, as metrics.csv and the screen count epochs
    assert table[3]["val_accuracy"] == "0.6" and table[4]["val_accuracy"] == ""
    assert table[0]["grad_norm_fc2"] == "0.5" and table[7]["grad_norm_fc1"] == ""


def test_steps_trained_again_replace_the_earlier_ones():
    """A run continued from an earlier checkpoint (a recovery) draws its steps in place of the failed attempt's."""
    h = TrainingHistory(smoothing=0.0)
    h.reset(["fc1"])
    rows = step_rows(StepInfo(int(s > 4), s - 4 * (s > 4), s, 4, float(s), 0.1, 100.0, 4) for s in range(1, 8))
    h.add_steps(rows)
    again = step_rows(StepInfo(1, s - 4, s, 4, -float(s), 0.05, 100.0, 4) for s in (5, 6))
    h.add_steps(again, np.full((2, 1), 0.5, np.float32))
    assert list(h.column("global_step")) == [1, 2, 3, 4, 5, 6] and list(h.column("loss")[4:]) == [-5.0, -6.0]
    assert h.epoch_starts == [(1, 1.0), (2, 5.0)] and len(h.gradients) == len(h.smoothed) == 6


def test_history_from_a_run_folders_metrics():
    steps = {"epoch": np.array([0, 0, 0, 1, 1, 1]), "step": np.array([1, 2, 3] * 2), "global_step": np.arange(1, 7),
             "steps_per_epoch": np.full(6, 3), "loss": np.linspace(2, 1, 6), "lr": np.full(6, 0.1),
             "images_per_second": np.full(6, 50.0), "batch_size": np.full(6, 4)}
    epochs = {"epoch": np.array([1, 2]), "train_loss": np.array([1.8, 1.2]), "train_accuracy": np.array([0.3, 0.5]),
              "val_loss": np.array([1.7, 1.1]), "val_accuracy": np.array([0.35, 0.55]), "lr": np.array([0.1, 0.1]),
              "seconds": np.array([1.0, 1.0])}
    h = TrainingHistory()
    h.load_metrics(RunMetrics(epochs, steps))
    assert len(h) == 6 and list(h.epoch_column("end_step")) == [3, 6]
    h.set_layers(["conv1"])
    assert h.gradients.data.shape == (6, 1) and np.isnan(h.gradients.data).all()
