"""ONNX import against ONNX export: every template, every layer option the exporter writes and random
networks, exported with random weights and imported back, compute what onnxruntime computes on the file and
what the original document computes, with the same parameter count, node names and weights."""

import numpy as np
import pytest

import engine
from engine.graph import load_network, save_network
from engine.graph.export.model_info import model_info
from engine.graph.export.onnx_export import onnx_model
from engine.graph.export.weights import checked_arrays
from engine.graph.import_builder import weighted_module
from engine.graph.onnx_import import OnnxImportError, import_onnx, import_onnx_model, parse_model
from engine.graph.onnx_import.check import import_checked, max_difference
from engine.graph.onnx_import.rules import RULES
from engine.graph.templates import load_template

from ..export_cases import LAYER_CASES, assert_close, engine_outputs, random_weights, sample_input

ort = pytest.importorskip("onnxruntime")


def exported(network, seed=0):
    """``(ONNX bytes, state)``: ``network`` with random weights, as the exporter writes it."""
    state = random_weights(network, seed)
    return onnx_model(network, checked_arrays(network, state), model_info(network)).SerializeToString(), state


def onnxruntime_outputs(data, x):
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def imported_outputs(imported, x):
    with engine.no_grad():
        return weighted_module(imported.network, imported.arrays)(engine.from_numpy(x)).numpy()


def check_round_trip(network):
    data, state = exported(network)
    imported = import_onnx_model(parse_model(data, "model.onnx"), "model.onnx")
    x = sample_input(network)
    got = imported_outputs(imported, x)
    print(f"{network.title}: largest difference from onnxruntime {max_difference(data, imported):.3g}")
    assert_close(got, onnxruntime_outputs(data, x))
    assert_close(got, engine_outputs(network, state, x))
    assert imported.network.infer().total_params == network.infer().total_params
    return imported, state


def test_every_template_round_trips(template):
    imported, _ = check_round_trip(template)
    assert imported.network.title == template.title
    assert imported.network.input_node().params == template.input_node().params
    assert imported.classes  # the exporter's metadata names the classes


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_every_layer_option_round_trips(case):
    check_round_trip(LAYER_CASES[case]())


@pytest.mark.parametrize("seed", range(30))
def test_random_networks_round_trip(seed, random_network):
    check_round_trip(random_network(seed))


def test_layers_keep_their_names_types_and_weights(template):
    """The exporter names values after nodes and weights after ``state_dict`` keys: the import reads them back,
    so each layer with weights comes back as itself (Dropout, the identity in inference, is left out); the copies
    of a repeated group come back as layers of their own."""
    imported, state = check_round_trip(template)
    computed = template.infer().flat.nodes.values()
    original = {n.name: n for n in computed if n.type not in ("Dropout", "Dropout2d", "Input", "Output")}
    again = {n.name: n for n in imported.network.nodes.values() if n.type not in ("Input", "Output")}
    assert again.keys() == original.keys()
    for name, node in original.items():
        assert again[name].type == node.type, name
    for key, array in imported.arrays.items():  # ONNX has no batch count: it starts again at 0
        want = 0 if key.endswith("num_batches_tracked") else state[key].numpy()
        np.testing.assert_array_equal(array, want, err_msg=key)


def test_the_imported_document_saves_and_opens_again(tmp_path):
    data, _ = exported(LAYER_CASES["vision_transformer"]())
    path = tmp_path / "vit.onnx"
    path.write_bytes(data)
    imported = import_onnx(path)
    save_network(imported.network, tmp_path / "vit.llnet")
    again = load_network(tmp_path / "vit.llnet")
    assert [n.type for n in again.nodes.values()] == [n.type for n in imported.network.nodes.values()]
    assert again.infer().ok


def test_a_normalisation_other_than_the_datasets_is_noted():
    network = load_template("lenet_cifar10")
    assert not import_onnx_model(parse_model(exported(network)[0], "m.onnx"), "m.onnx").notes
    network.set_settings({"normalize": False})
    notes = import_onnx_model(parse_model(exported(network)[0], "m.onnx"), "m.onnx").notes
    assert len(notes) == 1 and "mean [0.0, 0.0, 0.0] and std [1.0, 1.0, 1.0]" in notes[0]


def test_an_import_onnxruntime_disagrees_with_is_refused(tmp_path, monkeypatch):
    """The last guard: were a rule wrong (here ReLU read as the identity), the check against onnxruntime refuses."""
    data, _ = exported(load_template("lenet_cifar10"))
    path = tmp_path / "lenet.onnx"
    path.write_bytes(data)
    assert import_checked(path)[1] < 1e-5
    monkeypatch.setitem(RULES, "Relu", RULES["Identity"])
    with pytest.raises(OnnxImportError, match="differs from onnxruntime's run of the file"):
        import_checked(path)
