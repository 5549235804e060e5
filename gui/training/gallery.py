"""A gallery of test images with their true and predicted labels, misclassified ones first."""

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.vision.image_file import ImageFileError, open_image

THUMBNAIL = 72
WRONG = QColor("#c62828")
RIGHT = QColor("#2e7d32")
CELL = QSize(THUMBNAIL + 56, THUMBNAIL + 40)  # room for two lines of caption under the image


def image_array(dataset, index):
    """The ``index``-th image of a dataset as uint8 H×W×C, untransformed (for display)."""
    if hasattr(dataset, "arrays"):
        return dataset.arrays()[0][index]
    if hasattr(dataset, "samples"):
        return np.asarray(open_image(dataset.samples[index][0], "RGB"))
    raise TypeError(f"cannot show the images of a {type(dataset).__name__}")


def to_pixmap(array, size=THUMBNAIL):
    """A QPixmap of a uint8 H×W(×1 or ×3) array, scaled to ``size`` with visible pixels (no blur)."""
    array = np.ascontiguousarray(array.squeeze(-1) if array.ndim == 3 and array.shape[2] == 1 else array)
    h, w = array.shape[:2]
    if array.ndim == 2:
        image = QImage(array.data, w, h, w, QImage.Format.Format_Grayscale8)
    else:
        image = QImage(array.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    pixmap = QPixmap.fromImage(image.copy())
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.FastTransformation)


def caption(true, predicted):
    """Two lines: the true class, then the prediction marked right (✓) or wrong (✗)."""
    return f"{true}\n{'✓' if predicted == true else '✗'} {predicted}"


def gallery_order(predictions, targets, limit):
    """Indices to show: misclassified images first (in dataset order), then correct ones, ``limit`` in all."""
    wrong = np.flatnonzero(predictions != targets)
    right = np.flatnonzero(predictions == targets)
    return np.concatenate([wrong, right])[:limit]


def thumbnail_grid(thumbnail, cell):
    """A list laid out as a grid of ``thumbnail``-sized images in cells of size ``cell``, reflowed on resize."""
    grid = QListWidget()
    grid.setViewMode(QListView.ViewMode.IconMode)
    grid.setIconSize(QSize(thumbnail, thumbnail))
    grid.setGridSize(cell + QSize(4, 4))
    grid.setResizeMode(QListView.ResizeMode.Adjust)
    grid.setMovement(QListView.Movement.Static)
    grid.setUniformItemSizes(True)
    return grid


class Gallery(QWidget):
    def __init__(self, limit=60, parent=None):
        super().__init__(parent)
        self.limit = limit
        self.summary = QLabel()
        self.view = thumbnail_grid(THUMBNAIL, CELL)
        self.view.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def show_results(self, dataset, predictions, targets, classes):
        self.view.clear()
        order = gallery_order(predictions, targets, self.limit)
        wrong = int((predictions != targets).sum())
        self.summary.setText(f"{len(order)} of {len(targets):,} test images, the {wrong:,} misclassified ones first "
                             "(the true class, then the prediction: ✓ right, ✗ wrong)")
        for index in order.tolist():
            true, pred = classes[targets[index]], classes[predictions[index]]
            ok = predictions[index] == targets[index]
            tip = f"test image {index}\ntrue: {true}\npredicted: {pred}"
            try:
                icon = QIcon(to_pixmap(image_array(dataset, index)))
            except ImageFileError as e:  # changed on disk since it was evaluated: a blank cell that says why
                icon, tip = QIcon(), f"{tip}\n{e}"
            item = QListWidgetItem(icon, caption(true, pred))
            item.setSizeHint(CELL)
            item.setForeground(QBrush(RIGHT if ok else WRONG))
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.view.addItem(item)

    def clear(self):
        self.view.clear()
        self.summary.setText("")

    def count(self):
        return self.view.count()
