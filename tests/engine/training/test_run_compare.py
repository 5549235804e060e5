"""Runs compared: curves of every metric source on the three alignments, checked against the run's files as
written; smoothing; health measures per layer and their median; seed groups; the mean and spread of curves."""

import csv
import json
import os

import numpy as np
import pytest
from run_support import train_run

from engine.training import HealthMonitor, Run, RunFileError, load_run
from engine.training.callbacks import MetricsLog
from engine.training.health_measures import KEYS
from engine.training.run_compare import (
    ALIGNMENTS,
    METRICS,
    Curve,
    curve,
    health_layers,
    mean_spread,
    seed_groups,
    smooth,
)

STEPS_PER_EPOCH = 3  # run_support's blobs: 48 samples in batches of 16


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def read_steps(run):
    with open(run.steps_path) as f:
        return [json.loads(line) for line in f]


def test_the_menu_covers_every_source():
    assert list(METRICS)[:7] == ["loss", "train_loss", "val_loss", "train_accuracy", "val_accuracy", "lr",
                                 "images_per_second"]
    assert [k for k in METRICS if k.startswith("health:")] == [f"health:{k}" for k in KEYS]
    assert all(m.field in MetricsLog.FIELDS for m in METRICS.values() if m.source == "epoch")
    assert {k for k, m in METRICS.items() if m.percent} == {"train_accuracy", "val_accuracy", "health:dead_fraction",
                                                            "health:saturated_fraction"}
    assert ALIGNMENTS == ("step", "epoch", "time")


def test_epoch_metrics_on_each_alignment(net_path, network):
    run = train_run(network, net_path, epochs=3, lr=0.3)
    rows = read_csv(run.metrics_path)
    steps = read_steps(run)
    accuracy = [float(r["val_accuracy"]) for r in rows]
    by_epoch = curve(run, "val_accuracy", "epoch")
    assert by_epoch.name == run.name and by_epoch.x.dtype == by_epoch.y.dtype == np.float64
    np.testing.assert_array_equal(by_epoch.x, [1, 2, 3])
    np.testing.assert_array_equal(by_epoch.y, accuracy)
    ends = [max(s["global_step"] for s in steps if s["epoch"] == e) for e in range(3)]
    assert ends == [3, 6, 9]
    np.testing.assert_array_equal(curve(run, "val_accuracy", "step").x, ends)
    np.testing.assert_allclose(curve(run, "train_loss", "time").x, np.cumsum([float(r["seconds"]) for r in rows]))
    np.testing.assert_array_equal(curve(run, "val_loss", "time").y, [float(r["val_loss"]) for r in rows])


def test_step_metrics_on_each_alignment(net_path, network):
    run = train_run(network, net_path, epochs=2, lr=0.3)
    steps = read_steps(run)
    loss = [s["loss"] for s in steps]
    by_step = curve(run, "loss", "step")
    np.testing.assert_array_equal(by_step.x, [s["global_step"] for s in steps])
    np.testing.assert_array_equal(by_step.y, loss)
    np.testing.assert_allclose(curve(run, "loss", "epoch").x, np.arange(1, 7) / STEPS_PER_EPOCH)
    seconds = np.cumsum([s["batch_size"] / s["images_per_second"] for s in steps])
    np.testing.assert_allclose(curve(run, "images_per_second", "time").x, seconds)
    np.testing.assert_array_equal(curve(run, "lr", "time").y, [s["lr"] for s in steps])


def test_smoothing_is_a_debiased_moving_average_that_keeps_gaps(net_path, network):
    values = np.array([1.0, 3.0, np.nan, 2.0, np.inf, 5.0])
    expected, last, count = [], 0.0, 0
    for v in values:
        if not np.isfinite(v):
            expected.append(np.nan)
            continue
        last, count = 0.6 * last + 0.4 * v, count + 1
        expected.append(last / (1 - 0.6 ** count))
    np.testing.assert_allclose(smooth(values, 0.6), expected)
    np.testing.assert_array_equal(smooth(values[:2], 0.0), values[:2])
    with pytest.raises(ValueError, match="smoothing"):
        smooth(values, 1.0)
    run = train_run(network, net_path, epochs=1)
    np.testing.assert_allclose(curve(run, "loss", smoothing=0.6).y, smooth(curve(run, "loss").y, 0.6))


def test_values_that_are_not_finite_stay_as_nan(net_path, network):
    run = train_run(network, net_path, epochs=1)
    with open(run.metrics_path, "w") as f:
        f.write(",".join(MetricsLog.FIELDS) + "\n1,1.0,0.3,1.0,0.40,0.1,2.5\n2,inf,0.4,nan,nan,0.1,2.0\n"
                "3,0.8,0.5,0.8,0.60,0.1,1.5\n")
    c = curve(run, "val_accuracy", "time")
    np.testing.assert_array_equal(c.x, [2.5, 4.5, 6.0])
    np.testing.assert_array_equal(c.y, [0.4, np.nan, 0.6])
    assert np.isnan(curve(run, "train_loss", "epoch").y[1])


def test_without_a_step_log_epochs_are_spread_evenly(net_path, network):
    run = train_run(network, net_path, epochs=3)
    os.remove(run.steps_path)
    run = load_run(run.folder)
    np.testing.assert_array_equal(curve(run, "val_accuracy", "step").x, [3, 6, 9])  # 9 steps / 3 epochs
    empty = curve(run, "loss", "epoch")
    assert empty.x.size == empty.y.size == 0


def test_health_measures_per_layer_and_their_median(net_path, network):
    run = train_run(network, net_path, epochs=2, health=HealthMonitor(every=1, histograms=False))
    rows = read_csv(run.health_path)
    layers = list(dict.fromkeys(r["layer"] for r in rows))
    assert health_layers(run) == layers and len(layers) == 3
    steps = sorted({int(r["step"]) for r in rows})
    assert steps == list(range(1, 7))

    def value(step, layer, key):
        text = next(r[key] for r in rows if int(r["step"]) == step and r["layer"] == layer)
        return float(text) if text else np.nan

    first = curve(run, "health:grad_norm", "step", layer=layers[0])
    np.testing.assert_array_equal(first.x, steps)
    np.testing.assert_array_equal(first.y, [value(s, layers[0], "grad_norm") for s in steps])
    median = curve(run, "health:grad_norm", "step")
    expected = [np.median([v for v in (value(s, layer, "grad_norm") for layer in layers) if np.isfinite(v)])
                for s in steps]
    np.testing.assert_allclose(median.y, expected)
    assert np.isfinite(median.y).all() and np.isnan(value(1, layers[1], "grad_norm"))  # the ReLU has no weights
    np.testing.assert_allclose(curve(run, "health:grad_norm", "epoch").x, np.array(steps) / STEPS_PER_EPOCH)
    np.testing.assert_allclose(curve(run, "health:act_std", "time").x, curve(run, "loss", "time").x)
    with pytest.raises(ValueError, match=f"no layer 'nope'.*{layers[0]}"):
        curve(run, "health:grad_norm", layer="nope")
    without = train_run(network, net_path, epochs=1)
    assert health_layers(without) == [] and curve(without, "health:update_ratio").y.size == 0

    with open(run.health_path) as fh:  # as a reader finds it while the training process is writing a block
        text = fh.read()
    last = text.rindex("\n", 0, len(text) - 1) + 1
    cut = last + (len(text) - last) // 2  # half of the last row
    with open(run.health_path, "w") as fh:
        fh.write(text[:cut])
    partial = curve(run, "health:grad_norm", "step", layer=layers[0])
    assert partial.x.tolist() == steps and partial.y.tolist() == first.y.tolist()  # the cut row is left out
    with open(run.health_path, "w") as fh:
        fh.write(text[:10])  # not even the header yet
    assert health_layers(run) == []


def test_bad_keys_and_damaged_files(net_path, network):
    run = train_run(network, net_path, epochs=1)
    with pytest.raises(ValueError, match="unknown metric 'accuracy'; choose one of loss, train_loss"):
        curve(run, "accuracy")
    with pytest.raises(ValueError, match="unknown alignment 'wall'; choose one of step, epoch, time"):
        curve(run, "loss", "wall")
    with pytest.raises(ValueError, match="health measures only"):
        curve(run, "loss", layer="fc1")
    with open(run.steps_path, "a") as f:
        f.write("{not json\n")
    with pytest.raises(RunFileError, match="steps.jsonl"):
        curve(run, "loss")
    with open(run.health_path, "w") as f:
        f.write("step,epoch,layer\n")
    with pytest.raises(RunFileError, match="health.csv.*header"):
        health_layers(run)


def test_seed_groups_gather_runs_that_differ_only_in_their_seed(net_path, network, tmp_path):
    a = train_run(network, net_path, epochs=1, lr=0.1, seed=1)
    b = train_run(network, net_path, epochs=1, lr=0.1, seed=2)
    c = train_run(network, net_path, epochs=1, lr=0.2, seed=1)
    d = train_run(network, net_path, epochs=1, lr=0.1, seed=3)
    e = train_run(network, net_path, epochs=1, lr=0.2, seed=5)
    damaged = Run(str(tmp_path / "gone"), status="damaged", message="no run.json")
    unreadable = train_run(network, net_path, epochs=1, lr=0.1, seed=4)
    os.remove(unreadable.network_path)
    groups = seed_groups([a, b, c, damaged, d, unreadable, e])
    assert [[r.name for r in g] for g in groups] == [[a.name, b.name, d.name], [c.name, e.name], [damaged.name],
                                                     [unreadable.name]]
    assert seed_groups([]) == []


def test_mean_spread_interpolates_onto_the_sparsest_curve():
    dense = Curve("dense", np.linspace(0, 10, 21), np.linspace(0, 10, 21) ** 2)
    sparse = Curve("sparse", np.array([1.0, 4.0, 7.0, 12.0]), np.array([5.0, 2.0, np.nan, 8.0]))
    longer = Curve("longer", np.arange(0.0, 11.0), np.arange(0.0, 11.0) * 3)
    x, mean, std, count = mean_spread([dense, sparse, longer])
    np.testing.assert_array_equal(x, [1.0, 4.0, 7.0])  # sparse's x within [1, 10], the range all cover
    ys = np.stack([x ** 2, np.interp(x, [1.0, 4.0, 12.0], [5.0, 2.0, 8.0]), 3 * x])
    np.testing.assert_allclose(mean, ys.mean(axis=0))
    np.testing.assert_allclose(std, ys.std(axis=0, ddof=1))
    assert count == 3
    x, mean, std, count = mean_spread([longer, Curve("none", np.array([1.0]), np.array([np.nan]))])
    np.testing.assert_array_equal(x, longer.x)
    np.testing.assert_array_equal(mean, longer.y)
    np.testing.assert_array_equal(std, np.zeros(11))
    assert count == 1
    apart = mean_spread([Curve("a", np.array([0.0, 1.0]), np.ones(2)), Curve("b", np.array([2.0, 3.0]), np.ones(2))])
    assert apart[0].size == 0 and apart[3] == 2
