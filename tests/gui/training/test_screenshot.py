"""Screenshots of the panel mid-training and of the evaluation view, checked for drawn curves: the plots
must show the loss, learning-rate and gradient-norm lines in their own colours, and the confusion matrix
its heat map. The images are kept in /tmp (training_panel.png, evaluation_view.png) for a person to look at."""

import numpy as np
from panel_support import wait_idle
from PySide6.QtGui import QColor, QImage

from gui.training import style

PANEL_PNG = "/tmp/training_panel.png"
EVALUATION_PNG = "/tmp/evaluation_view.png"


def pixels(widget):
    """The widget as an (H, W, 3) RGB array, rendered the way the screen would show it."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits(), np.uint8).reshape(height, image.bytesPerLine() // 4, 4)
    return data[:, :width, 2::-1].copy()  # BGRA in memory


def count_colour(rgb, colour, tolerance=30):
    c = QColor(colour)
    target = np.array([c.red(), c.green(), c.blue()])
    return int((np.abs(rgb.astype(int) - target).max(axis=2) <= tolerance).sum())


def test_panel_mid_training_and_evaluation_screenshots(make_panel, fashion_doc, qtbot):
    fashion_doc.set_settings({"train_limit": 4096, "epochs": 3, "batch_size": 32})
    panel = make_panel(fashion_doc)
    c = panel.controller
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: len(c.history) >= 300, timeout=30000)  # well into the third epoch
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.worker.setup.trainer.status == "paused")
    qtbot.wait(50)
    panel.plots.refresh()
    counts = panel.plots.point_counts()
    assert counts["loss"] >= 300 and counts["val_accuracy"] == 2 and all(
        n >= 300 for k, n in counts.items() if k.startswith("grad:"))

    assert panel.grab().save(PANEL_PNG)
    plots = pixels(panel.plots.graphics)
    h, w, _ = plots.shape
    top_left, bottom_left, bottom_right = plots[: h // 2, : w // 2], plots[h // 2:, : w // 2], plots[h // 2:, w // 2:]
    assert count_colour(top_left, style.TRAIN) > 300  # the smoothed loss
    assert count_colour(bottom_left, style.LEARNING_RATE) > 200  # the learning rate line
    assert count_colour(bottom_right, style.layer_color(0)) > 200  # fc1's gradient norms
    assert count_colour(bottom_right, style.layer_color(2)) > 200  # fc3's

    panel.resume_action.trigger()
    wait_idle(qtbot, panel, timeout=30000)
    panel.tabs.setCurrentWidget(panel.evaluation_view)
    qtbot.wait(50)
    assert panel.grab().save(EVALUATION_PNG)
    matrix = pixels(panel.evaluation_view.matrix_widget)
    dark_cells = (matrix.astype(int).sum(axis=2) < 200) & (matrix[..., 2] > matrix[..., 0])
    assert dark_cells.sum() > 1000  # the diagonal's dark blue
    bars = pixels(panel.evaluation_view.per_class_widget)
    assert count_colour(bars, style.VALIDATION, 10) > 5000
    assert panel.evaluation_view.gallery.count() == 60
