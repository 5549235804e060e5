"""``main.py runs``: the runs of a network as a table, CSV and JSON, with the settings that differ and what changed
since each run; no runs, a damaged run, and a missing file."""

import csv
import io
import json

from cli_helpers import copy_template

from engine.graph import load_network, save_network
from engine.training import list_runs


def train(cli, net, cifar_root, *options):
    result = cli("train", net, "--data", cifar_root, "--limit", 32, "--epochs", 2, "--batch-size", 16, "--no-health",
                 *options)
    assert result.code == 0, result


def edit_document(net):
    network = load_network(net)
    ids = {n.name: n.id for n in network.nodes.values()}
    network.set_params(ids["conv1"], {"out_channels": 8})
    network.set_params(ids["conv2"], {"in_channels": 8})
    save_network(network, net)


def test_runs_in_three_formats(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    no_runs = cli("runs", net)
    expected = f"{net}: no runs yet (a run's files go in {tmp_path / 'lenet_cifar10.runs'})"
    assert no_runs.code == 0 and no_runs.out.strip() == expected
    assert cli("runs", net, "--format", "json").out.strip() == "[]"
    train(cli, net, cifar_root, "--lr", 0.01)
    train(cli, net, cifar_root, "--lr", 0.05)
    train(cli, net, cifar_root, "--lr", 0.05, "--batch-size", 8)
    edit_document(net)
    runs = list_runs(net)
    assert len(runs) == 3

    table = cli("runs", net)
    assert table.code == 0, table
    lines = table.out.splitlines()
    assert lines[0].startswith(f"3 runs of {net} in ")
    header = lines[1].split()
    assert header[:4] == ["run", "status", "lr", "batch_size"] and header[-1] == "changed"
    body = lines[3:6]
    for line, run, lr, batch in zip(body, runs, ("0.01", "0.05", "0.05"), ("16", "16", "8")):
        cells = line.split()
        assert cells[:4] == [run.name, "finished", lr, batch]
        accuracy = run.metrics().epochs["val_accuracy"]
        assert f"{100 * accuracy.max():.2f}% ({int(accuracy.argmax()) + 1})" in line
        assert f"{100 * run.test_accuracy:.2f}%" in line
        assert line.endswith("changes")  # conv1, conv2, and the settings given on the command line

    wide = cli("runs", net, "--all-settings").out.splitlines()[1].split()
    assert {"optimizer", "momentum", "seed", "epochs"} <= set(wide)

    rows = list(csv.DictReader(io.StringIO(cli("runs", net, "--format", "csv").out)))
    assert [r["name"] for r in rows] == [r.name for r in runs]
    assert [r["setting.lr"] for r in rows] == ["0.01", "0.05", "0.05"]
    assert rows[2]["setting.batch_size"] == "8" and rows[0]["setting.data_dir"] == ""
    assert float(rows[0]["test_accuracy"]) == runs[0].test_accuracy and rows[0]["status"] == "finished"
    assert rows[0]["epochs_completed"] == "2" and float(rows[0]["duration"]) > 0
    changed = rows[0]["changed"].split("; ")
    assert "conv1: out_channels 6 → 8" in changed and "conv2: in_channels 6 → 8" in changed
    assert "lr 0.01 → 0.001" in changed and int(rows[0]["changes"]) == len(changed)

    data = json.loads(cli("runs", net, "--format", "json").out)
    assert [d["name"] for d in data] == [r.name for r in runs]
    assert data[1]["settings"]["lr"] == 0.05 and data[2]["settings"]["batch_size"] == 8
    assert data[0]["diff"]["params"]["conv1"] == {"out_channels": [6, 8]}
    assert data[0]["diff"]["settings"]["lr"] == [0.01, 0.001]
    assert data[0]["best_val_accuracy"] == runs[0].metrics().epochs["val_accuracy"].max()

    with open(runs[1].metrics_path, "w") as f:
        f.write("not,a,metrics,file\n")
    damaged = cli("runs", net)
    assert damaged.code == 0, damaged
    assert any(line.split()[:2] == [runs[1].name, "damaged"] for line in damaged.out.splitlines())
    assert f"  {runs[1].name}: {runs[1].metrics_path}: the header must be" in damaged.out


def test_a_missing_network_file_is_named(cli, tmp_path):
    result = cli("runs", tmp_path / "absent.llnet")
    assert result.code == 2 and str(tmp_path / "absent.llnet") in result.err and "Traceback" not in result.err
