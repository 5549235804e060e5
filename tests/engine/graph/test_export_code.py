"""Python code export: the PyTorch module and the engine script rebuild the document's network with the same
state_dict names and outputs, the PyTorch module comes with its class names and the input preparation of
training, and the engine script trains with the document's recipe (transforms, split, optimizer, schedule)
and runs end to end."""

import json
import os
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

import engine
from engine.graph import DATASETS
from engine.graph.export import ExportError, export_network, model_info
from engine.graph.settings import optimizer_options
from engine.graph.templates import load_template
from engine.training import recipe

from .export_cases import (
    LAYER_CASES,
    assert_close,
    engine_outputs,
    prepared_as_in_training,
    random_weights,
    sample_image,
    sample_input,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CASES = sorted(LAYER_CASES)
IMAGE_CASES = [c for c in CASES if len(LAYER_CASES[c]().input_node().params["shape"]) == 3]


def exported(network, flavour, tmp_path, state=None):
    """(namespace of the generated script, not run as __main__; its model class; script path; weights path)."""
    script, weights = export_network(network, state, flavour, tmp_path / "model")
    namespace = runpy.run_path(script, run_name="exported_model")
    classes = [v for v in namespace.values() if isinstance(v, type) and v.__module__ == "exported_model"]
    assert len(classes) == 1
    return namespace, classes[0], script, weights


# ----- PyTorch -----
def check_pytorch(network, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    state = random_weights(network)
    _, cls, _, weights = exported(network, "pytorch", tmp_path, state)
    model = cls()
    model.load_state_dict(load_file(weights), strict=True)
    assert list(model.state_dict()) == list(network.build().state_dict())
    model.eval()
    x = sample_input(network)
    with torch.no_grad():
        got = model(torch.from_numpy(x)).numpy()
    assert_close(got, engine_outputs(network, state, x))


def test_pytorch_code_matches_the_engine_for_every_template(template, tmp_path):
    check_pytorch(template, tmp_path)


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("case", CASES)
def test_pytorch_code_matches_the_engine_for_every_layer_option(case, tmp_path):
    check_pytorch(LAYER_CASES[case](), tmp_path)


@pytest.mark.parametrize("seed", range(8))
def test_pytorch_code_matches_the_engine_for_random_networks(seed, random_network, tmp_path):
    check_pytorch(random_network(seed), tmp_path)


def test_pytorch_code_names_the_classes_and_prepares_images_as_training_did(template, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    state = random_weights(template)
    namespace, cls, _, weights = exported(template, "pytorch", tmp_path, state)
    dataset = DATASETS[template.input_node().params["dataset"]]
    assert namespace["CLASSES"] == list(dataset.classes) and len(dataset.classes) == 10
    assert namespace["MEAN"] == dataset.mean and namespace["STD"] == dataset.std
    assert "CLASSES names the model's outputs" in namespace["__doc__"] and "MEAN and STD" in namespace["__doc__"]
    model = cls()
    model.load_state_dict(load_file(weights))
    model.eval()
    image = sample_image(template)
    with torch.no_grad():
        got = model(namespace["preprocess"](image)).numpy()
    assert_close(got, engine_outputs(template, state, prepared_as_in_training(template, image)))


def test_code_weights_carry_the_metadata_of_the_model(tmp_path):
    network = load_template("mlp_fashion_mnist")
    names = [f"kind {k}" for k in range(10)]
    _, weights = export_network(network, None, "engine", tmp_path / "mlp.py", classes=names)
    with safe_open(weights, "np") as f:
        header = f.metadata()
    assert header == model_info(network, names).metadata() and json.loads(header["class_names"]) == names


def test_pytorch_script_loads_its_weights_and_prints_the_output_shape(tmp_path, capsys):
    pytest.importorskip("torch")
    script, weights = export_network(load_template("lenet_cifar10"), None, "pytorch", tmp_path / "lenet.py")
    assert os.path.basename(weights) == "lenet.safetensors"
    runpy.run_path(script, run_name="__main__")
    assert capsys.readouterr().out.strip() == "output shape: (2, 10)"


# ----- engine -----
def check_engine(network, tmp_path):
    state = random_weights(network)
    _, cls, _, weights = exported(network, "engine", tmp_path, state)
    model = cls()
    model.load_state_dict(engine.load_safetensors(weights))
    assert list(model.state_dict()) == list(network.build().state_dict())
    model.eval()
    x = sample_input(network)
    with engine.no_grad():
        got = model(engine.from_numpy(x)).numpy()
    np.testing.assert_array_equal(got, engine_outputs(network, state, x))  # the same modules, the same ops


def test_engine_code_matches_the_graph_module_for_every_template(template, tmp_path):
    check_engine(template, tmp_path)


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_engine_code_matches_the_graph_module_for_every_layer_option(case, tmp_path):
    check_engine(LAYER_CASES[case](), tmp_path)


def test_engine_script_refuses_inputs_that_are_not_images(tmp_path):
    with pytest.raises(ExportError, match=r"Input 'input1': the engine script trains on images \(C×H×W\), but the "
                                          r"input is 4×6; export PyTorch code"):
        export_network(LAYER_CASES["norm1d_sequence"](), None, "engine", tmp_path / "m.py")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("flavour", ["pytorch", "engine"])
def test_titles_and_descriptions_with_quotes_make_valid_code(flavour, tmp_path):
    if flavour == "pytorch":
        pytest.importorskip("torch")
    network = LAYER_CASES["global_pool"]()
    network.title = '3 "quoted" layers\\ end"'
    network.description = 'Ends with a quote: """tricky"""\\'
    namespace, cls, _, _ = exported(network, flavour, tmp_path)
    assert cls.__name__ == "Net3QuotedLayersEnd"
    assert namespace["__doc__"].startswith('3 "quoted" layers\\ end": exported from LayerLab.')


def test_engine_transforms_follow_the_recipe(template, tmp_path):
    namespace = exported(template, "engine", tmp_path)[0]
    image = sample_image(template, seed=0)
    for train, made in ((False, recipe.eval_transform(template)), (True, recipe.train_transform(template))):
        engine.manual_seed(3)
        want = made(image).numpy()
        engine.manual_seed(3)
        np.testing.assert_array_equal(namespace["transforms"](train)(image).numpy(), want)


SCHEDULES = [
    {"optimizer": "SGD", "momentum": 0.5, "weight_decay": 1e-4, "scheduler": "StepLR", "step_size": 2,
     "gamma": 0.5},
    {"optimizer": "SGD", "nesterov": True, "scheduler": "MultiStepLR", "milestones": (1, 3), "gamma": 0.3},
    {"optimizer": "Adam", "beta1": 0.8, "scheduler": "CosineAnnealingLR", "epochs": 4},
    {"optimizer": "AdamW", "lr": 0.05, "scheduler": "OneCycleLR", "warmup_fraction": 0.25, "epochs": 3},
    {"optimizer": "RMSprop", "momentum": 0.2, "scheduler": "ReduceLROnPlateau", "gamma": 0.0, "patience": 1},
    {"optimizer": "Adam", "scheduler": "none"},
]


@pytest.mark.parametrize("settings", SCHEDULES, ids=lambda s: f"{s['optimizer']}-{s['scheduler']}")
def test_engine_optimizer_and_schedule_follow_the_recipe(settings, tmp_path):
    network = load_template("mlp_fashion_mnist")
    network.set_settings(settings)
    namespace, cls, script, _ = exported(network, "engine", tmp_path)
    source = Path(script).read_text()
    ours, theirs = cls(), network.build()
    optimizer = namespace["make_optimizer"](ours)
    reference = recipe.make_optimizer(network, theirs.parameters())
    assert type(optimizer) is type(reference) and optimizer.defaults == reference.defaults
    steps, epochs = 5, network.settings["epochs"]
    expected, interval = recipe.make_scheduler(network, reference, steps)
    if expected is None:
        assert "make_scheduler" not in namespace and "scheduler" not in source
        return
    scheduler = namespace["make_scheduler"](optimizer, epochs, steps)
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 1.2, 0.5, 0.6]
    lrs, want = [], []
    for step in range(epochs * steps if interval == "step" else len(metrics)):
        for sched, opt, out in ((scheduler, optimizer, lrs), (expected, reference, want)):
            out.append(opt.param_groups[0]["lr"])
            opt.step()  # no gradients: changes nothing, but keeps the step order schedulers expect
            sched.step(metrics[step]) if settings["scheduler"] == "ReduceLROnPlateau" else sched.step()
    assert lrs == want and len(set(want)) > 1
    after_batch = "optimizer.step()\n            scheduler.step()" in source
    assert after_batch == (interval == "step")


SCHEDULER_SETTINGS = [
    {"scheduler": "StepLR", "step_size": 2, "gamma": 0.5, "epochs": 6},
    {"scheduler": "MultiStepLR", "milestones": (1, 3), "gamma": 0.3, "epochs": 5},
    {"scheduler": "CosineAnnealingLR", "epochs": 4},
    {"scheduler": "OneCycleLR", "lr": 0.05, "warmup_fraction": 0.25, "epochs": 3},
    {"scheduler": "OneCycleLR", "epochs": 1},
    {"scheduler": "ReduceLROnPlateau", "gamma": 0.0, "patience": 1},
    {"scheduler": "ReduceLROnPlateau", "gamma": 0.5, "patience": 0},
]


@pytest.mark.parametrize("settings", SCHEDULER_SETTINGS, ids=lambda s: s["scheduler"])
def test_exported_schedule_run_by_torch_matches_the_recipe(settings, tmp_path):
    """The script's make_scheduler, run by torch itself, gives the recipe's learning rates step by step."""
    network = load_template("mlp_fashion_mnist")
    network.set_settings(settings)
    source = Path(exported(network, "engine", tmp_path)[2]).read_text()
    start = source.index("def make_scheduler(")
    namespace = {"torch": torch}
    exec(source[start:source.index("\n\n\n", start)], namespace)
    steps, epochs = 2, network.settings["epochs"]
    reference = recipe.make_optimizer(network, [engine.zeros(3, requires_grad=True)])
    expected, interval = recipe.make_scheduler(network, reference, steps)
    optimizer = getattr(torch.optim, network.settings["optimizer"])([torch.zeros(3, requires_grad=True)],
                                                                         **optimizer_options(network.settings))
    scheduler = namespace["make_scheduler"](optimizer, epochs, steps)
    assert type(scheduler).__name__ == type(expected).__name__
    metrics = [1.0, 0.9, 0.95, 0.97, 0.99, 1.2, 0.5, 0.6]
    lrs, want = [], []
    for step in range(epochs * steps if interval == "step" else len(metrics)):
        for sched, opt, out in ((scheduler, optimizer, lrs), (expected, reference, want)):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step(metrics[step]) if settings["scheduler"] == "ReduceLROnPlateau" else sched.step()
    np.testing.assert_allclose(lrs, want, rtol=1e-12, atol=0)
    assert len(set(want)) > 1


def test_engine_data_split_follows_the_recipe(tmp_path):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"train_limit": 300})
    namespace = exported(network, "engine", tmp_path)[0]
    train, val, test = namespace["load_data"](None, False, 300)
    splits = recipe.load_data(network)
    assert train.indices == splits.train.indices and len(train) == 300
    assert val.indices == splits.val.indices and len(test) == len(splits.test) == 10_000
    image, label = train[7]
    want_image, want_label = splits.train[7]
    assert label == want_label
    np.testing.assert_array_equal(image.numpy(), want_image.numpy())


def test_image_folder_script_requires_a_data_folder(tmp_path, capsys):
    network = LAYER_CASES["global_pool"]()
    namespace = exported(network, "engine", tmp_path)[0]
    with pytest.raises(SystemExit):
        namespace["main"]([])
    assert "the following arguments are required: --data" in capsys.readouterr().err


def test_engine_script_trains_fashion_mnist_end_to_end(tmp_path):
    network = load_template("mlp_fashion_mnist")
    script, weights = export_network(network, None, "engine", tmp_path / "mlp.py")
    out = tmp_path / "trained.safetensors"
    env = {**os.environ, "PYTHONPATH": ROOT}
    done = subprocess.run([sys.executable, script, "--limit", "256", "--epochs", "1", "--out", str(out)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("epoch 1/1: train loss ") and "validation accuracy" in lines[0]
    assert lines[1].startswith("test loss ") and "test accuracy" in lines[1]
    assert lines[2] == f"saved the trained weights to {out}"
    trained = engine.load_safetensors(out)
    model = network.build()
    model.load_state_dict(trained)
    assert not np.array_equal(trained["fc1.weight"].numpy(), engine.load_safetensors(weights)["fc1.weight"].numpy())
