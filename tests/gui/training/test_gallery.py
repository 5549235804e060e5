"""The evaluation gallery: misclassified test images first, each captioned with its true class and the
prediction, marked right or wrong in the theme's colours (after a theme change too), with room for both lines;
in loss order the captions give the loss."""

import numpy as np
from PIL import Image
from PySide6.QtCore import Qt

from engine.vision.datasets import FashionMNIST, ImageFolder
from gui import theme
from gui.training.gallery import THUMBNAIL, Gallery, Labels, caption


def test_captions_show_the_true_class_and_the_marked_prediction(qtbot, qapp):
    test = FashionMNIST(None, train=False)
    targets = np.asarray([test[k][1] for k in range(12)])
    predictions = targets.copy()
    predictions[[3, 7]] = (targets[[3, 7]] + 1) % 10
    gallery = Gallery(limit=12)
    qtbot.addWidget(gallery)
    gallery.resize(900, 400)
    gallery.show_results(test, predictions, targets, test.classes)
    gallery.show()
    items = [gallery.view.item(k) for k in range(gallery.count())]
    assert [item.data(Qt.ItemDataRole.UserRole) for item in items[:2]] == [3, 7]  # the wrong ones first

    wrong, right = items[0], items[2]
    assert wrong.text().split("\n") == [test.classes[targets[3]], f"✗ {test.classes[predictions[3]]}"]
    assert wrong.foreground().color() == theme.canvas_style("light").error
    index = right.data(Qt.ItemDataRole.UserRole)
    assert right.text().split("\n") == [test.classes[targets[index]], f"✓ {test.classes[targets[index]]}"]
    assert right.foreground().color() == theme.canvas_style("light").valid
    theme.apply_theme(qapp, "dark")  # brighter colours that read on the dark background
    qtbot.waitUntil(lambda: wrong.foreground().color() == theme.canvas_style("dark").error)
    assert right.foreground().color() == theme.canvas_style("dark").valid

    metrics = gallery.view.fontMetrics()  # both lines fit under the image, neither elided
    for item in items:
        rect = gallery.view.visualItemRect(item)
        assert rect.height() >= THUMBNAIL + 2 * metrics.lineSpacing()
        assert rect.width() > max(metrics.horizontalAdvance(line) for line in item.text().split("\n"))


def test_an_image_changed_on_disk_after_evaluation_is_a_blank_cell_saying_why(qtbot, tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        Image.new("RGB", (8, 8), (200, 10, 10)).save(tmp_path / name / "a.png")
    dataset = ImageFolder(tmp_path)
    (tmp_path / "dog" / "a.png").write_bytes(b"not an image any more")
    gallery = Gallery(limit=2)
    qtbot.addWidget(gallery)
    gallery.show_results(dataset, np.array([0, 0]), np.array([0, 1]), dataset.classes)
    broken = gallery.view.item(0)  # the misclassified dog comes first
    assert broken.icon().isNull() and str(tmp_path / "dog" / "a.png") in broken.toolTip()
    assert not gallery.view.item(1).icon().isNull()


def test_in_loss_order_the_captions_give_the_loss_and_the_tooltip_the_probability(qtbot):
    assert caption("cat", "dog", 0.93, 2.345) == "cat\n✗ dog, loss 2.35"
    assert caption("cat", "dog", 0.93) == "cat\n✗ dog 93%"
    test = FashionMNIST(None, train=False)
    labels = Labels(test.classes, np.array([0, 1]), np.array([1, 1]), np.array([0.9, 0.6], np.float32),
                    np.array([2.5, 0.5], np.float32))
    gallery = Gallery(limit=2)
    qtbot.addWidget(gallery)
    gallery.show_samples(test, [0, 1], labels, "by loss", by_loss=True)
    first = gallery.view.item(0)
    assert first.text() == f"{test.classes[0]}\n✗ {test.classes[1]}, loss 2.50"
    assert f"predicted: {test.classes[1]} (90.0 %)" in first.toolTip()
