"""The PyTorch tutorials (pytorch/tutorials, ``beginner_source``) run unchanged on the engine.

Each tutorial file runs as it is, but for its training-loop lengths (the constants listed per tutorial), with
``import torch`` giving the engine (see ``tutorial_support``), then again on PyTorch: both must print the same
text, and the same numbers to float32 precision where the tutorial's values do not depend on random draws
(the engine's random stream is not PyTorch's).

The tutorials' code is not copied into this repository: point ``PYTORCH_TUTORIALS`` at a checkout of
https://github.com/pytorch/tutorials (``git clone --depth 1 --filter=blob:none --sparse`` then
``git sparse-checkout set beginner_source`` keeps it small) to run these tests; without it they are skipped.
Fashion-MNIST comes from Debian's ``dataset-fashion-mnist``, cut to a few batches; nothing is downloaded.
"""

import gzip
import math
import os
import random
import re
import sys
from pathlib import Path
from unittest import mock

import pytest
from tutorial_support import assert_prints_match, execute, numbers, skeleton

import engine

torch = pytest.importorskip("torch")

TUTORIALS = Path(os.environ.get("PYTORCH_TUTORIALS", "/nonexistent")) / "beginner_source"
pytestmark = pytest.mark.skipif(not TUTORIALS.is_dir(), reason="PYTORCH_TUTORIALS names no pytorch/tutorials checkout")

SHORT_POLYNOMIAL = {"range(2000)": "range(200)"}
DEBIAN_FASHION = Path("/usr/share/datasets/fashion-mnist")
# Fashion-MNIST cut to these many images (train, test): ten and five batches of 64.
FASHION_SIZES = {"train": 640, "t10k": 320}


def tutorial(path, substitutions):
    """The tutorial's source with its loop constants cut; each must be found, so an edited tutorial is noticed."""
    source = (TUTORIALS / path).read_text()
    for old, new in substitutions.items():
        assert old in source, f"{path} no longer contains {old!r}"
        source = source.replace(old, new)
    return source


def run_on_both(path, substitutions):
    """What the tutorial prints on the engine and on PyTorch, each from seed 0."""
    source = tutorial(path, substitutions)
    printed = []
    for on_engine in (True, False):
        random.seed(0)
        engine.manual_seed(0)
        torch.manual_seed(0)
        printed.append(execute(source, on_engine=on_engine)[1])
    return printed


def assert_same_structure_and_finite(on_engine, on_torch):
    assert skeleton(on_engine) == skeleton(on_torch)
    assert all(math.isfinite(n) for n in numbers(on_engine))


@pytest.mark.parametrize("path", [
    "examples_tensor/polynomial_tensor.py",
    "examples_autograd/polynomial_autograd.py",
    "examples_nn/polynomial_nn.py",
    "examples_nn/polynomial_optim.py",
    "examples_nn/polynomial_module.py",
])
def test_polynomial_from_random_weights(path):
    assert_same_structure_and_finite(*run_on_both(path, SHORT_POLYNOMIAL))


def test_polynomial_custom_function_matches_pytorch():
    on_engine, on_torch = run_on_both("examples_autograd/polynomial_custom_function.py", SHORT_POLYNOMIAL)
    assert_prints_match(on_engine, on_torch, rtol=1e-4)


def test_dynamic_net():
    assert_same_structure_and_finite(*run_on_both("examples_nn/dynamic_net.py", {"range(30000)": "range(4000)"}))


def test_autogradqs():
    on_engine, on_torch = run_on_both("basics/autogradqs_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)
    start = on_torch.index("First call")
    assert_prints_match(on_engine[on_engine.index("First call"):], on_torch[start:])


def test_tensorqs():
    on_engine, on_torch = run_on_both("basics/tensorqs_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)
    # From the first row on, nothing printed depends on random draws.
    assert_prints_match(on_engine[on_engine.index("First row"):], on_torch[on_torch.index("First row"):])


def cut_idx(source, target, count):
    """The first ``count`` records of a gzipped IDX file, written uncompressed with the count in its header."""
    with gzip.open(source) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    record = math.prod(shape[1:])
    header = data[:4] + count.to_bytes(4, "big") + data[8: 4 + 4 * dims]
    target.write_bytes(header + data[4 + 4 * dims: 4 + 4 * dims + count * record])


@pytest.fixture
def small_fashion_mnist(tmp_path, monkeypatch):
    """Run in a fresh folder whose ``data/FashionMNIST/raw`` holds a cut of Debian's Fashion-MNIST (nothing is
    downloaded), with matplotlib stubbed."""
    if not DEBIAN_FASHION.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    raw = tmp_path / "data" / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    for split, count in FASHION_SIZES.items():
        for kind in ("images-idx3", "labels-idx1"):
            name = f"{split}-{kind}-ubyte"
            cut_idx(DEBIAN_FASHION / f"{name}.gz", raw / name, count)
    monkeypatch.chdir(tmp_path)
    plt = mock.MagicMock()
    monkeypatch.setitem(sys.modules, "matplotlib", mock.MagicMock(pyplot=plt))
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", plt)
    return tmp_path


def run_on_engine(path, substitutions):
    engine.manual_seed(0)
    return execute(tutorial(path, substitutions))


def assert_trained(printed, size):
    """A training run's print-out: epoch headers, losses and accuracies as the tutorial formats them."""
    assert re.search(rf"Epoch 1\n-{{31}}\nloss: [0-9.]+  \[ *\d+/ *{size}\]\n", printed), printed
    assert re.search(r"Test Error: \n Accuracy: [0-9.]+%, Avg loss: [0-9.]+ \n", printed), printed
    assert "Done!" in printed
    assert all(math.isfinite(n) for n in numbers(printed))


def test_quickstart(small_fashion_mnist):
    _, printed = run_on_engine("basics/quickstart_tutorial.py", {"epochs = 5": "epochs = 2"})
    # One space or two after the colon: the tutorial has printed with f-strings and with print's separator.
    assert re.search(r"Shape of X \[N, C, H, W\]: +torch\.Size\(\[64, 1, 28, 28\]\)", printed)
    assert re.search(r"Shape of y: +torch\.Size\(\[64\]\) torch\.int64", printed)
    assert printed.count("Epoch ") == 2
    assert_trained(printed, FASHION_SIZES["train"])
    assert (small_fashion_mnist / "model.pth").is_file()
    assert 'Actual: "Ankle boot"' in printed  # the first test image


def test_optimization(small_fashion_mnist):
    _, printed = run_on_engine("basics/optimization_tutorial.py", {"epochs = 10": "epochs = 1"})
    assert printed.count("Epoch ") == 1
    assert "[   64/  640]" in printed  # the loss after the first batch
    assert_trained(printed, FASHION_SIZES["train"])


def test_buildmodel():
    ns, printed = run_on_engine("basics/buildmodel_tutorial.py", {})
    reference = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(28 * 28, 512), torch.nn.ReLU())
    assert repr(reference[0]) in printed and repr(reference[1]) in printed
    assert "torch.Size([3, 784])" in printed and "torch.Size([3, 20])" in printed
    assert "Layer: linear_relu_stack.0.weight | Size: torch.Size([512, 784]) | Values : tensor([[" in printed
    assert tuple(ns["pred_probab"].shape) == (3, 10)


def test_blitz_tensor_tutorial():
    on_engine, on_torch = run_on_both("blitz/tensor_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)
    bridge = "tensor([1., 1., 1., 1., 1.])"  # the NumPy bridge, where values are fixed again
    assert_prints_match(on_engine[on_engine.index(bridge):], on_torch[on_torch.index(bridge):])


def test_blitz_autograd_tutorial():
    on_engine, on_torch = run_on_both("blitz/autograd_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)
    until_grad = on_torch.index("4.5000]])")  # up to x.grad, nothing printed depends on random draws but `a`'s
    assert_prints_match(on_engine[:until_grad], on_torch[:until_grad])


def test_blitz_neural_networks_tutorial():
    on_engine, on_torch = run_on_both("blitz/neural_networks_tutorial.py", {})
    assert skeleton(on_engine) == skeleton(on_torch)


def test_transforms(small_fashion_mnist):
    ns, _ = run_on_engine("basics/transforms_tutorial.py", {})
    image, target = ns["ds"][0]
    assert tuple(image.shape) == (1, 28, 28) and image.dtype is engine.float32
    assert target.tolist() == [0.0] * 9 + [1.0]  # the first image is an ankle boot, class 9
    assert ns["target_transform"](3).tolist() == [0.0, 0.0, 0.0, 1.0] + [0.0] * 6


def test_data_tutorial(small_fashion_mnist, monkeypatch):
    if "pandas" not in sys.modules:
        monkeypatch.setitem(sys.modules, "pandas", mock.MagicMock())  # only named in a class the tutorial never uses
    _, printed = run_on_engine("basics/data_tutorial.py", {})
    assert "Feature batch shape: torch.Size([64, 1, 28, 28])\nLabels batch shape: torch.Size([64])\n" in printed
    assert re.search(r"Label: \d\n", printed)  # a 0-d tensor formats as its item
    plt = sys.modules["matplotlib.pyplot"]
    assert plt.imshow.call_count == 10 and plt.show.call_count == 2


def test_saveloadrun(small_fashion_mnist):
    # No pretrained weights can be downloaded: the model starts untrained. The whole pickled model is loaded
    # with weights_only=False, as the tutorial now writes it: PyTorch >= 2.6 refuses it otherwise, and so do we.
    ns, _ = run_on_engine("basics/saveloadrun_tutorial.py", {"weights='IMAGENET1K_V1'": "weights=None",
                                                             "torch.load('model.pth')":
                                                             "torch.load('model.pth', weights_only=False)"})
    assert (small_fashion_mnist / "model_weights.pth").is_file() and (small_fashion_mnist / "model.pth").is_file()
    assert not ns["model"].training and type(ns["model"]) is engine.vision.models.VGG
