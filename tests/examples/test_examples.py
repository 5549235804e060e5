"""The example scripts run end to end (on a small slice of the real data; the full runs are in the notes)."""

import importlib.util
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CIFAR = os.path.join(ROOT, "..", "shared", "data", "cifar10")


def load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "examples", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not os.path.isdir(os.path.join(CIFAR, "cifar-10-batches-py")),
                    reason="the real CIFAR-10 (../shared/data/cifar10) is not beside this checkout")
def test_cifar10_tutorial_runs(tmp_path, capsys):
    accuracy, _seconds = load("cifar10_tutorial").main(["--data", CIFAR, "--limit", "2000", "--epochs", "1",
                                                       "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "Accuracy of the network on the 10000 test images" in out and "Accuracy of plane" in out
    assert 0.12 < accuracy <= 1.0  # above chance after 500 steps
    assert (tmp_path / "training_images.png").stat().st_size > 0
    assert (tmp_path / "cifar_net.safetensors").stat().st_size > 0


def test_fashion_mnist_example_runs(tmp_path, capsys):
    module = load("fashion_mnist")
    try:
        accuracy = module.main(["--limit", "2000", "--epochs", "1", "--out", str(tmp_path)])
    except RuntimeError as e:
        if "FashionMNIST" in str(e) or "Fashion" in str(e):
            pytest.skip(f"Fashion-MNIST is not installed: {e}")
        raise
    assert accuracy > 0.3 and "Accuracy of" in capsys.readouterr().out  # chance is 0.1
    assert (tmp_path / "fashion_mnist.safetensors").stat().st_size > 0
