"""ONNX export: the exported model, run by onnxruntime, computes what the engine's module computes in
evaluation mode, for every template, for documents using every layer type and option, and for random
networks; its metadata names the classes and says how to prepare an input."""

import json

import numpy as np
import onnx
import pytest

from engine.graph import DATASETS, layer_types
from engine.graph.export import export_network
from engine.graph.export.onnx_export import OPSET, RULES, NoOnnxRuleError
from engine.graph.templates import load_template

from .export_cases import (
    LAYER_CASES,
    assert_close,
    chain,
    engine_outputs,
    prepared_as_in_training,
    random_weights,
    sample_image,
    sample_input,
)

ort = pytest.importorskip("onnxruntime")


def run_onnx(path, x):
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    return session.run(["output"], {"input": x})[0]


def check_matches_engine(network, tmp_path, batch=2):
    state = random_weights(network)
    (path,) = export_network(network, state, "onnx", tmp_path / "model.onnx")
    x = sample_input(network, batch)
    got, want = run_onnx(path, x), engine_outputs(network, state, x)
    assert got.shape == want.shape
    assert_close(got, want)
    return path


def test_every_template_matches_the_engine(template, tmp_path):
    check_matches_engine(template, tmp_path)


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_every_layer_option_matches_the_engine(case, tmp_path):
    check_matches_engine(LAYER_CASES[case](), tmp_path)


@pytest.mark.parametrize("seed", range(30))
def test_random_networks_match_the_engine(seed, random_network, tmp_path):
    check_matches_engine(random_network(seed), tmp_path)


def test_the_cases_use_every_layer_type_and_every_type_has_a_rule():
    catalogue = {lt.name for lt in layer_types()}
    used = {node.type for make in LAYER_CASES.values() for node in make().nodes.values()}
    assert used == catalogue
    assert set(RULES) == catalogue


def test_model_interface_names_opset_and_dynamic_batch(tmp_path):
    network = LAYER_CASES["merges"]()
    path = check_matches_engine(network, tmp_path, batch=3)
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert [(o.domain, o.version) for o in model.opset_import] == [("", OPSET)] and OPSET == 17
    (inp,), (out,) = model.graph.input, model.graph.output
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert inp.name == "input" and dims == ["batch", 2, 6, 5]
    assert out.name == "output" and [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == [
        "batch", 6, 6, 10]
    # weights keep their state_dict names; values are named after their nodes
    assert {"x.weight", "x.bias", "torch.weight", "conv1.weight"} <= {i.name for i in model.graph.initializer}
    assert {"x", "torch", "add1"} <= {o for n in model.graph.node for o in n.output}
    x = sample_input(network, batch=1)
    assert run_onnx(path, x).shape == (1, 6, 6, 10)


def test_batch_norm_uses_running_statistics_and_dropout_is_identity(tmp_path):
    network = chain((3,), [("BatchNorm1d", {}), ("Dropout", {"p": 0.9})])
    state = random_weights(network)
    (path,) = export_network(network, state, "onnx", tmp_path / "bn.onnx")
    x = sample_input(network, batch=4)
    mean, var = state["bn1.running_mean"].numpy(), state["bn1.running_var"].numpy()
    scale, shift = state["bn1.weight"].numpy(), state["bn1.bias"].numpy()
    np.testing.assert_allclose(run_onnx(path, x), (x - mean) / np.sqrt(var + 1e-5) * scale + shift, rtol=1e-5,
                               atol=1e-6)


def test_a_layer_type_without_a_rule_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.delitem(RULES, "Tanh")
    network = chain((3,), [("Tanh", {})])
    with pytest.raises(NoOnnxRuleError, match=r"Tanh 'tanh1'.*no rule for layer type 'Tanh'") as caught:
        export_network(network, None, "onnx", tmp_path / "m.onnx")
    assert isinstance(caught.value, NotImplementedError)
    assert not (tmp_path / "m.onnx").exists()


def metadata(path):
    return {p.key: p.value for p in onnx.load(path).metadata_props}


def test_metadata_names_the_classes_and_prepares_images_as_training_did(template, tmp_path):
    """A user following only the metadata (scale to [0, 1], subtract the mean, divide by the std) gets the
    engine's output on the image the training recipe prepares."""
    state = random_weights(template)
    (path,) = export_network(template, state, "onnx", tmp_path / "model.onnx")
    meta = metadata(path)
    dataset = DATASETS[template.input_node().params["dataset"]]
    assert json.loads(meta["class_names"]) == list(dataset.classes) and len(dataset.classes) == 10
    assert json.loads(meta["input_shape"]) == list(template.input_node().params["shape"])
    assert meta["producer"] == "LayerLab" and meta["source"] == template.title
    assert json.loads(meta["normalize_mean"]) == pytest.approx(dataset.mean)
    assert json.loads(meta["normalize_std"]) == pytest.approx(dataset.std)
    image = sample_image(template)
    pixels = np.asarray(image, np.float32).reshape(*json.loads(meta["input_shape"])[1:], -1) / 255
    x = ((pixels - json.loads(meta["normalize_mean"])) / json.loads(meta["normalize_std"])).astype(np.float32)
    got = run_onnx(path, x.transpose(2, 0, 1)[None])
    assert_close(got, engine_outputs(template, state, prepared_as_in_training(template, image)))


def test_metadata_follows_the_names_given_and_the_settings(tmp_path):
    network = load_template("lenet_cifar10")
    network.set_settings({"normalize": False})
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    meta = metadata(export_network(network, None, "onnx", tmp_path / "a.onnx", classes=names)[0])
    assert json.loads(meta["class_names"]) == names
    assert json.loads(meta["normalize_mean"]) == [0, 0, 0] and json.loads(meta["normalize_std"]) == [1, 1, 1]
    # names that do not fit the outputs are left out, and an input that is not an image has no normalisation
    meta = metadata(export_network(network, None, "onnx", tmp_path / "b.onnx", classes=names[:3])[0])
    assert json.loads(meta["class_names"]) == []
    meta = metadata(export_network(LAYER_CASES["norm1d_sequence"](), None, "onnx", tmp_path / "c.onnx")[0])
    assert json.loads(meta["input_shape"]) == [4, 6] and "normalize_mean" not in meta
