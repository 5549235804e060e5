"""The runs of a network as table rows: outcome, accuracies, duration, the settings that differ, damaged runs, and
the diff of each run's document against the current one."""

import json

import numpy as np
import pytest
from run_support import train_run

from engine.graph import network_from_json, network_to_json
from engine.training import load_run
from engine.training.run_table import run_rows, varying_settings


def test_rows_hold_the_outcome_accuracies_and_settings(net_path, network):
    slow = train_run(network, net_path, lr=0.001)
    fast = train_run(network, net_path, epochs=2, lr=0.5, batch_size=16)
    rows = run_rows(net_path)
    assert [r.name for r in rows] == [slow.name, fast.name]
    for row, run in zip(rows, (slow, fast)):
        metrics = run.metrics().epochs
        accuracy = metrics["val_accuracy"]
        assert row.status == "finished" and row.folder == run.folder and row.test_accuracy == 0.5
        assert row.best_val_accuracy == accuracy.max() and row.best_epoch == int(np.argmax(accuracy)) + 1
        assert row.final_val_accuracy == accuracy[-1]
        assert row.duration == pytest.approx(metrics["seconds"].sum()) and row.duration > 0
        assert row.images_per_second > 0 and row.started and row.finished
        assert row.diff is None  # no current document given
    assert (rows[0].epochs_completed, rows[0].epochs, rows[1].epochs_completed, rows[1].epochs) == (3, 3, 2, 2)
    assert rows[1].settings["lr"] == 0.5 and rows[1].settings["batch_size"] == 16
    assert varying_settings(rows) == ["lr", "batch_size", "epochs"]  # in the settings' order
    assert varying_settings(rows[:1]) == [] and varying_settings([]) == []
    assert run_rows(net_path.parent / "never_trained.llnet") == []


def test_the_best_epoch_is_the_first_to_reach_the_best(net_path, network):
    run = train_run(network, net_path, epochs=1)
    with open(run.metrics_path, "w") as f:  # a longer history, written as MetricsLog writes it
        f.write("epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds\n"
                "1,1.0,0.3,1.0,0.40,0.1,2.5\n2,0.9,0.4,0.9,0.60,0.1,2.0\n3,0.8,0.5,0.8,0.60,0.1,1.5\n"
                "4,0.7,0.6,0.7,0.55,0.1,1.0\n5,0.7,0.6,nan,nan,0.1,1.0\n")
    (row,) = run_rows(net_path)
    assert (row.best_val_accuracy, row.best_epoch, row.final_val_accuracy) == (0.60, 2, 0.55)
    assert row.duration == 8.0


def test_damaged_runs_are_rows_with_the_reason(net_path, network):
    good = train_run(network, net_path, epochs=1)
    bad_record = train_run(network, net_path, epochs=1, lr=0.2)
    bad_metrics = train_run(network, net_path, epochs=1, lr=0.3)
    bad_document = train_run(network, net_path, epochs=1, lr=0.4)
    with open(bad_record.info_path, "w") as f:
        f.write("{not json")
    with open(bad_metrics.metrics_path, "w") as f:
        f.write("epoch,oops\n1,2\n")
    with open(bad_document.network_path, "w") as f:
        f.write("[]")
    rows = {row.name: row for row in run_rows(net_path, current=network)}
    assert rows[good.name].status == "finished"
    for run, path in ((bad_record, bad_record.info_path), (bad_metrics, bad_metrics.metrics_path),
                      (bad_document, bad_document.network_path)):
        row = rows[run.name]
        assert row.status == "damaged" and path in row.message, row
        assert row.settings == {} and row.diff is None and row.best_val_accuracy is None
    assert rows[bad_metrics.name].epochs == 1  # what run.json says is kept
    assert varying_settings(list(rows.values())) == []  # damaged rows have no settings to compare


def test_the_diff_against_the_current_document(net_path, network):
    train_run(network, net_path, epochs=2, lr=0.05)
    current = network_from_json(network_to_json(network))
    conv1 = next(n.id for n in current.nodes.values() if n.name == "conv1")
    current.set_params(conv1, {"out_channels": 8})
    current.set_settings({"epochs": 2})
    (row,) = run_rows(net_path, current=current)
    assert row.diff.params == {"conv1": {"out_channels": (6, 8)}}
    assert row.diff.settings == {"lr": (0.05, 0.001)}
    assert row.diff.lines() == ["conv1: out_channels 6 → 8", "lr 0.05 → 0.001"]
    data = json.loads(json.dumps(row.as_dict()))
    assert data["diff"]["lines"] == row.diff.lines() and data["settings"]["lr"] == 0.05
    assert data["name"] == row.name and data["best_epoch"] == row.best_epoch
    (same,) = run_rows(net_path, current=load_run(row.folder).network())
    assert same.diff.empty
