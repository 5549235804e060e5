"""``main.py report``: a network's runs (all or those named) compared in an HTML file; unknown runs, a network
without runs, and bad options."""

import re

from cli_helpers import copy_template
from run_support import train_run

from engine.graph import load_network
from engine.training.run_notes import RunNotes, save_notes


def rows_of(path):
    """The run names of the report's table rows."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    return re.findall(r"<tr><td>([^<]*)</td>", text), text


def test_report_of_all_or_named_runs(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    network = load_network(net)
    runs = [train_run(network, net, epochs=1, lr=lr) for lr in (0.1, 0.3, 0.5)]

    everything = cli("report", net)
    default = tmp_path / "lenet_cifar10-report.html"
    assert everything.code == 0, everything
    assert everything.out.strip() == str(default)
    names, text = rows_of(default)
    assert names == [r.name for r in runs]
    assert f"<title>Training runs of {network.title}</title>" in text

    out = tmp_path / "two.html"
    named = cli("report", net, runs[2].name, runs[0].folder, "-o", out, "--metric", "loss", "--align", "step",
                "--no-group-seeds", "--title", "Two runs")
    assert named.code == 0, named
    assert named.out.strip() == str(out)
    names, text = rows_of(out)
    assert names == [runs[2].name, runs[0].name] and "<h1>Two runs</h1>" in text
    assert re.findall(r'alt="([^"]*)"', text) == ["training loss (per step)", "validation accuracy"]


def test_unknown_runs_and_networks_without_runs(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    none = cli("report", net)
    assert none.code == 2 and "no runs yet to report on" in none.err and "lenet_cifar10.runs" in none.err
    run = train_run(load_network(net), net, epochs=1)
    unknown = cli("report", net, "nope", "-o", tmp_path / "r.html")
    assert unknown.code == 2
    assert f"no run named or titled 'nope' (the runs: {run.name})" in unknown.err
    assert not (tmp_path / "r.html").exists()
    elsewhere = tmp_path / "other.runs" / run.name  # another network's run of the same name
    elsewhere.mkdir(parents=True)
    assert cli("report", net, elsewhere, "-o", tmp_path / "r.html").code == 2
    save_notes(run.folder, RunNotes("baseline"))
    assert cli("report", net, "baseline", "-o", tmp_path / "r.html").code == 0
    bad = cli("report", net, "--metric", "accuracy")
    assert bad.code == 2 and "invalid choice: 'accuracy'" in bad.err
