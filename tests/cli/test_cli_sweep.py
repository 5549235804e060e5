"""``main.py sweep``: trials as worker processes into run folders of the network, the table and the best trial,
resuming, pruning through the worker's metrics, and refusals of bad input."""

import fcntl
import json
import math
import os
import re
import signal
import subprocess
import time

import pytest
from cli_helpers import copy_template
from trained_lenet import SHARED_CIFAR, needs_cifar

from cli import sweep as sweep_cli
from engine.graph import load_network, save_network
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
    trial_stamp = os.stat(folder / "trial-1.llnet").st_mtime_ns
    edited = load_network(net)
    seed = edited.settings["seed"]
    edited.set_settings({"seed": seed + 7})
    save_network(edited, net)  # the sweep goes on with the network it began with
    again = cli("sweep", "--resume", folder, "--trials", 3, "--jobs", 2)
    assert again.code == 0, again
    assert "trial 1/" not in again.out and "trial 2/3 started" in again.out and "trial 3/3 started" in again.out
    assert os.stat(os.path.join(done.run, "run.json")).st_mtime_ns == stamp
    trials = load_sweep(folder).trials
    assert [t.settings["lr"] for t in trials] == [0.01, 0.02, 0.03] and {t.state for t in trials} == {"finished"}
    assert [load_network(folder / f"trial-{k}.llnet").settings["seed"] for k in (2, 3)] == [seed, seed]
    assert os.stat(folder / "trial-1.llnet").st_mtime_ns == trial_stamp


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
    """A worker that has ended with ``code`` (``running=False``) or ends with it once asked to stop."""

    def __init__(self, code=None, running=True):
        self.signals, self.code, self.running = [], code, running

    def send_signal(self, number):
        self.signals.append(number)

    def poll(self):
        return None if self.running else self.code

    @property
    def returncode(self):
        return self.poll()

    def wait(self, timeout=None):
        self.running = False
        return self.code


def write_metrics(folder, accuracies):
    os.makedirs(folder, exist_ok=True)
    rows = [f"{e},1.0,0.5,1.0,{a},0.01,1.0" for e, a in enumerate(accuracies, 1)]
    with open(os.path.join(folder, "metrics.csv"), "w") as fh:
        fh.write("\n".join(["epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds", *rows]) + "\n")
    with open(os.path.join(folder, "run.json"), "w") as fh:
        fh.write('{"format": "layerlab.run", "version": 1, "status": "running", "epochs": 3, '
                 '"epochs_completed": 0, "global_step": 0, "message": ""}')


def behind_sweep(tmp_path):
    """A TPE sweep with three finished trials and a coordinator running a fourth (not yet started)."""
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=1e-3:1e-1:log"]), method="tpe")
    sweep.trials = [Trial(k, {"lr": 0.01 * k}, str(tmp_path / f"done-{k}"), "finished", [0.5, 0.6, 0.7])
                    for k in (1, 2, 3)]
    coordinator = sweep_cli.Coordinator(sweep, Search(sweep), jobs=1)
    return coordinator, coordinator.search.next_trial(0)


def test_a_worker_clearly_behind_is_stopped_with_ctrl_c(tmp_path):
    coordinator, trial = behind_sweep(tmp_path)
    item = sweep_cli.Active(trial, FakeProcess(), None, 0.0, epochs=3)
    write_metrics(trial.run, [0.1])
    coordinator.poll(item)
    assert item.process.signals == [] and item.epochs_reported == 1  # the first epoch is the warm-up
    write_metrics(trial.run, [0.1, 0.12])
    coordinator.poll(item)
    assert item.process.signals == [signal.SIGINT] and item.pruning and trial.scores == [0.1, 0.12]


def test_a_trial_is_not_pruned_at_its_last_epoch(tmp_path):
    coordinator, trial = behind_sweep(tmp_path)
    item = sweep_cli.Active(trial, FakeProcess(), None, 0.0, epochs=2)
    write_metrics(trial.run, [0.1, 0.12])
    coordinator.poll(item)
    assert item.process.signals == [] and not item.pruning and item.epochs_reported == 2


def test_metrics_are_read_again_only_once_they_change(tmp_path, monkeypatch):
    coordinator, trial = behind_sweep(tmp_path)
    item = sweep_cli.Active(trial, FakeProcess(), None, 0.0, epochs=3)
    write_metrics(trial.run, [0.1])
    reads = []
    monkeypatch.setattr(sweep_cli, "trial_scores", lambda run: reads.append(run) or [0.1])
    coordinator.poll(item)
    coordinator.poll(item)
    assert reads == [trial.run]
    write_metrics(trial.run, [0.1, 0.2])
    coordinator.poll(item)
    assert len(reads) == 2


def test_stopping_records_workers_that_ended_by_their_exit_codes(tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.02,0.03,0.04"]))
    coordinator = sweep_cli.Coordinator(sweep, Search(sweep), jobs=4)
    processes = [FakeProcess(0, running=False), FakeProcess(2, running=False), FakeProcess(130), FakeProcess(130)]
    for process in processes:
        trial = coordinator.search.next_trial(0)
        log = open(tmp_path / f"{trial.number}.log", "w")  # noqa: SIM115 (closed by stop)
        coordinator.active.append(sweep_cli.Active(trial, process, log, 0.0, epochs=3,
                                                   pruning=process is processes[3]))
    coordinator.stop()
    assert [t.state for t in load_sweep(sweep.folder).trials] == ["finished", "failed", "stopped", "pruned"]
    assert [p.signals for p in processes] == [[], [], [signal.SIGINT], []]  # the pruned one was asked already
    assert coordinator.active == []


def sleeping_workers(monkeypatch):
    """Workers that sleep until stopped (instead of training); the list of every one started."""
    started, real = [], subprocess.Popen

    def popen(*args, **kwargs):
        started.append(real(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr(sweep_cli, "WORKER", "import time; time.sleep(60)")
    monkeypatch.setattr(sweep_cli.subprocess, "Popen", popen)
    return started


def failing_on_second_call(monkeypatch, name, action):
    real = getattr(sweep_cli, name)
    calls = []

    def wrapper(*args):
        calls.append(args)
        if len(calls) == 2:
            action()
        return real(*args)

    monkeypatch.setattr(sweep_cli, name, wrapper)


def test_no_worker_outlives_a_failing_coordinator(cli, tmp_path, monkeypatch):
    net = copy_template("lenet_cifar10", tmp_path)
    started = sleeping_workers(monkeypatch)

    def fail():
        raise RuntimeError("the coordinator broke")

    failing_on_second_call(monkeypatch, "prepare_trial", fail)
    with pytest.raises(RuntimeError, match="the coordinator broke"):
        cli("sweep", net, "--set", "lr=0.01,0.02", "--jobs", 2)
    assert len(started) == 1 and started[0].poll() is not None


def test_sigterm_stops_the_sweep_as_ctrl_c_does(cli, tmp_path, monkeypatch):
    net = copy_template("lenet_cifar10", tmp_path)
    started = sleeping_workers(monkeypatch)
    failing_on_second_call(monkeypatch, "prepare_trial", lambda: os.kill(os.getpid(), signal.SIGTERM))
    result = cli("sweep", net, "--set", "lr=0.01,0.02", "--jobs", 2)
    assert result.code == 130 and "resume with: python main.py sweep --resume" in result.out, result
    assert len(started) == 1 and started[0].poll() is not None
    trials = load_sweep(next((tmp_path / "lenet_cifar10.sweeps").iterdir())).trials
    assert [t.state for t in trials] == ["stopped", "pending"]
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_trial_interrupted_while_its_worker_starts_is_stopped_not_failed(cli, tmp_path, monkeypatch):
    """Python interrupted during its start-up exits with 1, not as interrupted: the trial was asked to stop with
    the sweep, so it is recorded as stopped (resumed later), not as failed."""
    net = copy_template("lenet_cifar10", tmp_path)
    started = sleeping_workers(monkeypatch)
    monkeypatch.setattr(sweep_cli, "WORKER", "import signal, sys, time\n"
                                             "signal.signal(signal.SIGINT, lambda *_: sys.exit(1))\n"
                                             "print('ready', flush=True)\n"
                                             "time.sleep(60)")

    def interrupt_once_ready():
        log = next((tmp_path / "lenet_cifar10.sweeps").iterdir()) / "trial-1.log"
        deadline = time.monotonic() + 30
        while "ready" not in (log.read_text() if log.exists() else "") and time.monotonic() < deadline:
            time.sleep(0.05)
        os.kill(os.getpid(), signal.SIGTERM)

    failing_on_second_call(monkeypatch, "prepare_trial", interrupt_once_ready)
    result = cli("sweep", net, "--set", "lr=0.01,0.02", "--jobs", 2)
    assert result.code == 130, result
    assert len(started) == 1 and started[0].returncode == 1
    trials = load_sweep(next((tmp_path / "lenet_cifar10.sweeps").iterdir())).trials
    assert [t.state for t in trials] == ["stopped", "pending"]


def test_a_second_coordinator_on_a_sweep_is_refused(cli, tmp_path):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.02"]))
    with open(os.path.join(sweep.folder, ".lock"), "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = cli("sweep", "--resume", sweep.folder)
    assert result.code == 2 and f"{sweep.folder}: the sweep is running in another process" in result.err, result
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize("args, message", [
    (("--set", "lr=0.01,99"), "--set lr=0.01,99: 'lr' must be between 1e-08 and 10, got 99"),
    (("--set", "lr=1e-3:1e-1", "--method", "grid"), "--method grid: a grid needs listed values, but lr=0.001:0.1 "
                                                    "is a range"),
    (("--set", "epochs=1,2", "--epochs", "3"), "--epochs fixes every trial's epochs, which --set varies"),
    (("--set", "train_limit=10,20", "--limit", "30"), "--limit fixes every trial's train_limit, which --set varies"),
    (("--set", "lr=0.01", "--time", "0"), "argument --time: must be a number of minutes above 0, got 0"),
    (("--set", "lr=0.01", "--time", "nan"), "argument --time: must be a number of minutes above 0, got nan"),
    (("--set", "lr=0.01", "--time", "soon"), "argument --time: expected a number of minutes, got 'soon'"),
])
def test_bad_sweeps_are_refused_in_one_line(cli, tmp_path, args, message):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("sweep", net, *args)
    assert result.code == 2 and message in result.err, result
    assert not (tmp_path / "lenet_cifar10.sweeps").exists()


@pytest.mark.parametrize("args, message", [
    (("NET", "--set", "momentum=0.5"), "--resume continues a sweep with its own network and settings"),
    (("--seed", "3", "--epochs", "2"), "--resume continues a sweep as it began: --seed, --epochs cannot change"),
    (("--no-prune",), "--no-prune cannot change"),
])
def test_resuming_refuses_options_that_cannot_change(cli, tmp_path, args, message):
    sweep = create_sweep(tmp_path / "net.llnet", parse_space(["lr=0.01,0.02"]))
    args = [copy_template("lenet_cifar10", tmp_path) if a == "NET" else a for a in args]
    result = cli("sweep", *args, "--resume", sweep.folder)
    assert result.code == 2 and message in result.err, result
    assert sorted(os.listdir(sweep.folder)) == ["sweep.json"]  # not even locked


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


@needs_cifar
def test_a_sweep_on_a_slice_of_the_real_cifar10(cli, tmp_path):
    """The issue's measure: four runs on real CIFAR-10 images, listed by ``runs`` with distinct settings and finite
    accuracies, and the run shown as best has the best validation accuracy of the list."""
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("sweep", net, "--set", "lr=0.01,0.05", "--set", "batch_size=16,32", "--epochs", 1, "--limit", 256,
                 "--data", SHARED_CIFAR, "--jobs", 2)
    assert result.code == 0, result
    rows = json.loads(cli("runs", net, "--format", "json").out)
    assert len(rows) == 4 and all(row["status"] == "finished" for row in rows)
    assert len({(row["settings"]["lr"], row["settings"]["batch_size"]) for row in rows}) == 4
    assert all(math.isfinite(row["best_val_accuracy"]) and math.isfinite(row["test_accuracy"]) for row in rows)
    best_run = re.search(r"^best: trial \d+ \((.*)\), val acc .*, run (.*)$", result.out, re.M)
    shown = next(row for row in rows if row["folder"] == best_run[2])
    assert shown["best_val_accuracy"] == max(row["best_val_accuracy"] for row in rows)
    assert best_run[1] == f"lr={shown['settings']['lr']} batch_size={shown['settings']['batch_size']}"
