"""A run that diverges prints where (the op, its layer, its inputs) and the two commands that rewind to its last good
checkpoint with the learning rate halved or with gradient clipping; both work, and --lr and --clip-grad-norm given
with --resume apply from the checkpoint on and are recorded in the run folder."""

import shlex

import numpy as np
import pytest
from cli_helpers import needs_fashion_mnist

from engine.graph.fileformat import load_network, save_network
from engine.training import load_run


@pytest.fixture
def diverging(mlp):
    """The MLP template trained by SGD at a learning rate of 2: its loss overflows in the second epoch."""
    network = load_network(mlp)
    network.set_settings({"optimizer": "SGD", "lr": 2.0, "momentum": 0.9, "health_every": 0})
    save_network(network, mlp)
    return mlp


@needs_fashion_mnist
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow on the way to inf
def test_a_diverged_run_names_the_op_and_its_recovery_commands_work(cli, diverging, tmp_path):
    out = tmp_path / "run"
    result = cli("train", diverging, "--limit", 256, "--epochs", 3, "--out", out)
    assert result.code == 1
    assert "training failed: the loss became " in result.err and " (forward) in layer '" in result.err
    assert "from finite inputs ([" in result.err and "min " in result.err
    commands = [shlex.split(line)[2:] for line in result.err.splitlines() if line.startswith("  python main.py")]
    base = ["train", str(diverging), "--resume", str(out), "--epochs", "3", "--limit", "256"]
    assert commands == [[*base, "--lr", "1.0"], [*base, "--clip-grad-norm", "1.0"]]
    checkpoint_epoch = load_run(out).epochs_completed
    assert checkpoint_epoch >= 1 and load_run(out).has_checkpoint

    cli(*commands[0])  # the halved learning rate applies from the checkpoint on, and the run folder says so
    steps = load_run(out).metrics().steps
    resumed = steps["global_step"] > checkpoint_epoch * 4
    assert resumed.any() and np.all(steps["lr"][resumed] == 1.0) and np.all(steps["lr"][~resumed] == 2.0)
    assert load_run(out).network().settings["lr"] == 1.0

    result = cli(*commands[1])  # clipping keeps the updates small enough to finish
    assert result.code == 0, result
    run = load_run(out)
    assert run.status == "finished" and run.epochs_completed == 3
    assert (run.network().settings["clip_grad_norm"], run.network().settings["lr"]) == (1.0, 1.0)
