"""``main.py sweep``: trials as worker processes into run folders of the network, the table and the best trial,
resuming, pruning through the worker's metrics, and refusals of bad input."""

import math
import os
import re
import signal

import pytest
from cli_helpers import copy_template

from cli import sweep as sweep_cli
from engine.training.runs import list_runs, load_run
from engine.training.sweep_record import Trial, create_sweep, load_sweep
from engine.training.sweep_search import Search
from engine.training.sweep_space import parse_space

TINY = ("--epochs", 1, "--limit", 40)


def best_line(out):
    return int(re.search(r"^best: trial (\d+) ", out, re.M)[1])


def test_a_grid_sweep_of_four_runs_in_two_workers(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("sweep", net, "--set", "lr=0.01,0.05", "--set", "batch_size=10,20", *TINY, "--data", cifar_root,
                 "--jobs", 2)
    assert result.code == 0, result
    runs = [run for run in list_runs(net) if run.name.startswith("sweep-")]
    assert len(runs) == 4 and all(run.status == "finished" for run in runs)
    settings = {(r.network().settings["lr"], r.network().settings["batch_size"]) for r in runs}
    assert settings == {(0.01, 10), (0.01, 20), (0.05, 10), (0.05, 20)}
    assert all(math.isfinite(run.test_accuracy) for run in runs)
    sweep = load_sweep(next((tmp_path / "lenet_cifar10.sweeps").iterdir()))
    scores = [max(load_run(t.run).metrics().epochs["val_accuracy"]) for t in sweep.trials]
    assert [t.score for t in sweep.trials] == scores and all(math.isfinite(s) for s in scores)
    assert best_line(result.out) == 1 + scores.index(max(scores))  # the first of equal scores
    marked = [line for line in result.out.splitlines() if line.startswith("*")]
    assert len(marked) == 1 and marked[0].split()[1] == str(best_line(result.out))
    for k in (1, 2, 3, 4):
        assert f"trial {k}/4 started" in result.out and f"trial {k} finished" in result.out


def test_a_sweep_resumes_with_the_trials_left(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    first = cli("sweep", net, "--set", "lr=0.01,0.02,0.03", *TINY, "--data", cifar_root, "--trials", 1)
    assert first.code == 0, first
    folder = next((tmp_path / "lenet_cifar10.sweeps").iterdir())
    done = load_sweep(folder).trials[0]
    stamp = os.stat(os.path.join(done.run, "run.json")).st_mtime_ns
    again = cli("sweep", "--resume", folder, "--trials", 3, "--jobs", 2)
    assert again.code == 0, again
    assert "trial 1/" not in again.out and "trial 2/3 started" in again.out and "trial 3/3 started" in again.out
    assert os.stat(os.path.join(done.run, "run.json")).st_mtime_ns == stamp
    trials = load_sweep(folder).trials
    assert [t.settings["lr"] for t in trials] == [0.01, 0.02, 0.03] and {t.state for t in trials} == {"finished"}


def test_an_interrupted_trial_resumes_from_its_checkpoint(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.02"]), options={"epochs": 3})
    trial = Search(sweep).next_trial(0)
    assert sweep_cli.train_arguments(sweep, trial)[2:4] == ["--out", trial.run]
    os.makedirs(trial.run)
    open(os.path.join(trial.run, "checkpoint.llw"), "wb").close()
    arguments = sweep_cli.train_arguments(sweep, trial)
    assert arguments[:4] == ["train", sweep.trial_network_path(trial), "--resume", trial.run]
    assert arguments[4:] == ["--epochs", "3"]


class FakeProcess:
    def __init__(self):
        self.signals = []

    def send_signal(self, number):
        self.signals.append(number)


def write_metrics(folder, accuracies):
    os.makedirs(folder, exist_ok=True)
    rows = [f"{e},1.0,0.5,1.0,{a},0.01,1.0" for e, a in enumerate(accuracies, 1)]
    with open(os.path.join(folder, "metrics.csv"), "w") as fh:
        fh.write("\n".join(["epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds", *rows]) + "\n")
    with open(os.path.join(folder, "run.json"), "w") as fh:
        fh.write('{"format": "layerlab.run", "version": 1, "status": "running", "epochs": 3, '
                 '"epochs_completed": 0, "global_step": 0, "message": ""}')


def test_a_worker_clearly_behind_is_stopped_with_ctrl_c(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1:log"]), method="tpe")
    sweep.trials = [Trial(k, {"lr": 0.01 * k}, str(tmp_path / f"done-{k}"), "finished", [0.5, 0.6, 0.7])
                    for k in (1, 2, 3)]
    coordinator = sweep_cli.Coordinator(sweep, Search(sweep), jobs=1)
    trial = coordinator.search.next_trial(0)
    item = sweep_cli.Active(trial, FakeProcess(), None, 0.0)
    write_metrics(trial.run, [0.1])
    coordinator.poll(item)
    assert item.process.signals == [] and item.epochs_reported == 1  # the first epoch is the warm-up
    write_metrics(trial.run, [0.1, 0.12])
    coordinator.poll(item)
    assert item.process.signals == [signal.SIGINT] and item.pruning and trial.scores == [0.1, 0.12]


@pytest.mark.parametrize("args, message", [
    (("--set", "lr=0.01,99"), "--set lr=0.01,99: 'lr' must be between 1e-08 and 10, got 99"),
    (("--set", "lr=1e-3:1e-1", "--method", "grid"), "--method grid needs listed values, but lr=0.001:0.1 is a range"),
    (("--set", "momentum=0.5"), None),
])
def test_bad_sweeps_are_refused_in_one_line(cli, tmp_path, args, message):
    net = copy_template("lenet_cifar10", tmp_path)
    if message is None:  # --resume with a network and settings
        result = cli("sweep", net, *args, "--resume", tmp_path)
        message = "--resume continues a sweep with its own network and settings"
    else:
        result = cli("sweep", net, *args)
    assert result.code == 2 and message in result.err, result
    assert not (tmp_path / "lenet_cifar10.runs").exists()


def test_resuming_a_folder_without_a_sweep_names_it(cli, tmp_path):
    result = cli("sweep", "--resume", tmp_path)
    assert result.code == 2 and f"{tmp_path}: not a sweep folder" in result.err, result


def test_a_failed_trial_is_recorded_with_its_error(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("sweep", net, "--set", "lr=0.01", *TINY, "--data", tmp_path / "missing")
    assert result.code == 1 and "trial 1 failed (exit code 2): main.py train: error: the CIFAR-10 dataset was not " \
                                "found" in result.out, result
    trial = load_sweep(next((tmp_path / "lenet_cifar10.sweeps").iterdir())).trials[0]
    assert trial.state == "failed" and "dataset was not found" in trial.message
