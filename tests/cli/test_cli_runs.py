"""``main.py runs``: the runs of a network as a table, CSV and JSON, with the settings that differ and what changed
since each run; no runs, a damaged run, and a missing file."""

import csv
import io
import json
import os
import subprocess
import sys

from cli_helpers import copy_template

from engine.graph import load_network, save_network
from engine.training import list_runs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


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


def test_a_run_gets_a_title_tags_and_a_note_and_is_listed_by_them(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    train(cli, net, cifar_root, "--lr", 0.01)
    train(cli, net, cifar_root, "--lr", 0.05)
    first, second = list_runs(net)
    done = cli("runs", net, first.name, "--title", "baseline", "--tag", "keep", "--tag", "lenet", "--note",
               "as in the\ntutorial")
    assert done.code == 0 and done.out.strip() == (f"run {first.name}: title baseline, tags keep lenet, note "
                                                   "18 characters")
    assert cli("runs", net, "baseline", "--untag", "lenet").code == 0  # found by its title

    lines = cli("runs", net).out.splitlines()
    assert lines[1].split()[:3] == ["run", "tags", "status"]
    assert lines[3].split()[:3] == ["baseline", "keep", "finished"]
    assert lines[4].split()[:2] == [second.name, "finished"]
    tagged = cli("runs", net, "--tagged", "keep").out.splitlines()
    assert tagged[0].startswith("1 run of") and tagged[3].split()[0] == "baseline"
    assert cli("runs", net, "--tagged", "none-such").out.strip() == f"{net}: no run is tagged 'none-such'"

    details = cli("runs", net, "baseline").out
    assert f"run {first.name} (baseline): finished" in details and "  tags: keep" in details
    assert "  note:\n    as in the\n    tutorial" in details and "    lr = 0.01" in details
    assert "lr 0.01 → 0.001" in details  # the file's own lr differs from the run's
    data = json.loads(cli("runs", net, "--format", "json").out)
    assert data[0]["title"] == "baseline" and data[0]["tags"] == ["keep"] and data[1]["title"] == ""
    rows = list(csv.DictReader(io.StringIO(cli("runs", net, "--format", "csv").out)))
    assert rows[0]["title"] == "baseline" and rows[0]["tags"] == "keep" and rows[0]["note"] == "as in the\ntutorial"


def test_bad_run_edits_are_refused_with_the_reason(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    train(cli, net, cifar_root)
    (run,) = list_runs(net)
    unknown = cli("runs", net, "nope", "--tag", "x")
    assert unknown.code == 2 and f"no run named or titled 'nope' (the runs: {run.name})" in unknown.err
    nameless = cli("runs", net, "--tag", "x")
    assert nameless.err.strip().endswith("name the RUN to change (its folder's name or its title)")
    bad = cli("runs", net, run.name, "--tag", "two words")
    assert bad.code == 2 and "notes.json: a tag is one word" in bad.err
    for options, message in ((("--trash", "--title", "x"), "it cannot take --title as well"),
                             (("--force",), "--force goes with --trash"),
                             (("--tag", "x", "--format", "json"), "are for listing; change a run without them"),
                             (("--tagged", "x"), "are for the list of runs, not one RUN")):
        mixed = cli("runs", net, run.name, *options)
        assert mixed.code == 2 and message in mixed.err, options
    missing = cli("runs", net, run.name, "--untag", "absent")
    assert missing.code == 2 and "the run has no tag 'absent' (its tags: none)" in missing.err
    run.status = "running"
    run.save()
    refused = cli("runs", net, run.name, "--trash")
    assert refused.code == 2 and "says it is running; stop it first, or add --force" in refused.err
    assert os.path.isdir(run.folder)


def test_trash_moves_a_run_to_the_desktop_trash(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    train(cli, net, cifar_root)
    (run,) = list_runs(net)
    done = subprocess.run([sys.executable, os.path.join(REPO, "main.py"), "runs", str(net), run.name, "--trash"],
                          capture_output=True, text=True, env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})
    assert done.returncode == 0 and done.stdout.strip() == f"moved run {run.name} to the trash", done.stderr
    assert list_runs(net) == [] and (tmp_path / "data" / "Trash" / "files" / run.name / "run.json").is_file()
