"""``main.py train --processes N``: data-parallel training in MPI processes gives the run one process gives,
resumes on any number of processes, stops on Ctrl+C, and a rank that dies fails the run with its name."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_helpers import REPO, copy_template, run_subprocess

import engine
from engine.training import load_run

sys.path.insert(0, str(REPO / "tests" / "engine" / "distributed"))
from launch_support import needs_mpi

pytestmark = needs_mpi
EPOCHS = 2  # longer, and the warm-up amplifies float32 summation order past 1e-4 on 100 images
RESNET = ("--batch-size", 20, "--lr", 0.01, "--health-every", 2)  # a gentle rate: at its 0.2 the first
# steps on 100 images are chaotic enough to amplify float32 summation order beyond any tolerance


def weights(folder):
    return {k: v.numpy() for k, v in engine.load_safetensors(Path(folder) / "weights.safetensors").items()}


def largest_difference(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k].astype(np.float64) - b[k]).max()) for k in a)


def train(net, data, out, *options, timeout=300):
    return run_subprocess("train", net, "--data", data, "--out", out, *RESNET, *options, timeout=timeout)


@pytest.fixture(scope="module")
def resnet(tmp_path_factory):
    return copy_template("resnet_cifar10", tmp_path_factory.mktemp("resnet"))


@pytest.fixture(scope="module")
def one_process(resnet, cifar_root, tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "one"
    result = train(resnet, cifar_root, out, "--epochs", EPOCHS)
    assert result.code == 0, result
    return out


def test_two_processes_train_the_resnet_template_as_one_does(resnet, cifar_root, one_process, tmp_path):
    result = train(resnet, cifar_root, tmp_path / "two", "--epochs", EPOCHS, "--processes", 2)
    assert result.code == 0, result
    assert result.out.count("training 'ResNet") == 1  # rank 0 alone reports
    difference = largest_difference(weights(tmp_path / "two"), weights(one_process))
    print(f"2 processes against 1, ResNet template, {EPOCHS} epochs: max abs difference {difference:.2e}")
    assert difference <= 1e-4  # weights and batch-norm statistics, up to float32 summation order
    run, single = load_run(tmp_path / "two"), load_run(one_process)
    assert (run.status, run.epochs_completed, run.global_step) == ("finished", EPOCHS, single.global_step)
    assert abs(run.test_accuracy - single.test_accuracy) <= 0.05
    assert (tmp_path / "two" / "health.csv").is_file()


def test_a_batch_that_cannot_be_shared_is_refused_before_training(resnet, cifar_root, tmp_path):
    result = train(resnet, cifar_root, tmp_path / "run", "--limit", 41, "--processes", 2)
    assert result.code != 0
    said = ("cannot train in 2 processes: the last batch of each epoch would hold 1 image (41 training images in "
            "batches of 20), fewer than the 2 processes")
    assert said in result.err and result.err.count(said) == 1, result.err  # once, whichever rank said it first
    assert not (tmp_path / "run" / "run.json").exists()


def _rank_pid(rank, out):
    """The process of rank ``rank`` of the training into ``out`` (MPICH's Hydra gives each its PMI_RANK)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"--as-rank" in cmdline and str(out).encode() in cmdline and f"PMI_RANK={rank}".encode() in environ:
            return int(entry.name)
    return None


def _start(args, out):
    return subprocess.Popen([sys.executable, str(REPO / "main.py"), "train", *map(str, args), "--out", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            start_new_session=True)


def _wait_for_steps(out, process, steps=3, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        log = out / "steps.jsonl"
        if log.is_file() and len(log.read_text().splitlines()) >= steps:
            return
        assert process.poll() is None, process.communicate()
        time.sleep(0.1)
    raise AssertionError("training did not start")


def test_a_rank_that_dies_fails_the_run_with_its_name(resnet, cifar_root, tmp_path):
    out = tmp_path / "run"
    process = _start([resnet, "--data", cifar_root, *RESNET, "--epochs", 1000, "--processes", 2], out)
    try:
        _wait_for_steps(out, process)
        pid = _rank_pid(1, out)
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode not in (0, 130)
    said = f"rank 1 (pid {pid} on "
    assert said in err and "was killed by signal 9 (SIGKILL) without recording an error" in err, err
    run = load_run(out)
    assert run.status == "failed" and run.message.startswith(said), run.message
    assert json.loads((out / "run.json").read_text())["finished"]


def test_ctrl_c_stops_every_rank_at_one_step_and_the_run_resumes_in_one_process(resnet, cifar_root, tmp_path):
    out, epochs = tmp_path / "run", 12
    process = _start([resnet, "--data", cifar_root, *RESNET, "--epochs", epochs, "--processes", 2], out)
    try:
        _wait_for_steps(out, process)
        os.killpg(process.pid, signal.SIGINT)  # as a terminal's Ctrl+C reaches its foreground process group
        stdout, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, err
    assert "stopping after this step" in err and "the checkpoint is kept" in stdout
    run = load_run(out)
    assert run.status == "stopped" and run.has_checkpoint and 0 < run.global_step < 5 * epochs
    result = run_subprocess("train", resnet, "--data", cifar_root, "--resume", out, *RESNET, "--epochs", epochs,
                            timeout=300)
    assert result.code == 0, result
    run = load_run(out)
    assert (run.status, run.global_step) == ("finished", 5 * epochs)


def test_the_documents_processes_setting_is_used_without_the_option(resnet, cifar_root, tmp_path):
    from engine.graph import load_network, save_network

    network = load_network(resnet)
    network.set_settings({"processes": 2})
    path = tmp_path / "two.llnet"
    save_network(network, path)
    result = run_subprocess("train", path, "--data", cifar_root, "--limit", 41, *RESNET, timeout=300)
    assert result.code != 0 and "cannot train in 2 processes" in result.err, result
    result = run_subprocess("train", path, "--data", cifar_root, "--limit", 41, *RESNET, "--processes", 1,
                            "--epochs", 1, timeout=300)
    assert result.code == 0, result  # the option overrides the document
