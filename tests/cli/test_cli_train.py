"""``main.py train``: run folders, resuming, Ctrl+C, a conv network on CIFAR-format files, and clear errors."""

import errno
import itertools
import os
import re
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from cli_helpers import REPO, copy_template, needs_fashion_mnist, run_subprocess

import engine
import engine.serialization as serialization
from engine.graph import load_network, save_network
from engine.training import load_run
from engine.training.runs import Run


def only_run(network_path):
    runs = sorted((network_path.parent / f"{network_path.stem}.runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def weights(folder):
    return {k: v.numpy() for k, v in engine.load_safetensors(folder / "weights.safetensors").items()}


@needs_fashion_mnist
def test_train_writes_a_run_folder_next_to_the_network(cli, mlp):
    result = cli("train", mlp, "--limit", 512, "--epochs", 1)
    assert result.code == 0, result
    folder = only_run(mlp)
    assert re.fullmatch(r"\d{8}-\d{6}", folder.name)
    assert "training 'MLP (Fashion-MNIST)' on 512 images, validating on 6,000 images, 8 steps per epoch" in result.out
    assert re.search(r"epoch 1: train loss \d\.\d{4}  train acc [\d.]+%  val loss \d\.\d{4}  val acc", result.out)
    accuracy = float(re.search(r"test accuracy: ([\d.]+) % on 10,000 images", result.out).group(1))
    assert 40 < accuracy < 100  # 512 images, one epoch: well above the 10 % of chance
    for name in ("network.llnet", "metrics.csv", "steps.jsonl", "checkpoint.llw", "weights.safetensors", "run.json"):
        assert (folder / name).is_file(), name
    run = load_run(folder)
    assert (run.status, run.epochs, run.epochs_completed, run.global_step) == ("finished", 1, 1, 8)
    assert run.test_accuracy == accuracy / 100
    assert run.images_per_second > 0 and run.started and run.finished
    assert run.classes[0] == "T-shirt/top" and len(run.classes) == 10
    assert run.network().settings["train_limit"] == 512  # the document as trained
    metrics = run.metrics()
    assert metrics.epochs["epoch"].tolist() == [1]
    assert metrics.steps["global_step"].tolist() == list(range(1, 9))


@needs_fashion_mnist
def test_resume_continues_exactly_as_an_uninterrupted_run(cli, mlp, tmp_path):
    first, straight = tmp_path / "first", tmp_path / "straight"
    assert cli("train", mlp, "--limit", 256, "--epochs", 1, "--out", first).code == 0
    resumed_result = cli("train", mlp, "--limit", 256, "--epochs", 2, "--resume", first)
    assert resumed_result.code == 0, resumed_result
    assert "resuming after epoch 1 (global step 4)" in resumed_result.out
    assert "epoch 1:" not in resumed_result.out and "epoch 2:" in resumed_result.out
    assert cli("train", mlp, "--limit", 256, "--epochs", 2, "--out", straight).code == 0
    a, b = weights(first), weights(straight)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    ma, mb = load_run(first).metrics(), load_run(straight).metrics()
    for field in ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"):
        assert np.array_equal(ma.epochs[field], mb.epochs[field]), field
    assert np.array_equal(ma.steps["loss"], mb.steps["loss"]) and ma.steps["global_step"].tolist() == list(range(1, 9))
    assert load_run(first).epochs_completed == 2


@needs_fashion_mnist
def test_ctrl_c_stops_cleanly_and_keeps_a_checkpoint(mlp, tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, str(REPO / "main.py"), "train", str(mlp), "--limit", "256", "--epochs",
                             "100000", "--out", str(out)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        deadline = time.monotonic() + 60
        while not (out / "metrics.csv").exists():  # written after the first epoch
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no epoch finished within 60 s"
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, (stdout, stderr)
    assert "Traceback" not in stderr and "stopping after this step" in stderr
    assert f"resume with: python main.py train {mlp} --resume {out}" in stdout
    run = load_run(out)
    assert run.status == "stopped" and run.epochs_completed >= 1
    state = engine.load(out / "checkpoint.llw")
    assert state["global_step"] == run.global_step and state["epoch"] == run.epochs_completed
    assert (out / "weights.safetensors").is_file()


@needs_fashion_mnist
def test_a_stopped_run_resumes_to_its_end(cli, mlp, tmp_path):
    out = tmp_path / "run"
    assert cli("train", mlp, "--limit", 128, "--epochs", 1, "--out", out).code == 0
    run = load_run(out)
    run.status = "stopped"
    run.save()
    result = cli("train", mlp, "--limit", 128, "--epochs", 3, "--resume", out)
    assert result.code == 0, result
    run = load_run(out)
    assert (run.status, run.epochs, run.epochs_completed, run.global_step) == ("finished", 3, 3, 6)
    assert run.metrics().epochs["epoch"].tolist() == [1, 2, 3]


def test_conv_template_trains_on_cifar_format_files(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("train", net, "--data", cifar_root, "--epochs", 2, "--batch-size", 10, "--lr", 0.02)
    assert result.code == 0, result
    assert "on 100 images, validating on the test set, 10 steps per epoch" in result.out
    run = load_run(only_run(net))
    assert run.classes[:2] == ["airplane", "automobile"]
    assert run.network().settings["lr"] == 0.02 and run.network().settings["batch_size"] == 10
    metrics = run.metrics()
    assert metrics.epochs["train_loss"][1] < metrics.epochs["train_loss"][0]
    assert run.test_accuracy == metrics.epochs["val_accuracy"][-1] > 0.3  # the test set served as validation


def test_missing_dataset_is_one_clear_line(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("train", net, "--data", tmp_path / "nowhere", "--epochs", 1)
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first == (f"main.py train: error: the CIFAR-10 dataset was not found in {tmp_path / 'nowhere'}: "
                     "pass --data DIR or --download")
    assert "Traceback" not in result.err and "data_batch_1" in result.err
    assert not (tmp_path / "lenet_cifar10.runs").exists()  # no run folder for a run that never started


def test_damaged_or_missing_network_file(cli, tmp_path):
    bad = tmp_path / "bad.llnet"
    bad.write_text('{"format": "layerlab.network", "version": 2, "nodes": [')
    result = cli("train", bad)
    assert result.code == 2
    assert result.err.startswith(f"main.py train: error: {bad}: bad JSON at line 1")
    result = cli("train", tmp_path / "absent.llnet")
    assert result.code == 2 and f"{tmp_path / 'absent.llnet'}: cannot read the file" in result.err


def test_network_with_errors_is_refused_with_the_list(cli, tmp_path):
    from engine.graph import load_network

    net = copy_template("lenet_cifar10", tmp_path)
    network = load_network(net)
    network.set_params(network.node_by_name("fc1").id, {"in_features": 123})
    save_network(network, net)
    result = cli("train", net)
    assert result.code == 2
    lines = result.err.splitlines()
    assert lines == [f"main.py train: error: {net}: cannot train the network 'LeNet (CIFAR-10 tutorial)': "
                     "it has 1 error", "  Linear 'fc1': Linear expects 123 input features but receives 400"]


def test_bad_options_and_run_folders(cli, mlp, tmp_path):
    result = cli("train", mlp, "--resume", tmp_path)
    assert result.code == 2 and f"{tmp_path}: not a run folder (it has no run.json)" in result.err
    assert cli("train", mlp, "--resume", tmp_path / "missing").code == 2
    result = cli("train", mlp, "--epochs", 0)
    assert result.code == 2 and "'epochs' must be between 1 and 100000, got 0" in result.err


def test_help_in_a_subprocess():
    result = run_subprocess("train", "--help")
    assert result.code == 0
    assert "--resume RUN_DIR" in result.out and "Ctrl+C" in result.out
    overview = run_subprocess("--help").out
    assert all(command in overview for command in ("train", "eval", "summary", "export", "predict"))



@needs_fashion_mnist
def test_resuming_with_another_network_is_refused_and_changes_nothing(cli, mlp, tmp_path, cifar_root):
    out = tmp_path / "run"
    assert cli("train", mlp, "--limit", 64, "--epochs", 1, "--out", out).code == 0
    before = (out / "network.llnet").read_text()
    lenet = copy_template("lenet_cifar10", tmp_path)
    result = cli("train", lenet, "--data", cifar_root, "--resume", out)
    assert result.code == 2
    assert result.err.startswith(f"main.py train: error: cannot resume {lenet} from "
                                 f"{out / 'checkpoint.llw'}: does not fit the network: the checkpoint lacks")
    assert (out / "network.llnet").read_text() == before and load_run(out).status == "finished"


def test_cuda_when_there_is_none(cli, mlp):
    if engine.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = cli("train", mlp, "--device", "cuda")
    assert result.code == 2
    assert result.err == ("main.py train: error: the device 'cuda' is not available on this machine (no GPU or no "
                          "CuPy); use --device cpu\n")


class InterruptAt:
    """Ctrl+C (a real SIGINT to this process) at a global step: the command's handler stops the trainer."""

    def __init__(self, global_step):
        self.global_step = global_step

    def on_step_end(self, trainer, info):
        if info.global_step == self.global_step:
            os.kill(os.getpid(), signal.SIGINT)


@needs_fashion_mnist
def test_ctrl_c_mid_epoch_then_resume_gives_the_uninterrupted_weights(cli, mlp, tmp_path, monkeypatch):
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert cli("train", mlp, "--limit", 512, "--epochs", 2, "--out", straight).code == 0
    callbacks = Run.callbacks
    monkeypatch.setattr(Run, "callbacks", lambda run: [*callbacks(run), InterruptAt(11)])  # epoch 2, step 3 of 8
    result = cli("train", mlp, "--limit", 512, "--epochs", 2, "--out", stopped)
    assert result.code == 130 and "stopped after 1 epochs and 11 steps" in result.out, result
    monkeypatch.undo()
    result = cli("train", mlp, "--limit", 512, "--epochs", 2, "--resume", stopped)
    assert result.code == 0, result
    assert "resuming after epoch 1, step 3 of epoch 2 (global step 11)" in result.out
    a, b = weights(straight), weights(stopped)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    ma, mb = load_run(straight).metrics(), load_run(stopped).metrics()
    assert np.array_equal(ma.epochs["train_loss"], mb.epochs["train_loss"])
    assert np.array_equal(ma.steps["loss"], mb.steps["loss"]) and mb.steps["global_step"].tolist() == list(range(1, 17))


@needs_fashion_mnist
def test_resuming_after_the_optimizer_changed_is_refused_before_anything_is_written(cli, mlp, tmp_path):
    out = tmp_path / "run"
    assert cli("train", mlp, "--limit", 64, "--epochs", 1, "--out", out).code == 0
    files = {name: (out / name).read_bytes() for name in ("network.llnet", "run.json", "checkpoint.llw")}
    network = load_network(mlp)
    network.set_settings({"optimizer": "SGD"})
    save_network(network, mlp)
    result = cli("train", mlp, "--epochs", 2, "--resume", out)
    assert result.code == 2 and "Traceback" not in result.err
    assert result.err == (f"main.py train: error: cannot resume {mlp} from {out / 'checkpoint.llw'}: does not fit the "
                          "network: the optimizer was Adam; the network's settings now say SGD\n")
    assert {name: (out / name).read_bytes() for name in files} == files


@needs_fashion_mnist
def test_a_full_disk_while_checkpointing_fails_the_run_in_one_line(cli, mlp, tmp_path, monkeypatch):
    out = tmp_path / "run"

    def disk_full(fh, manifest, blobs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(serialization, "_write_zip", disk_full)
    result = cli("train", mlp, "--limit", 64, "--epochs", 1, "--out", out)
    assert result.code == 1 and "Traceback" not in result.err
    message = f"{out / 'checkpoint.llw'}: the checkpoint could not be written (No space left on device); the " \
              "previous one is kept"
    assert f"training failed: {message}\nrun folder: {out} (metrics.csv)\n" in result.err
    run = load_run(out)
    assert (run.status, run.message) == ("failed", message)
    assert sorted(os.listdir(out)) == ["health.csv", "metrics.csv", "network.llnet", "run.json", "steps.jsonl"]


def image_folder_network(tmp_path):
    """A network on an image folder (Input → Flatten → Linear → Output) whose train/cat holds one file that is
    not an image; returns the network file and that file."""
    from PIL import Image

    from engine.graph import Network

    rng = np.random.default_rng(0)
    for split in ("train", "test"):
        for name, colour in (("cat", (200, 40, 40)), ("dog", (40, 40, 200))):
            (tmp_path / "data" / split / name).mkdir(parents=True)
            for i in range(4):
                pixels = np.clip(rng.normal(colour, 20, (8, 8, 3)), 0, 255).astype(np.uint8)
                Image.fromarray(pixels).save(tmp_path / "data" / split / name / f"{i}.png")
    bad = tmp_path / "data" / "train" / "cat" / "9.png"
    bad.write_bytes(b"not an image")
    net = Network(title="folder")
    nodes = [net.add_node("Input", {"shape": (3, 8, 8), "dataset": "Image folder"}), net.add_node("Flatten"),
             net.add_node("Linear", {"out_features": 2}), net.add_node("Output")]
    for a, b in itertools.pairwise(nodes):
        net.connect(a.id, b.id)
    net.set_settings({"data_dir": str(tmp_path / "data"), "batch_size": 4, "epochs": 2, "val_split": 0.0})
    save_network(net, tmp_path / "folder.llnet")
    return tmp_path / "folder.llnet", bad


def test_an_unreadable_image_stops_the_run_before_it_starts_naming_it_or_is_skipped_and_counted(cli, tmp_path):
    network, bad = image_folder_network(tmp_path)
    result = cli("train", network, "--out", tmp_path / "strict")
    assert result.code != 0 and "Traceback" not in result.err, result
    assert "1 of its 17 images cannot be read" in result.err
    assert "  train/cat/9.png: " in result.err and "skip_bad_samples" in result.err
    assert not (tmp_path / "strict").exists()  # refused before a run folder was made

    result = cli("train", network, "--skip-bad-samples", "--out", tmp_path / "lenient")
    assert result.code == 0, result
    assert f"skipped 1 unreadable images (first: {bad})" in result.err
    run = load_run(tmp_path / "lenient")
    assert (run.status, run.skipped, run.first_skipped) == ("finished", 1, str(bad))


def test_lenet_with_augmentation_and_workers_resumes_exactly_after_ctrl_c(cli, tmp_path, cifar_root, monkeypatch):
    net = copy_template("lenet_cifar10", tmp_path)
    network = load_network(net)
    network.set_settings({"augment_hflip": True, "augment_crop_padding": 2, "num_workers": 2, "val_split": 0.2,
                          "batch_size": 10, "epochs": 2})
    save_network(network, net)
    straight, stopped = tmp_path / "straight", tmp_path / "stopped"
    assert cli("train", net, "--data", cifar_root, "--out", straight).code == 0
    callbacks = Run.callbacks
    monkeypatch.setattr(Run, "callbacks", lambda run: [*callbacks(run), InterruptAt(11)])  # epoch 2, step 3 of 8
    assert cli("train", net, "--data", cifar_root, "--out", stopped).code == 130
    monkeypatch.undo()
    result = cli("train", net, "--data", cifar_root, "--resume", stopped)
    assert result.code == 0 and "resuming after epoch 1, step 3 of epoch 2 (global step 11)" in result.out, result
    a, b = weights(straight), weights(stopped)
    assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)
    assert load_run(straight).test_accuracy == load_run(stopped).test_accuracy
