"""The export entry point and the weight files: formats offered, the file names suggested and written,
refusals (documents with errors, weights that do not fit), round trips through safetensors (with the model's
metadata), .npz and the engine's own file, and clear errors for files that are not weights."""

import json
import os

import numpy as np
import pytest

import engine
from engine.graph import NetworkError
from engine.graph.export import (
    FORMATS,
    ExportError,
    ExportFormat,
    export_network,
    load_weights,
    output_paths,
    suggested_path,
)
from engine.graph.templates import load_template
from engine.serialization import WeightFileError

from .export_cases import chain, random_weights

WEIGHT_FORMATS = ("safetensors", "npz", "llw")


def test_formats_are_offered_in_order_with_their_extensions():
    assert list(FORMATS) == ["safetensors", "npz", "llw", "onnx", "pytorch", "engine"]
    assert all(isinstance(f, ExportFormat) and f.key == key and f.title and f.description
               for key, f in FORMATS.items())
    assert [f.extension for f in FORMATS.values()] == [".safetensors", ".npz", ".llw", ".onnx", ".py", ".py"]


@pytest.mark.parametrize("fmt", WEIGHT_FORMATS)
def test_weights_round_trip_with_pytorch_names_dtypes_and_order(fmt, tmp_path):
    network = load_template("resnet_cifar10")
    state = random_weights(network)
    (path,) = export_network(network, state, fmt, tmp_path / "weights")
    assert path == str(tmp_path / f"weights{FORMATS[fmt].extension}")
    loaded = load_weights(path)
    assert set(loaded) == set(state)
    assert "stem_bn.running_mean" in loaded and loaded["stem_bn.num_batches_tracked"].dtype == engine.int64
    for key, value in state.items():
        assert loaded[key].dtype == value.dtype
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())
    model = network.build()
    model.load_state_dict(loaded)  # strict


def test_safetensors_file_reads_with_the_safetensors_library(tmp_path):
    from safetensors.numpy import load_file

    network = load_template("lenet_cifar10")
    (path,) = export_network(network, None, "safetensors", tmp_path / "lenet.safetensors")
    arrays = load_file(path)
    assert sorted(arrays) == sorted(network.build().state_dict())
    assert arrays["conv1.weight"].shape == (6, 3, 5, 5) and arrays["conv1.weight"].dtype == np.float32


def test_safetensors_header_names_the_classes_and_the_normalisation(tmp_path):
    from safetensors import safe_open

    network = load_template("mlp_fashion_mnist")
    (path,) = export_network(network, None, "safetensors", tmp_path / "mlp")
    with safe_open(path, "np") as f:
        header = f.metadata()
    assert json.loads(header["class_names"])[:2] == ["T-shirt/top", "Trouser"]
    assert json.loads(header["normalize_mean"]) == [0.286] and json.loads(header["normalize_std"]) == [0.353]
    assert json.loads(header["input_shape"]) == [1, 28, 28] and header["producer"] == "LayerLab"


def test_suggested_and_written_paths(tmp_path):
    net = str(tmp_path / "my net.llnet")
    assert [os.path.basename(suggested_path(f, net)) for f in FORMATS] == [
        "my net.safetensors", "my net.npz", "my net.llw", "my net.onnx", "my net_pytorch.py", "my net_engine.py"]
    assert suggested_path("onnx", None, "LeNet (CIFAR-10 tutorial)", "/docs") == "/docs/LeNet_CIFAR-10_tutorial.onnx"
    assert suggested_path("npz", None, "??", "/docs") == "/docs/model.npz"
    assert output_paths("onnx", "/a/m") == ["/a/m.onnx"]
    assert output_paths("pytorch", "/a/m.py") == ["/a/m.py", "/a/m.safetensors"]
    network = load_template("mlp_fashion_mnist")
    for fmt in FORMATS:
        assert export_network(network, None, fmt, tmp_path / fmt) == output_paths(fmt, tmp_path / fmt)


def test_fresh_weights_when_no_state_dict_is_given(tmp_path):
    network = load_template("lenet_cifar10")
    (path,) = export_network(network, None, "llw", tmp_path / "fresh.llw")
    loaded = load_weights(path)
    assert {k: tuple(v.shape) for k, v in loaded.items()} == {
        k: tuple(v.shape) for k, v in network.build().state_dict().items()}
    assert float(loaded["conv1.weight"].abs().sum()) > 0


def test_engine_save_files_with_torch_extensions_load_too(tmp_path):
    network = load_template("lenet_cifar10")
    model = network.build()
    engine.save(model.state_dict(), tmp_path / "tutorial.pth")
    loaded = load_weights(tmp_path / "tutorial.pth")
    np.testing.assert_array_equal(loaded["fc3.bias"].numpy(), model.fc3.bias.detach().numpy())


def test_a_document_with_errors_is_refused_with_its_errors(tmp_path):
    network = load_template("lenet_cifar10")
    network.set_params(network.node_by_name("fc1").id, {"in_features": 123})
    network.remove_node(network.node_by_name("relu3").id)
    for fmt in FORMATS:
        with pytest.raises(NetworkError, match=r"^the network 'LeNet \(CIFAR-10 tutorial\)' has 3 errors:\n") as caught:
            export_network(network, None, fmt, tmp_path / "out")
        lines = str(caught.value).splitlines()[1:]
        assert "  - Linear 'fc1': Linear expects 123 input features but receives 400" in lines
        assert "  - Linear 'fc2' needs an input" in lines and len(lines) == 3
    assert list(tmp_path.iterdir()) == []


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown export format 'tflite'; expected one of safetensors, npz"):
        export_network(load_template("lenet_cifar10"), None, "tflite", tmp_path / "m")


def test_weights_that_do_not_fit_name_every_key_and_write_nothing(tmp_path):
    network = chain((3, 8, 8), [("Conv2d", {"out_channels": 4}), ("BatchNorm2d", {})])
    state = random_weights(network)
    state["conv1.weight"] = engine.zeros(4, 3, 5, 5)
    del state["bn1.running_var"]
    state["fc9.weight"] = engine.zeros(2)
    target = tmp_path / "w.safetensors"
    target.write_bytes(b"old")
    with pytest.raises(ExportError) as caught:
        export_network(network, state, "safetensors", target)
    message = str(caught.value)
    assert "the weights do not match the network 'case'" in message
    assert "missing bn1.running_var" in message and "unexpected fc9.weight" in message
    assert "conv1.weight has shape (4, 3, 5, 5) but the network needs (4, 3, 3, 3)" in message
    assert target.read_bytes() == b"old"  # refused before writing anything


def test_weight_values_must_be_tensors(tmp_path):
    network = chain((3,), [("Linear", {"out_features": 2})])
    with pytest.raises(ExportError, match="weight 'fc1.bias' is a list, not a tensor"):
        export_network(network, {"fc1.weight": engine.zeros(2, 3), "fc1.bias": [0.0, 0.0]}, "npz", tmp_path / "w")


def test_numpy_arrays_are_accepted_and_cast_to_the_module_dtypes(tmp_path):
    network = chain((3,), [("BatchNorm1d", {})])
    state = {k: v.numpy().astype(np.float64) for k, v in random_weights(network).items()}
    (path,) = export_network(network, state, "npz", tmp_path / "w.npz")
    loaded = load_weights(path)
    assert loaded["bn1.weight"].dtype == engine.float32 and loaded["bn1.num_batches_tracked"].dtype == engine.int64
    np.testing.assert_allclose(loaded["bn1.running_var"].numpy(), state["bn1.running_var"], rtol=1e-6)


def test_an_existing_file_is_replaced_whole(tmp_path):
    network = chain((3,), [("Linear", {"out_features": 2})])
    target = tmp_path / "w.npz"
    target.write_bytes(b"x" * 100_000)
    export_network(network, None, "npz", target)
    assert set(load_weights(target)) == {"fc1.weight", "fc1.bias"}
    assert [p.name for p in tmp_path.iterdir()] == ["w.npz"]  # no temporary file left behind


# ----- reading files that are not weights -----
def test_unknown_extension_names_the_file(tmp_path):
    path = tmp_path / "weights.bin"
    path.write_bytes(b"\0" * 16)
    with pytest.raises(WeightFileError, match=r"weights\.bin: unknown weight file extension; expected one of "
                                              r"\.safetensors, \.npz, \.llw"):
        load_weights(path)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nothing\.npz: no such weight file"):
        load_weights(tmp_path / "nothing.npz")


@pytest.mark.parametrize("name", ["broken.npz", "broken.safetensors", "broken.llw"])
def test_corrupt_files_name_the_file(name, tmp_path):
    path = tmp_path / name
    path.write_bytes(b"this is not a weight file at all" * 4)
    with pytest.raises(WeightFileError, match=name.replace(".", r"\.")):
        load_weights(path)


def test_npz_with_objects_is_refused_without_unpickling(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, weight=np.array([{"a": 1}], dtype=object))
    with pytest.raises(WeightFileError, match=r"objects\.npz: array 'weight' has dtype object, which the engine "
                                                r"does not support"):
        load_weights(path)


def test_npz_of_non_numbers_is_refused(tmp_path):
    path = tmp_path / "text.npz"
    np.savez(path, names=np.array(["a", "b"]))
    with pytest.raises(WeightFileError, match=r"text\.npz: array 'names' has dtype <U1, which the engine does "
                                               r"not support"):
        load_weights(path)


def test_a_single_npy_array_is_not_named_weights(tmp_path):
    path = tmp_path / "single.npz"
    with open(path, "wb") as fh:
        np.save(fh, np.zeros(3))
    with pytest.raises(WeightFileError, match=r"single\.npz: holds a single \.npy array"):
        load_weights(path)


@pytest.mark.parametrize("content, problem", [
    ([engine.zeros(2)], "holds a list, not a dict of weights"),
    ({"fc.weight": engine.zeros(2), "lr": 0.1}, "entry 'lr' is a float, not a tensor"),
    ({"model": {"fc.weight": engine.zeros(2)}, "optimizer": {}}, "is a training checkpoint"),
])
def test_engine_files_must_hold_named_tensors(content, problem, tmp_path):
    path = tmp_path / "content.llw"
    engine.save(content, path)
    with pytest.raises(WeightFileError, match=r"content\.llw: " + problem):
        load_weights(path)
