"""``main.py lr-find``: the suggestion, the curve in a few lines, the CSV beside the network (or --out), the
network file untouched, and one clear line for every kind of bad input."""

import csv
import re

import numpy as np
from cli_helpers import copy_template, needs_fashion_mnist


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], np.array(rows[1:], np.float64)


@needs_fashion_mnist
def test_lr_find_prints_the_suggestion_and_the_curve_and_writes_the_csv(cli, mlp):
    before = mlp.read_bytes()
    result = cli("lr-find", mlp, "--limit", 512, "--steps", 40)
    assert result.code == 0, result
    out = result.out
    assert out.startswith("sweeping the learning rate of 'MLP (Fashion-MNIST)' (Adam, batch 64) from 1e-07 to 10 "
                          "over 40 steps, on 512 images, device cpu\n")
    steps = int(re.search(r"^(\d+) of 40 steps: ", out, re.M).group(1))
    suggested = float(re.search(r"^suggested learning rate: (\S+) \(valley; also steepest \S+, minimum/10 \S+\)$",
                                out, re.M).group(1))
    assert 1e-7 < suggested < 10
    rows = re.findall(r"^ +(\S+) +(\d+\.\d{4})  █+(  <- suggested)?$", out, re.M)
    assert 10 <= len(rows) <= 13 and float(rows[0][0]) == 1e-7
    assert [float(lr) for lr, _, mark in rows if mark] == [suggested]
    csv_path = mlp.with_suffix(".lr-find.csv")
    assert f"curve and per-layer update ratios: {csv_path}\n" in out
    assert f"train with it: python main.py train {mlp} --lr {suggested:.3g}" in out
    header, values = read_csv(csv_path)
    assert header == ["lr", "loss", "smoothed_loss", "update_ratio:fc1", "update_ratio:fc2", "update_ratio:fc3"]
    assert values.shape == (steps, 6)
    np.testing.assert_allclose(values[:, 0], 1e-7 * (1e8) ** (np.arange(steps) / 39), rtol=1e-8)
    assert mlp.read_bytes() == before  # the network file is not changed


def test_lr_find_on_cifar_files_writes_where_asked(cli, tmp_path, cifar_root):
    net = copy_template("lenet_cifar10", tmp_path)
    out = tmp_path / "curves" / "lenet.csv"
    result = cli("lr-find", net, "--data", cifar_root, "--start", 1e-4, "--end", 1, "--steps", 12, "--out", out)
    assert result.code == 0, result
    assert "from 0.0001 to 1 over 12 steps, on 100 images" in result.out
    header, values = read_csv(out)
    assert header[3:] == [f"update_ratio:{name}" for name in ("conv1", "conv2", "fc1", "fc2", "fc3")]
    assert values.shape == (12, 8) and values[0, 0] == 1e-4 and values[-1, 0] == 1.0
    assert not (tmp_path / "lenet_cifar10.lr-find.csv").exists()


def one_error_line(result):
    assert result.code == 2, result
    assert len(result.err.splitlines()) == 1 and "Traceback" not in result.err, result.err
    return result.err.strip()


def test_bad_ranges_are_one_line_before_any_data_is_read(cli, mlp, tmp_path):
    nowhere = tmp_path / "nowhere"
    assert one_error_line(cli("lr-find", mlp, "--data", nowhere, "--start", 1, "--end", 0.1)) == (
        "main.py lr-find: error: the start learning rate (1) must be below the end (0.1)")
    assert one_error_line(cli("lr-find", mlp, "--data", nowhere, "--start", 0)) == (
        "main.py lr-find: error: the start learning rate must be a positive number, got 0.0")
    assert one_error_line(cli("lr-find", mlp, "--data", nowhere, "--steps", 1)) == (
        "main.py lr-find: error: the learning-rate finder needs at least 2 steps, got 1")


def test_missing_files_are_one_line_naming_them(cli, tmp_path, cifar_root):
    absent = tmp_path / "absent.llnet"
    assert one_error_line(cli("lr-find", absent)) == (
        f"main.py lr-find: error: {absent}: cannot read the file: No such file or directory")
    net = copy_template("lenet_cifar10", tmp_path)
    nowhere = tmp_path / "nowhere"
    result = cli("lr-find", net, "--data", nowhere)
    assert result.code == 2 and result.err.splitlines()[0] == (
        f"main.py lr-find: error: the CIFAR-10 dataset was not found in {nowhere}: pass --data DIR or --download")
    folder = tmp_path / "a folder.csv"
    folder.mkdir()
    problem = one_error_line(cli("lr-find", net, "--data", cifar_root, "--steps", 3, "--out", folder))
    assert problem.startswith(f"main.py lr-find: error: {folder}")
