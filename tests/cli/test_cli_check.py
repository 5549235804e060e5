"""``main.py check``: the per-layer table of LeNet on a small CIFAR-10 with no warning (exit 0), the numerical
gradient check, a deep sigmoid network warned about (exit 1), and a missing dataset as one line (exit 2)."""

import re

from cli_helpers import copy_template
from sample_networks import deep_sigmoid

from engine.graph import save_network


def table(out, column):
    """``{layer: cells}`` of the table whose header line has ``column``."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("layer ") and column in line)
    rows = {}
    for line in lines[start + 2:]:
        cells = re.split(r"\s{2,}", line.strip())
        if len(cells) < 4:  # the line after the table
            break
        rows[cells[0]] = cells[1:]
    return rows


def test_lenet_is_healthy_and_its_gradients_agree(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("check", net, "--data", cifar_root, "--gradcheck")
    assert result.code == 0, result
    assert "one training batch of 4 images through the initial weights" in result.out
    rows = table(result.out, "act mean")
    assert list(rows) == ["input", "conv1", "relu1", "pool1", "conv2", "relu2", "pool2", "flatten", "fc1", "relu3",
                          "fc2", "relu4", "fc3"]
    assert rows["conv1"][:2] == ["Conv2d", "6×28×28"] and rows["input"][-1] == "-"
    assert "no warnings" in result.out
    checks = table(result.out, "max rel. error")
    assert list(checks) == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert all(cells[-1] == "pass" for cells in checks.values())
    assert checks["conv1"][1] == "12 of 456"
    assert "autograd agrees with the numerical gradients" in result.out


def test_a_deep_sigmoid_network_is_warned_and_exits_1(cli, tmp_path, cifar_root):
    save_network(deep_sigmoid(), tmp_path / "sigmoid.llnet")
    result = cli("check", tmp_path / "sigmoid.llnet", "--data", cifar_root)
    assert result.code == 1, result
    rows = table(result.out, "act mean")
    assert rows["fc1"][-1] == "gradient vanishing" and rows["head"][-1] not in ("gradient vanishing",)
    assert "warnings (1):" in result.out
    assert "  - Gradients vanish: the gradient reaching 'fc1' is" in result.out
    assert "sigmoid" in result.out.split("warnings (1):")[1]  # the advice names the usual cure


def test_a_missing_dataset_is_one_line(cli, tmp_path):
    net = copy_template("lenet_cifar10", tmp_path)
    result = cli("check", net, "--data", tmp_path / "nothing")
    assert result.code == 2
    assert result.err.startswith("main.py check: error: the CIFAR-10 dataset was not found in")
    assert "Traceback" not in result.err
