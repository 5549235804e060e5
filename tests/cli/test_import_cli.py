"""``main.py import``: an ONNX model becomes NET.llnet and NET.runs/imported/, whose weights evaluate, predict
and export like a trained run's; existing files are kept unless forced; a bad file is one line naming it."""

import pytest
from cli_helpers import REPO, copy_template

import main as entry
from engine.graph import load_network
from engine.training import load_run

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def exported(tmp_path_factory, cifar_root):
    """LeNet trained for one epoch on the generated CIFAR files, exported as ONNX: (model, network, run)."""
    folder = tmp_path_factory.mktemp("lenet")
    net = copy_template("lenet_cifar10", folder)
    assert entry.main(["train", str(net), "--data", str(cifar_root), "--epochs", "1", "--batch-size", "20",
                       "--out", str(folder / "run")]) == 0
    assert entry.main(["export", str(net), str(folder / "run"), "--format", "onnx", "--out",
                       str(folder / "lenet.onnx")]) == 0
    return folder / "lenet.onnx", net, folder / "run"


def accuracy_line(result):
    return next(line for line in result.out.splitlines() if "accuracy" in line.lower())


def test_import_writes_the_network_and_a_finished_run_that_evaluates_as_the_original(cli, exported, tmp_path,
                                                                                      cifar_root):
    model, net, run = exported
    result = cli("import", model, "--out", tmp_path / "imported.llnet")
    assert result.code == 0, result
    assert "largest difference" in result.out
    assert f"wrote {tmp_path / 'imported.llnet'}" in result.out
    network = load_network(tmp_path / "imported.llnet")
    assert [n.type for n in network.nodes.values()] == [n.type for n in load_network(net).nodes.values()]
    imported_run = load_run(tmp_path / "imported.runs" / "imported")
    assert imported_run.status == "finished" and imported_run.trained_weights_path
    assert imported_run.classes[:2] == ["airplane", "automobile"]
    original = cli("eval", net, run, "--data", cifar_root)
    again = cli("eval", tmp_path / "imported.llnet", tmp_path / "imported.runs" / "imported", "--data", cifar_root)
    assert original.code == again.code == 0, (original, again)
    assert accuracy_line(again) == accuracy_line(original)


def test_the_imported_weights_export_again(cli, exported, tmp_path):
    model, _, _ = exported
    assert cli("import", model, "--out", tmp_path / "net.llnet").code == 0
    result = cli("export", tmp_path / "net.llnet", tmp_path / "net.runs" / "imported", "--format", "safetensors")
    assert result.code == 0, result


def test_existing_files_are_kept_unless_forced(cli, exported, tmp_path):
    model, _, _ = exported
    out = tmp_path / "net.llnet"
    assert cli("import", model, "--out", out).code == 0
    stamp = out.stat().st_mtime_ns
    refused = cli("import", model, "--out", out)
    assert refused.code == 2 and "exist already; pass --force" in refused.err
    assert out.stat().st_mtime_ns == stamp
    assert cli("import", model, "--out", out, "--force").code == 0


def test_the_default_output_is_beside_the_model(cli, exported, tmp_path):
    model, _, _ = exported
    copy = tmp_path / "copy.onnx"
    copy.write_bytes(model.read_bytes())
    assert cli("import", copy).code == 0
    assert (tmp_path / "copy.llnet").is_file() and (tmp_path / "copy.runs" / "imported" / "run.json").is_file()


def test_a_bad_file_is_one_line_naming_it(cli, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x00\x01 not a model")
    result = cli("import", bad)
    assert result.code == 2
    assert result.err.startswith(f"main.py import: error: {bad}: not an ONNX model")
    assert "Traceback" not in result.err and not (tmp_path / "bad.llnet").exists()
    other = cli("import", tmp_path / "model.pt")
    assert other.code == 2 and "a weights file holds no network" in other.err


def test_training_can_start_from_the_imported_weights(cli, exported, tmp_path, cifar_root):
    model, _, _ = exported
    assert cli("import", model, "--out", tmp_path / "net.llnet").code == 0
    result = cli("train", tmp_path / "net.llnet", "--data", cifar_root, "--epochs", "1", "--batch-size", "20",
                 "--init", tmp_path / "net.runs" / "imported")
    assert result.code == 0, result
    assert f"starting from {tmp_path / 'net.runs' / 'imported' / 'weights.safetensors'}: 10 of 10 weights" in result.out
    both = cli("train", tmp_path / "net.llnet", "--init", tmp_path / "net.runs" / "imported", "--resume",
               tmp_path / "net.runs" / "imported")
    assert both.code == 2 and "give one of them" in both.err


MODELS = REPO / "tests" / "engine" / "graph" / "onnx_import" / "torch_models.py"


def test_a_pytorch_class_imports_with_its_checkpoint(cli, tmp_path):
    torch = pytest.importorskip("torch")
    torch_models = pytest.importorskip("tests.engine.graph.onnx_import.torch_models")
    torch.manual_seed(0)
    torch.save(torch_models.ResNet18().state_dict(), tmp_path / "resnet.pth")
    result = cli("import", f"{MODELS}:ResNet18", "--weights", tmp_path / "resnet.pth", "--out",
                 tmp_path / "resnet.llnet")
    assert result.code == 0, result
    assert "checked against the model itself" in result.out and "11,181,642 parameters" in result.out
    assert load_run(tmp_path / "resnet.runs" / "imported").status == "finished"


def test_a_known_architecture_imports(cli, tmp_path):
    result = cli("import", "vision:resnet18", "--args", '{"num_classes": 10}', "--out", tmp_path / "r18.llnet")
    assert result.code == 0, result
    assert load_network(tmp_path / "r18.llnet").input_node().params["dataset"] == "CIFAR-10"


@pytest.mark.parametrize("args, message", [
    (("vision:nope",), "no such architecture; vision.models has"),
    (("vision:resnet18", "--args", "[1]"), "--args must be a JSON object"),
    (("vision:resnet18", "--args", "{bad"), "--args is not JSON"),
    (("vision:resnet18", "--input", "3xbig"), "--input '3xbig'"),
    ((f"{MODELS}:Nothing",), "no nn.Module class 'Nothing'"),
    (("model.py",), "give MODEL.onnx, model.py:ClassName or vision:NAME"),
])
def test_bad_class_imports_are_one_line(cli, tmp_path, args, message):
    result = cli("import", *args, "--out", tmp_path / "x.llnet")
    assert result.code == 2 and message in result.err, result
