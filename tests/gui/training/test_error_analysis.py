"""Error analysis in the evaluation view: a real mouse click on a confusion-matrix cell shows that cell's test
images, highest loss first; the top-losses tab; the never-learned and forgotten tabs from per-sample tracking;
the Explain window's Grad-CAM and saliency of a gallery image under a small trained CNN."""

import csv
import os
from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

import engine
import engine.nn as nn
from engine.graph.fileformat import network_to_json
from engine.training import Trainer
from engine.training.sample_tracking import SAMPLES_FILE, SampleTracker
from engine.utils.data import Subset
from engine.vision import transforms as T
from engine.vision.datasets import FashionMNIST
from gui.training.error_analysis import CELL, FORGOTTEN_TAB, NEVER_LEARNED, TOP_LOSSES
from gui.training.evaluation import EvaluationView
from gui.training.worker import EvaluationData, Job, TrainingWorker

CLASSES = ("cat", "dog", "fox")
N = 40


def evaluation_data(samples=None):
    rng = np.random.default_rng(3)
    targets = rng.integers(0, 3, N)
    predictions = np.where(rng.random(N) < 0.5, targets, (targets + 1) % 3)
    losses = rng.random(N).astype(np.float32) * 3
    confusion = np.zeros((3, 3), np.int64)
    np.add.at(confusion, (targets, predictions), 1)
    result = SimpleNamespace(accuracy=float(np.mean(predictions == targets)), loss=float(losses.mean()), count=N,
                             per_class_accuracy=confusion.diagonal() / confusion.sum(1), confusion=confusion,
                             predictions=predictions, targets=targets, losses=losses,
                             predicted_probability=rng.random(N).astype(np.float32))
    images = rng.integers(0, 256, (N, 8, 8, 3), dtype=np.uint8)
    dataset = SimpleNamespace(arrays=lambda: (images,))
    return SimpleNamespace(result=result, classes=CLASSES, dataset=dataset, samples=samples, val_dataset=dataset,
                           model=None)


@pytest.fixture
def view(qtbot):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    return view


def click_cell(qtbot, view, true, predicted):
    """A left click where the matrix draws cell (true, predicted), as a person makes it."""
    scene = view.matrix_plot.getViewBox().mapViewToScene(QPointF(predicted, true))
    position = view.matrix_widget.mapFromScene(scene)
    qtbot.mouseClick(view.matrix_widget.viewport(), Qt.MouseButton.LeftButton, pos=position)


@pytest.mark.parametrize("true, predicted", [(1, 2), (0, 0), (2, 0)])
def test_clicking_a_confusion_cell_shows_its_images_highest_loss_first(view, qtbot, true, predicted):
    data = evaluation_data()
    view.show_evaluation(data)
    result = data.result
    click_cell(qtbot, view, true, predicted)
    expected = [k for k in np.argsort(-result.losses)
                if result.targets[k] == true and result.predictions[k] == predicted]
    assert expected and view.gallery.shown() == expected
    assert view.analysis.tabs.currentIndex() == CELL
    assert view.analysis.tabs.tabText(CELL) == f"{CLASSES[true]} → {CLASSES[predicted]}"
    assert view.selected_cell.isVisible() and view.selected_cell.rect().center() == QPointF(predicted, true)
    first = view.gallery.view.item(0)
    assert first.text().split("\n")[0] == CLASSES[true]
    assert f"loss {result.losses[expected[0]]:.4f}" in first.toolTip()


def test_top_losses_are_the_highest_losses_in_order(view, qtbot):
    data = evaluation_data()
    view.show_evaluation(data)
    assert not view.analysis.tabs.isTabEnabled(CELL)  # until a cell is clicked
    assert not view.analysis.tabs.isTabEnabled(NEVER_LEARNED)  # no tracking in this run
    view.analysis.tabs.setCurrentIndex(TOP_LOSSES)
    shown = view.gallery.shown()
    assert shown == np.argsort(-data.result.losses)[:N].tolist()
    probability = data.result.predicted_probability[shown[0]]
    assert view.gallery.view.item(0).text().endswith(f" {100 * probability:.0f}%")
    metrics = view.gallery.view.fontMetrics()  # the widest caption line fits its cell
    for k in range(view.gallery.count()):
        item = view.gallery.view.item(k)
        width = max(metrics.horizontalAdvance(line) for line in item.text().split("\n"))
        assert view.gallery.view.visualItemRect(item).width() > width


def test_never_learned_and_forgotten_tabs_list_the_tracked_samples(view, qtbot):
    data = evaluation_data()
    tracker = SampleTracker()
    targets = data.result.targets
    for epoch in range(3):  # sample 0 never right; 1 right then wrong; every other one always right
        predictions = targets.copy()
        predictions[0] = (targets[0] + 1) % 3
        predictions[1] = targets[1] if epoch == 0 else (targets[1] + 2) % 3
        tracker.record(SimpleNamespace(targets=targets, predictions=predictions, losses=np.full(N, 0.5, np.float32),
                                       predicted_probability=np.full(N, 0.9, np.float32)), epoch)
    data.samples = tracker.history()
    view.show_evaluation(data)
    tabs = view.analysis.tabs
    assert tabs.tabText(NEVER_LEARNED) == "Never learned (1)" and tabs.tabText(FORGOTTEN_TAB) == "Forgotten (1)"
    tabs.setCurrentIndex(NEVER_LEARNED)
    assert view.gallery.shown() == [0]
    assert "never right in 3 epochs" in view.gallery.view.item(0).toolTip()
    tabs.setCurrentIndex(FORGOTTEN_TAB)
    assert view.gallery.shown() == [1]
    assert "forgotten 1 time\nloss by epoch: 0.50, 0.50, 0.50" in view.gallery.view.item(0).toolTip()


def test_explain_paints_grad_cam_and_saliency_of_a_gallery_image(view, qtbot):
    test = FashionMNIST(None, train=False, transform=T.ToTensor())
    engine.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4), nn.Flatten(),
                          nn.Linear(4 * 7 * 7, 10))
    loader = [(engine.stack([test[k][0] for k in range(i, i + 16)]), engine.tensor([test[k][1] for k in
                                                                                   range(i, i + 16)]))
              for i in range(0, 32, 16)]
    trainer = Trainer(model, engine.optim.SGD(model.parameters(), lr=0.05), nn.CrossEntropyLoss(), loader,
                      num_classes=10)
    trainer.fit(1)
    result = trainer.evaluate(loader)
    view.show_evaluation(SimpleNamespace(result=result, classes=test.classes, dataset=test, samples=None,
                                         val_dataset=test, model=model))
    index = view.gallery.shown()[0]
    dialog = view.analysis.explain(index)
    qtbot.addWidget(dialog)
    assert dialog.layers == ["0", "1", "2"] and dialog.layer_box.currentText() == "2"  # conv, relu, pool: the pool
    for name in ("image", "grad-cam", "saliency"):
        assert not dialog.pictures[name].pixmap().isNull(), name
    before = dialog.pictures["grad-cam"].pixmap().toImage()
    dialog.layer_box.setCurrentIndex(0)
    assert dialog.pictures["grad-cam"].pixmap().toImage() != before  # another layer, another map


def test_a_run_tracks_its_validation_samples_into_the_view_and_the_run_folder(fashion_doc, view, tmp_path):
    """A real worker run: the validation split (a Subset of the training images) is tracked every epoch,
    recorded in samples.csv, and its never-learned images are shown from that split."""
    fashion_doc.set_settings({"train_limit": 128, "epochs": 2, "val_split": 0.02})
    worker = TrainingWorker(Job(network_to_json(fashion_doc), str(tmp_path / "net.llnet")))
    worker.start()
    assert worker.join(60)
    messages = []
    while not worker.messages.empty():
        messages.append(worker.messages.get())
    data = next(m for m in messages if isinstance(m, EvaluationData))
    history, val = data.samples, data.val_dataset
    assert isinstance(val, Subset) and history.losses.shape == (2, len(val)) and len(val) == 1200
    np.testing.assert_array_equal(history.targets, [val[k][1] for k in range(len(val))])
    with open(os.path.join(worker.run.folder, SAMPLES_FILE)) as samples:
        rows = list(csv.DictReader(samples))
    assert len(rows) == len(val) and rows[0]["target"] == data.classes[history.targets[0]]
    view.show_evaluation(data)
    view.analysis.tabs.setCurrentIndex(NEVER_LEARNED)
    shown = view.gallery.shown()
    assert shown == history.likely_mislabelled()[:len(shown)].tolist() and shown
    first = view.gallery.view.item(0)
    assert first.text().split("\n")[0] == data.classes[history.targets[shown[0]]]
    assert not first.icon().isNull()  # the thumbnail comes from the training image the Subset points at
