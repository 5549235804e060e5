"""``main.py train`` records each layer's health into ``health.csv`` by default; ``--no-health`` turns it off,
``--health-every`` sets the sampling, and a layer that goes red is reported once with advice."""

import csv
import itertools
import re

import numpy as np
from cli_helpers import copy_template

from engine.graph import load_network, save_network
from engine.training.health_measures import KEYS


def only_run(network_path):
    (folder,) = (network_path.parent / f"{network_path.stem}.runs").iterdir()
    return folder


def test_train_records_health_by_default(cli, tmp_path, cifar_root):
    lenet = copy_template("lenet_cifar10", tmp_path)
    result = cli("train", lenet, "--data", cifar_root, "--limit", 64, "--batch-size", 8, "--epochs", 1)
    assert result.code == 0, result
    with open(only_run(lenet) / "health.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    layers = [node.name for node in load_network(lenet).nodes.values() if node.layer_type.module is not None]
    assert [(r["step"], r["layer"]) for r in rows] == [(step, layer) for step in ("1",) for layer in layers]
    values = [float(v) for r in rows for k, v in r.items() if k in KEYS and v != ""]
    assert values and np.isfinite(values).all()


def test_health_every_and_no_health(cli, tmp_path, cifar_root):
    lenet = copy_template("lenet_cifar10", tmp_path)
    result = cli("train", lenet, "--data", cifar_root, "--limit", 320, "--batch-size", 8, "--epochs", 1,
                 "--health-every", 3, "--out", tmp_path / "every3")
    assert result.code == 0, result
    with open(tmp_path / "every3" / "health.csv", newline="") as f:
        steps = sorted({int(r["step"]) for r in csv.DictReader(f)})
    assert steps[0] == 1 and len(steps) >= 2  # 40 steps: every 3, or further apart within the time budget
    assert all(b - a >= 3 for a, b in itertools.pairwise(steps))
    result = cli("train", lenet, "--data", cifar_root, "--limit", 64, "--batch-size", 8, "--epochs", 1,
                 "--no-health", "--out", tmp_path / "off")
    assert result.code == 0, result
    assert not (tmp_path / "off" / "health.csv").exists()
    assert (tmp_path / "off" / "metrics.csv").exists()
    result = cli("train", lenet, "--no-health", "--health-every", 2)
    assert result.code == 2 and "not allowed with argument" in result.err


def test_a_layer_that_goes_red_is_reported_once_with_advice(cli, tmp_path, cifar_root):
    lenet = copy_template("lenet_cifar10", tmp_path)
    network = load_network(lenet)
    network.settings["health_every"] = 1
    save_network(network, lenet)
    result = cli("train", lenet, "--data", cifar_root, "--limit", 64, "--batch-size", 8, "--epochs", 1, "--lr", 10)
    lines = [line for line in result.err.splitlines() if line.startswith("health: ")]
    assert "health: step 1: layer 'conv1' update ratio" in result.err
    assert any("Lower the learning rate" in line for line in lines)
    reported = [re.match(r"health: step \d+: layer '([^']+)' (\D+) \S+\. ", line).groups() for line in lines]
    assert len(reported) == len(set(reported))  # once per layer and measure
