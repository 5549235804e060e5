"""``main.py eval`` and ``main.py predict`` on weights from a real (short) training run, and their errors."""

import re

import numpy as np
import pytest
from cli_helpers import copy_template, needs_fashion_mnist, run_subprocess
from PIL import Image

import engine
import main as entry
from engine.graph import DATASETS, load_network
from engine.training.recipe import eval_transform
from engine.vision.datasets import FashionMNIST

pytestmark = needs_fashion_mnist
CLASSES = DATASETS["Fashion-MNIST"].classes


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A network file and the run folder of one epoch on 512 images."""
    folder = tmp_path_factory.mktemp("trained")
    net = copy_template("mlp_fashion_mnist", folder)
    assert entry.main(["train", str(net), "--limit", "512", "--epochs", "1", "--out", str(folder / "run")]) == 0
    return net, folder / "run"


def confusion_rows(out):
    """The confusion matrix printed by eval, as {true class: counts}."""
    table = out.split("Confusion matrix (rows: true class, columns: predicted class):\n")[1].splitlines()
    assert table[0].split()[:3] == ["true", "\\", "predicted"]
    rows = {}
    for line in table[2:]:
        name, counts = re.fullmatch(r"(.+?)\s+((?:\d+\s*){10})", line).groups()
        rows[name] = [int(v) for v in counts.split()]
    return rows


def test_eval_prints_accuracy_per_class_and_confusion_matrix(cli, trained):
    net, run = trained
    result = cli("eval", net, run / "weights.safetensors", "--limit", 300)
    assert result.code == 0, result
    accuracy = float(re.search(r"Accuracy of the network on the 300 test images: ([\d.]+) %", result.out).group(1))
    per_class = dict(re.findall(r"Accuracy of\s+(.+?) : +(\d+) %", result.out))
    assert list(per_class) == list(CLASSES)
    rows = confusion_rows(result.out)
    assert list(rows) == list(CLASSES)
    cm = np.array(list(rows.values()))
    assert cm.sum() == 300
    assert accuracy == pytest.approx(100 * np.trace(cm) / 300, abs=0.005)
    for i, name in enumerate(CLASSES):
        assert int(per_class[name]) == round(100 * cm[i, i] / cm[i].sum())


def test_eval_accepts_a_run_folder_and_its_checkpoint(cli, trained):
    net, run = trained
    by_folder = cli("eval", net, run, "--limit", 100)
    assert by_folder.code == 0 and f"with {run / 'weights.safetensors'}" in by_folder.out
    by_checkpoint = cli("eval", net, run / "checkpoint.llw", "--limit", 100)
    assert by_checkpoint.code == 0
    assert confusion_rows(by_folder.out) == confusion_rows(by_checkpoint.out)  # the same weights


def write_pngs(folder, count=4):
    """The first test images as PNG files: grayscale at 28×28, and one as a 56×56 RGB picture."""
    test = FashionMNIST(None, train=False)
    paths = []
    for i in range(count):
        image, _ = test[i]
        paths.append(folder / f"test{i}.png")
        image.save(paths[-1])
    big = folder / "big_rgb.png"
    test[0][0].convert("RGB").resize((56, 56), Image.NEAREST).save(big)
    return test, paths, big


def parse_predictions(out):
    blocks = {}
    for line in out.splitlines():
        if not line.startswith(" "):
            current = blocks.setdefault(line, [])
        else:
            p, name = re.fullmatch(r"\s+([\d.]+) %  (.+)", line).groups()
            current.append((name, float(p)))
    return blocks


def test_predict_matches_the_model_on_the_dataset_images(cli, trained, tmp_path):
    net, run = trained
    test, paths, big = write_pngs(tmp_path)
    result = cli("predict", net, run, *paths, big)
    assert result.code == 0, result
    blocks = parse_predictions(result.out)
    assert list(blocks) == [str(p) for p in [*paths, big]]
    # The same preprocessing as training: the model's probabilities on the dataset's own tensors
    network = load_network(net)
    model = network.build()
    model.load_state_dict(engine.load_safetensors(run / "weights.safetensors"))
    model.eval()
    transform = eval_transform(network)
    batch = engine.stack([transform(test[i][0]) for i in range(len(paths))])
    with engine.no_grad():
        expected = model(batch).softmax(1).numpy()
    for path, probabilities in zip(paths, expected):
        top = blocks[str(path)]
        assert len(top) == 5
        order = np.argsort(-probabilities)[:5]
        assert [name for name, _ in top] == [CLASSES[i] for i in order]
        assert [p for _, p in top] == pytest.approx([100 * probabilities[i] for i in order], abs=0.006)
    # an RGB picture at twice the size is read as grey and shrunk to 28×28
    assert blocks[str(big)][0][0] == blocks[str(paths[0])][0][0]


def test_predict_top_k_in_a_subprocess(trained, tmp_path):
    net, run = trained
    _, paths, _ = write_pngs(tmp_path, count=1)
    result = run_subprocess("predict", net, run / "weights.safetensors", paths[0], "--top", 2)
    assert result.code == 0, result
    assert len(parse_predictions(result.out)[str(paths[0])]) == 2


def test_weights_that_do_not_fit_the_network(cli, trained, tmp_path, cifar_root):
    _, run = trained
    lenet = copy_template("lenet_cifar10", tmp_path)
    result = cli("eval", lenet, run, "--data", cifar_root)
    assert result.code == 2
    first = result.err.splitlines()[0]
    assert first.startswith(f"main.py eval: error: {run / 'weights.safetensors'}: the weights do not match the "
                            f"network {lenet}: Missing key(s) in state_dict: \"conv1.weight\"")
    assert "Traceback" not in result.err


def test_missing_and_damaged_weight_files(cli, trained, tmp_path):
    net, _ = trained
    result = cli("eval", net, tmp_path / "none.safetensors")
    assert result.code == 2
    assert result.err == f"main.py eval: error: {tmp_path / 'none.safetensors'}: no such weight file\n"
    damaged = tmp_path / "damaged.safetensors"
    damaged.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not a header")
    result = cli("predict", net, damaged, tmp_path / "x.png")
    assert result.code == 2
    assert result.err.startswith(f"main.py predict: error: {damaged}: not a valid safetensors file")
    result = cli("eval", net, tmp_path)
    assert result.code == 2 and "not a run folder" in result.err


def test_bad_images_and_options(cli, trained, tmp_path):
    net, run = trained
    not_image = tmp_path / "notes.png"
    not_image.write_text("hello")
    result = cli("predict", net, run, not_image)
    assert result.code == 2 and result.err.startswith(f"main.py predict: error: {not_image}: cannot read the image")
    _, paths, _ = write_pngs(tmp_path, count=1)
    assert cli("predict", net, run, paths[0], "--top", 0).code == 2


def test_eval_without_the_dataset(cli, tmp_path):
    lenet = copy_template("lenet_cifar10", tmp_path)
    assert cli("export", lenet, "-", "--format", "safetensors").code == 0
    result = cli("eval", lenet, tmp_path / "lenet_cifar10.safetensors", "--data", tmp_path / "empty")
    assert result.code == 2
    assert result.err.splitlines()[0] == (f"main.py eval: error: the CIFAR-10 dataset was not found in "
                                          f"{tmp_path / 'empty'}: pass --data DIR or --download")
