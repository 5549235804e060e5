"""``main.py export``: weights from a run or fresh, each format's files with the run's class names, existing
files kept unless forced, and refusals."""

import json

import numpy as np
import onnx
import pytest
from cli_helpers import CIFAR_NAMES, copy_template

import engine
import main as entry
from engine.graph import load_network, save_network
from engine.graph.export import FORMATS, load_weights


@pytest.fixture(scope="module")
def trained(tmp_path_factory, cifar_root):
    """LeNet trained for one epoch on the generated CIFAR files."""
    folder = tmp_path_factory.mktemp("lenet")
    net = copy_template("lenet_cifar10", folder)
    code = entry.main(["train", str(net), "--data", str(cifar_root), "--epochs", "1", "--batch-size", "20",
                       "--out", str(folder / "run")])
    assert code == 0
    return net, folder / "run"


def arrays(state):
    return {k: np.asarray(v.numpy()) for k, v in state.items()}


@pytest.mark.parametrize("fmt", ["safetensors", "npz", "llw"])
def test_weight_formats_hold_the_trained_weights(cli, trained, tmp_path, fmt):
    net, run = trained
    result = cli("export", net, run, "--format", fmt, "--out", tmp_path / "w")
    assert result.code == 0, result
    assert result.out == f"wrote {tmp_path / 'w'}{FORMATS[fmt].extension}\n"
    exported = arrays(load_weights(tmp_path / f"w{FORMATS[fmt].extension}"))
    expected = arrays(engine.load_safetensors(run / "weights.safetensors"))
    assert exported.keys() == expected.keys()
    assert all(np.array_equal(exported[k], expected[k]) for k in expected)


def test_default_output_is_beside_the_network(cli, trained):
    net, run = trained
    result = cli("export", net, run, "--format", "pytorch")
    assert result.code == 0, result
    code = net.parent / "lenet_cifar10_pytorch.py"
    assert f"wrote {code}" in result.out.splitlines()
    assert "class" in code.read_text()
    again = cli("export", net, run, "--format", "pytorch")
    assert again.code == 2 and again.err.startswith(f"main.py export: error: {code} and ")
    assert "pass --force to replace" in again.err


def test_existing_files_are_kept_unless_forced(cli, trained, tmp_path):
    net, run = trained
    beside = tmp_path / "m.safetensors"  # the weights file a code export writes beside m.py
    beside.write_bytes(b"someone's weights")
    result = cli("export", net, run, "--format", "engine", "--out", tmp_path / "m.py")
    assert result.code == 2 and f"{beside} exists already; pass --force" in result.err
    assert beside.read_bytes() == b"someone's weights" and not (tmp_path / "m.py").exists()
    result = cli("export", net, run, "--format", "engine", "--out", tmp_path / "m.py", "--force")
    assert result.code == 0, result
    assert set(load_weights(beside)) == set(load_network(net).build().state_dict())


def test_onnx_runs_like_the_engine(cli, trained, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    net, run = trained
    assert cli("export", net, run, "--format", "onnx", "--out", tmp_path / "m.onnx").code == 0
    metadata = {p.key: p.value for p in onnx.load(tmp_path / "m.onnx").metadata_props}
    assert json.loads(metadata["class_names"]) == CIFAR_NAMES  # the run's names, not the dataset's short ones
    network = load_network(net)
    model = network.build()
    model.load_state_dict(engine.load_safetensors(run / "weights.safetensors"))
    model.eval()
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    (got,) = session.run(None, {session.get_inputs()[0].name: x})
    with engine.no_grad():
        want = model(engine.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_fresh_weights_follow_the_seed(cli, tmp_path):
    net = copy_template("mlp_fashion_mnist", tmp_path)
    assert cli("export", net, "-", "--format", "npz", "--out", tmp_path / "a").code == 0
    assert cli("export", net, "-", "--format", "npz", "--out", tmp_path / "b").code == 0
    a, b = arrays(load_weights(tmp_path / "a.npz")), arrays(load_weights(tmp_path / "b.npz"))
    assert list(a) == ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias", "fc3.weight", "fc3.bias"]
    assert all(np.array_equal(a[k], b[k]) for k in a)


def test_refusals(cli, trained, tmp_path):
    net, run = trained
    result = cli("export", net, run, "--format", "tflite")
    assert result.code == 2
    assert result.err == ("main.py export: error: unknown format 'tflite'; choose one of "
                          f"{', '.join(FORMATS)}\n")
    mlp = copy_template("mlp_fashion_mnist", tmp_path)
    result = cli("export", mlp, run, "--format", "onnx")
    assert result.code == 2 and "the weights do not match the network" in result.err
    network = load_network(net)
    network.set_params(network.node_by_name("fc3").id, {"out_features": 7})
    save_network(network, tmp_path / "broken.llnet")
    result = cli("export", tmp_path / "broken.llnet", "-", "--format", "onnx")
    assert result.code == 2
    assert result.err.splitlines()[0].endswith("cannot export the network 'LeNet (CIFAR-10 tutorial)': it has 1 error")
    assert "CrossEntropyLoss expects 10 class scores for CIFAR-10 but receives 7" in result.err
    assert not (tmp_path / "broken.onnx").exists()
