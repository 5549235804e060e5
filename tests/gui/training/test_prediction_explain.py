"""The prediction view explains its prediction through an ``ExplainPanel``: Grad-CAM at a layer with an
image-shaped output (the last convolution by default) and saliency, for the predicted class or a chosen one,
shown beside the image as the maps of ``engine.training.attribution`` painted over it; a refusal or a failing
model is said in the panel, not raised; a new model classifies the image shown again."""

import numpy as np
import pytest
from trained_runs import noise_image

import engine
from engine import nn
from engine.graph import DATASETS
from engine.graph.templates import load_template
from engine.training.attribution import grad_cam, overlay, saliency
from engine.training.predictor import Predictor, load_image
from gui import theme
from gui.training import explain
from gui.training.explain import default_layer, explainable_layers
from gui.training.gallery import to_pixmap
from gui.training.prediction import PICTURE, PredictionView

CLASSES = DATASETS["CIFAR-10"].classes
LAYERS = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]


def lenet_predictor(seed):
    engine.manual_seed(seed)
    network = load_template("lenet_cifar10")
    return Predictor(network.build(), network, CLASSES, f"test weights {seed}")


@pytest.fixture
def lenet():
    return lenet_predictor(3)


@pytest.fixture
def view(qtbot, lenet):
    view = PredictionView()
    qtbot.addWidget(view)
    view.resize(1000, 420)
    view.show()
    view.set_predictor(lenet)
    return view


@pytest.fixture
def image_file(tmp_path):
    path = tmp_path / "noise.png"
    noise_image((32, 32), "RGB", seed=4).save(path)
    return path


def shown(view, name):
    return view.explanation.pictures[name].pixmap().toImage()


def expected(predictor, path, explain_with):
    """The picture the view should show: ``explain_with(model, batch)``'s map over the image as the network
    sees it, and the class it explains."""
    image = load_image(path, predictor.network)
    found = explain_with(predictor.model, predictor.transform(image).unsqueeze(0))
    return to_pixmap(overlay(np.asarray(image), found.maps[0]), PICTURE).toImage(), found.targets[0]


def items(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def test_the_choices_are_each_image_shaped_layer_and_every_class_the_predicted_first(view, image_file):
    panel = view.explanation
    assert panel.layer_box.count() == 0 and not panel.layer_box.isEnabled()  # nothing until an image
    top = view.predict_file(str(image_file))
    assert items(panel.layer_box) == LAYERS
    assert panel.layer_box.currentText() == "conv2"  # the last convolution
    predicted = top[0][0]
    assert items(panel.class_box) == [f"{predicted} (predicted)", *(c for c in CLASSES if c != predicted)]
    assert panel.layer_box.isEnabled() and panel.class_box.isEnabled()


def test_a_prediction_shows_grad_cam_and_saliency_of_the_predicted_class_beside_the_image(view, lenet, image_file):
    top = view.predict_file(str(image_file))
    picture, target = expected(lenet, image_file, lambda m, x: grad_cam(m, x, "conv2"))
    assert CLASSES[target] == top[0][0]
    assert shown(view, "grad-cam") == picture
    assert shown(view, "saliency") == expected(lenet, image_file, saliency)[0]
    assert view.explanation.note.isHidden()
    assert all(p.grad is None for p in lenet.model.parameters()) and lenet.model.training


def test_choosing_a_class_and_a_layer_redraws_the_maps(view, lenet, image_file):
    view.predict_file(str(image_file))
    panel = view.explanation
    before = shown(view, "saliency")
    cat = CLASSES.index("cat")
    panel.class_box.setCurrentIndex(panel.class_box.findData(cat))
    assert shown(view, "saliency") == expected(lenet, image_file, lambda m, x: saliency(m, x, cat))[0] != before
    assert shown(view, "grad-cam") == expected(lenet, image_file, lambda m, x: grad_cam(m, x, "conv2", cat))[0]
    panel.layer_box.setCurrentIndex(0)
    assert shown(view, "grad-cam") == expected(lenet, image_file, lambda m, x: grad_cam(m, x, "conv1", cat))[0]


def test_a_layer_that_cannot_be_explained_is_said_in_the_panel(view, image_file, qapp, qtbot):
    view.predict_file(str(image_file))
    panel = view.explanation
    before = shown(view, "grad-cam")
    panel.layer_box.addItem("gone")
    panel.layer_box.setCurrentIndex(panel.layer_box.count() - 1)
    assert panel.note.text().startswith("Cannot explain the prediction: no layer named 'gone'; layers with")
    assert panel.note.isVisibleTo(view) and shown(view, "grad-cam") == before
    assert theme.canvas_style("light").error.name() in panel.note.styleSheet()
    theme.apply_theme(qapp, "dark")  # the theme's own error colour, readable on its background
    qtbot.waitUntil(lambda: theme.canvas_style("dark").error.name() in panel.note.styleSheet())
    assert theme.canvas_style("dark").error.name() in view.error.styleSheet()
    panel.layer_box.setCurrentIndex(0)
    assert panel.note.text() == "" and panel.note.isHidden()


def test_a_model_that_fails_in_the_class_slot_is_said_not_raised(view, lenet, image_file):
    """Saliency runs first in the slot: a model broken after the prediction (its second convolution now takes
    4 channels) fails there with a RuntimeError, which the panel shows (pytest-qt fails a test on an exception
    escaping a slot)."""
    view.predict_file(str(image_file))
    lenet.model.conv2.weight = nn.Parameter(engine.zeros(16, 4, 5, 5))
    panel = view.explanation
    panel.class_box.setCurrentIndex(1)
    assert panel.note.text().startswith("Cannot explain the prediction: Given groups=1, weight of size [16, 4")


def test_a_new_model_classifies_and_explains_the_image_again(view, lenet, image_file):
    view.predict_file(str(image_file))
    other = lenet_predictor(11)
    view.set_predictor(other)
    top = other.top([load_image(image_file, other.network)])[0]
    assert [label.text() for label in view.names] == [name for name, _ in top]
    assert [label.text() for label in view.values] == [f"{100 * p:.1f} %" for _, p in top]
    assert [bar.value() for bar in view.bars] == [round(1000 * p) for _, p in top]
    assert view.explanation.model is other.model
    assert shown(view, "grad-cam") == expected(other, image_file, lambda m, x: grad_cam(m, x, "conv2"))[0]
    assert shown(view, "saliency") == expected(other, image_file, saliency)[0]
    assert view.explanation.class_box.itemText(0) == f"{top[0][0]} (predicted)"

    view.set_predictor(None)  # nothing to classify with: nothing of the last model's answer stays
    assert [label.text() for label in view.names + view.values] == [""] * 10
    assert [bar.value() for bar in view.bars] == [0] * 5
    assert all(label.pixmap().isNull() for label in view.explanation.pictures.values())
    assert view.explanation.model is None and view.explanation.class_box.count() == 0


def test_an_unreadable_image_is_said_and_shows_nothing(view, image_file, tmp_path):
    view.predict_file(str(image_file))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    assert view.predict_file(str(bad)) == []
    assert str(bad) in view.error.text()
    assert view.names[0].text() == "" and view.explanation.pictures["image"].pixmap().isNull()


def test_the_default_layer_is_the_last_convolution_else_the_last_image_shaped_layer():
    convolutional = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Conv2d(2, 2, 3), nn.MaxPool2d(2))
    assert default_layer(convolutional, ["0", "1", "2", "3"]) == "2"
    pooling_only = nn.Sequential(nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(4, 2))
    assert default_layer(pooling_only, ["0", "1"]) == "1"
    assert default_layer(pooling_only, []) is None


def test_the_layers_are_found_once_per_model(monkeypatch, lenet):
    calls = []
    monkeypatch.setattr(explain, "image_layers", lambda model, x: calls.append(model) or ["conv1"])
    batch = engine.zeros(1, 3, 32, 32)
    assert explainable_layers(lenet.model, batch) == explainable_layers(lenet.model, batch) == ["conv1"]
    other = lenet_predictor(5).model
    explainable_layers(other, batch)
    assert calls == [lenet.model, other]


def test_a_model_without_image_shaped_layers_shows_saliency_and_says_why_there_is_no_grad_cam(view, tmp_path):
    engine.manual_seed(0)
    network = load_template("mlp_fashion_mnist")
    mlp = Predictor(network.build(), network, DATASETS["Fashion-MNIST"].classes, "mlp")
    view.set_predictor(mlp)
    path = tmp_path / "noise28.png"
    noise_image((28, 28), "L", seed=2).save(path)
    view.predict_file(str(path))
    panel = view.explanation
    assert panel.layers == [] and not panel.layer_box.isEnabled() and panel.class_box.isEnabled()
    assert panel.note.text() == explain.NO_GRAD_CAM and panel.pictures["grad-cam"].pixmap().isNull()
    assert shown(view, "saliency") == expected(mlp, path, saliency)[0]
