"""The prediction view explains its prediction: Grad-CAM at a layer with an image-shaped output (the last
convolution by default) or saliency, for the predicted class or a chosen one, shown beside the image as the
maps of ``engine.training.attribution`` painted over it; a refusal is shown, not raised."""

import numpy as np
import pytest
from trained_runs import noise_image

import engine
from engine.graph import DATASETS
from engine.graph.templates import load_template
from engine.training.attribution import grad_cam, overlay, saliency
from engine.training.predictor import Predictor, load_image
from gui.training.gallery import to_pixmap
from gui.training.prediction import PICTURE, PredictionView

CLASSES = DATASETS["CIFAR-10"].classes
LAYERS = ["conv1", "relu1", "pool1", "conv2", "relu2", "pool2"]


@pytest.fixture
def lenet():
    engine.manual_seed(3)
    network = load_template("lenet_cifar10")
    return Predictor(network.build(), network, CLASSES, "test weights")


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


def shown(label):
    return label.pixmap().toImage()


def expected(predictor, path, explain):
    """The picture the view should show: ``explain(model, batch)``'s map over the image as the network sees it."""
    image = load_image(path, predictor.network)
    found = explain(predictor.model, predictor.transform(image).unsqueeze(0))
    return to_pixmap(overlay(np.asarray(image), found.maps[0]), PICTURE - 8).toImage(), found.targets[0]


def test_the_choices_are_grad_cam_at_each_image_shaped_layer_or_saliency_for_any_class(view):
    assert [view.method.itemText(i) for i in range(view.method.count())] == [
        *(f"Grad-CAM at {layer}" for layer in LAYERS), "Saliency"]
    assert view.method.currentText() == "Grad-CAM at conv2"  # the last convolution
    assert [view.target.itemText(i) for i in range(view.target.count())] == ["the predicted class", *CLASSES]
    assert view.method.isEnabled() and view.target.isEnabled()
    view.set_predictor(None)
    assert view.method.count() == 0 and not view.method.isEnabled() and not view.target.isEnabled()


def test_a_prediction_shows_grad_cam_of_the_predicted_class_beside_the_image(view, lenet, image_file):
    top = view.predict_file(str(image_file))
    picture, target = expected(lenet, image_file, lambda m, x: grad_cam(m, x, "conv2"))
    assert CLASSES[target] == top[0][0]
    assert shown(view.heatmap) == picture
    assert view.heatmap.toolTip() == f"Grad-CAM at conv2 for {top[0][0]}"
    assert view.target.itemText(0) == f"the predicted class ({top[0][0]})"
    assert all(p.grad is None for p in lenet.model.parameters()) and lenet.model.training


def test_choosing_saliency_and_a_class_redraws_the_map(view, lenet, image_file):
    view.predict_file(str(image_file))
    grad_cam_picture = shown(view.heatmap)
    view.method.setCurrentIndex(view.method.count() - 1)
    view.target.setCurrentIndex(1 + CLASSES.index("cat"))
    picture, _ = expected(lenet, image_file, lambda m, x: saliency(m, x, CLASSES.index("cat")))
    assert shown(view.heatmap) == picture != grad_cam_picture
    assert view.heatmap.toolTip() == "Saliency for cat"
    view.method.setCurrentIndex(0)
    assert shown(view.heatmap) == expected(lenet, image_file, lambda m, x: grad_cam(m, x, "conv1", 3))[0]


def test_a_map_that_cannot_be_made_is_shown_as_an_error(view, image_file):
    view.predict_file(str(image_file))
    before = shown(view.heatmap)
    view.method.addItem("Grad-CAM at gone", "gone")
    view.method.setCurrentIndex(view.method.count() - 1)
    assert view.error.text().startswith("Cannot explain the prediction: no layer named 'gone'; layers with")
    assert shown(view.heatmap) == before
    view.method.setCurrentIndex(0)
    assert view.error.text() == ""


def test_a_new_model_forgets_the_last_map(view, lenet, image_file):
    view.predict_file(str(image_file))
    view.set_predictor(lenet)
    assert view.heatmap.pixmap().isNull() and view.heatmap.toolTip() == ""
    view.method.setCurrentIndex(0)  # nothing to explain until the next image
    assert view.heatmap.pixmap().isNull()
