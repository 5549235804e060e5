"""Fine-tuning's start: the weights of an earlier (or imported) run go into the layers they fit by name and
shape; a replaced head starts fresh; weights that fit nothing are refused naming their file."""

import numpy as np
import pytest

import engine
from engine.graph.templates import load_template
from engine.training.imported_run import save_imported_run
from engine.training.initial_weights import load_initial_weights
from engine.training.run_errors import RunFileError


def arrays_of(module):
    return {k: v.detach().numpy().copy() for k, v in module.state_dict().items()}


@pytest.fixture
def imported(tmp_path):
    """A LeNet 'imported' run whose weights are random (not what the seed gives)."""
    network = load_template("lenet_cifar10")
    rng = np.random.default_rng(0)
    weights = {k: rng.standard_normal(v.shape).astype(v.dtype) for k, v in arrays_of(network.build()).items()}
    save_imported_run(network, weights, tmp_path / "lenet.llnet", "lenet.onnx", ("a", "b"))
    return tmp_path / "lenet.runs" / "imported", weights


def test_every_weight_that_fits_is_taken(imported):
    folder, weights = imported
    model = load_template("lenet_cifar10").build()
    done = load_initial_weights(model, folder)
    assert not done.fresh and len(done.loaded) == len(weights)
    for key, array in arrays_of(model).items():
        np.testing.assert_array_equal(array, weights[key])
    assert done.summary().endswith(f"{len(weights)} of {len(weights)} weights")


def test_a_replaced_head_starts_fresh_and_the_body_takes_the_weights(imported):
    folder, weights = imported
    network = load_template("lenet_cifar10")
    head = network.node_by_name("fc3")
    network.set_params(head.id, {"out_features": 5})
    network.input_node().params["dataset"] = "Image folder"
    engine.manual_seed(0)
    model = network.build()
    before = arrays_of(model)
    done = load_initial_weights(model, folder)
    assert set(done.fresh) == {"fc3.weight", "fc3.bias"}
    after = arrays_of(model)
    np.testing.assert_array_equal(after["fc3.weight"], before["fc3.weight"])
    np.testing.assert_array_equal(after["conv1.weight"], weights["conv1.weight"])
    assert "fresh: fc3.weight, fc3.bias" in done.summary()


def test_weights_that_fit_nothing_are_refused(imported):
    folder, _ = imported
    model = load_template("resnet_cifar10").build()  # other names throughout
    with pytest.raises(RunFileError, match="none of its weights fit the network"):
        load_initial_weights(model, folder)
