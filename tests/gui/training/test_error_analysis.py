"""Error analysis in the evaluation view: a real mouse click on a confusion-matrix cell shows that cell's test
images, highest loss first; the top-losses tab; the never-learned and forgotten tabs from per-sample tracking;
captions in loss order give the loss; a real right click on a gallery image opens an Explain window (Grad-CAM
and saliency under a small trained CNN, for the predicted or the true class) without a forward pass for the
menu; a failing image or model is said in that window; the windows close with the evaluation."""

import csv
import os
from types import SimpleNamespace

import numpy as np
import pytest
import shiboken6
from PIL import Image
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication

import engine
import engine.nn as nn
from engine.graph.fileformat import network_to_json
from engine.training import Trainer
from engine.training.attribution import grad_cam, overlay, saliency
from engine.training.sample_tracking import SAMPLES_FILE, SampleTracker
from engine.utils.data import Subset
from engine.vision import transforms as T
from engine.vision.datasets import FashionMNIST, ImageFolder
from gui.training.error_analysis import CELL, EXPLAIN_ACTION, FORGOTTEN_TAB, NEVER_LEARNED, TOP_LOSSES
from gui.training.evaluation import EvaluationView
from gui.training.explain import PICTURE
from gui.training.gallery import to_pixmap
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
    captions = [view.gallery.view.item(k).text() for k in range(view.gallery.count())]  # the order shows
    assert captions == [f"{CLASSES[true]}\n{'✓' if true == predicted else '✗'} {CLASSES[predicted]}, "
                        f"loss {result.losses[k]:.2f}" for k in expected]


def test_top_losses_are_the_highest_losses_in_order(view, qtbot):
    data = evaluation_data()
    view.show_evaluation(data)
    assert not view.analysis.tabs.isTabEnabled(CELL)  # until a cell is clicked
    assert not view.analysis.tabs.isTabEnabled(NEVER_LEARNED)  # no tracking in this run
    view.analysis.tabs.setCurrentIndex(TOP_LOSSES)
    shown = view.gallery.shown()
    assert shown == np.argsort(-data.result.losses)[:N].tolist()
    assert view.gallery.view.item(0).text().endswith(f", loss {data.result.losses[shown[0]]:.2f}")
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


def right_click(qtbot, gallery, row, choose=True):
    """Right-click the ``row``-th image of ``gallery``: the context-menu event the window system sends for a right
    click (QTest's mouse clicks make none); returns the texts of the menu that opens (None when none does),
    choosing its first item with the keyboard unless ``choose`` is false."""
    seen = []

    def answer():
        menu = QApplication.activePopupWidget()
        seen.append(None if menu is None else [action.text() for action in menu.actions()])
        if menu is not None:
            if choose:
                menu.setActiveAction(menu.actions()[0])
                qtbot.keyClick(menu, Qt.Key.Key_Return)
            else:
                menu.close()

    QTimer.singleShot(0, answer)  # runs in the menu's own event loop, or after the click when no menu opens
    viewport = gallery.view.viewport()
    position = gallery.view.visualItemRect(gallery.view.item(row)).center()
    QApplication.sendEvent(viewport, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, position,
                                                       viewport.mapToGlobal(position)))
    qtbot.waitUntil(lambda: bool(seen))
    return seen[0]


def test_a_gallery_image_has_no_menu_without_a_model(view, qtbot):
    view.show_evaluation(evaluation_data())
    assert right_click(qtbot, view.gallery, 0) is None and not view.analysis.explain_dialogs


def trained_cnn():
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
    return test, model, trainer.evaluate(loader)


def test_a_right_click_explains_an_image_for_the_predicted_or_the_true_class(view, qtbot):
    test, model, result = trained_cnn()
    view.show_evaluation(SimpleNamespace(result=result, classes=test.classes, dataset=test, samples=None,
                                         val_dataset=test, model=model))
    index = view.gallery.shown()[0]
    true, predicted = int(result.targets[index]), int(result.predictions[index])
    assert true != predicted  # misclassified first
    passes = []
    hook = model.register_forward_hook(lambda *_: passes.append(1))
    assert right_click(qtbot, view.gallery, 0, choose=False) == [EXPLAIN_ACTION]
    assert not passes and not view.analysis.explain_dialogs  # the menu needs no forward pass
    hook.remove()
    assert right_click(qtbot, view.gallery, 0) == [EXPLAIN_ACTION]
    (dialog,) = view.analysis.explain_dialogs
    panel = dialog.panel
    assert panel.layers == ["0", "1", "2"] and panel.layer_box.currentText() == "0"  # conv, relu, pool: the conv
    assert [panel.class_box.itemData(k) for k in range(2)] == [predicted, true]
    inputs = test[index][0].unsqueeze(0)
    for name in ("image", "grad-cam", "saliency"):
        assert not panel.pictures[name].pixmap().isNull(), name
    before = {name: panel.pictures[name].pixmap().toImage() for name in ("grad-cam", "saliency")}
    panel.class_box.setCurrentIndex(1)  # the true class: both maps again, saliency first
    for name, found in (("saliency", saliency(model, inputs, true)), ("grad-cam", grad_cam(model, inputs, "0", true))):
        picture = to_pixmap(overlay(panel.image, found.maps[0]), PICTURE).toImage()
        assert panel.pictures[name].pixmap().toImage() == picture != before[name], name
    panel.layer_box.setCurrentIndex(2)
    assert panel.pictures["grad-cam"].pixmap().toImage() != before["grad-cam"]  # another layer, another map
    assert panel.note.isHidden()


def test_an_image_or_model_that_fails_is_said_in_the_explain_window(view, qtbot, tmp_path):
    """An image changed on disk since the evaluation, and a model that fails in the class slot: both are said in
    the window, and nothing escapes a slot (pytest-qt fails a test on that)."""
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for k in range(2):
            Image.new("RGB", (8, 8), (60 * k, 100, 200)).save(tmp_path / name / f"{k}.png")
    dataset = ImageFolder(tmp_path, transform=T.ToTensor())
    engine.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 2, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(2 * 8 * 8, 2))
    targets, predictions = np.array([0, 0, 1, 1]), np.array([1, 0, 0, 1])
    result = SimpleNamespace(accuracy=0.5, loss=1.0, count=4, per_class_accuracy=np.array([0.5, 0.5]),
                             confusion=np.array([[1, 1], [1, 1]]), predictions=predictions, targets=targets,
                             losses=np.array([2.0, 0.1, 1.5, 0.2], np.float32),
                             predicted_probability=np.full(4, 0.6, np.float32))
    view.show_evaluation(SimpleNamespace(result=result, classes=dataset.classes, dataset=dataset, samples=None,
                                         val_dataset=dataset, model=model))
    assert view.gallery.shown()[:2] == [0, 2]
    (tmp_path / "dog" / "0.png").write_bytes(b"not an image any more")  # sample 2
    right_click(qtbot, view.gallery, 1)
    broken = view.analysis.explain_dialogs[-1].panel
    assert broken.note.text().startswith("Cannot explain image 2: ") and str(tmp_path / "dog" / "0.png") in \
        broken.note.text()
    assert broken.model is None and broken.class_box.count() == 0

    right_click(qtbot, view.gallery, 0)
    panel = view.analysis.explain_dialogs[-1].panel
    assert panel.note.isHidden() and not panel.pictures["saliency"].pixmap().isNull()
    model[0].weight = nn.Parameter(engine.zeros(2, 5, 3, 3))  # now takes 5 channels: the forward pass fails
    panel.class_box.setCurrentIndex(1)
    assert panel.note.text().startswith("Cannot explain the prediction: Given groups=1, weight of size [2, 5")


def test_explain_windows_close_with_the_evaluation(view, qtbot):
    test, model, result = trained_cnn()
    data = SimpleNamespace(result=result, classes=test.classes, dataset=test, samples=None, val_dataset=test,
                           model=model)
    view.show_evaluation(data)
    dialogs = [view.analysis.explain(k) for k in view.gallery.shown()[:2]]
    assert all(dialog.isVisible() for dialog in dialogs) and view.analysis.explain_dialogs == dialogs
    dialogs[0].close()  # closed by its user: deleted, and forgotten
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialogs[0]))
    assert view.analysis.explain_dialogs == dialogs[1:]
    view.clear()
    assert not view.analysis.explain_dialogs
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialogs[1]))
    view.show_evaluation(data)
    dialog = view.analysis.explain(0)
    view.show_evaluation(data)  # a new evaluation: the windows of the last one go
    qtbot.waitUntil(lambda: not shiboken6.isValid(dialog))


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
