"""A gallery of test images with their true and predicted labels: misclassified ones first, or any chosen
images in a chosen order (error analysis), each captioned with the true class and the prediction, in the
theme's colours for right and wrong."""

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QIcon, QImage, QPixmap
from PySide6.QtWidgets import QLabel, QListView, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from engine.vision.image_file import ImageFileError, open_image
from gui import theme

THUMBNAIL = 72
CELL = QSize(THUMBNAIL + 56, THUMBNAIL + 40)  # room for two lines of caption under the image
CAPTION_MARGIN = 12  # pixels beside the widest caption line in a cell
RIGHT_ROLE = Qt.ItemDataRole.UserRole + 1  # whether an item's prediction is right


@dataclass
class Labels:
    """What the gallery says of each image: class names, true and predicted classes per sample, and optionally
    the probability of the prediction and the loss (in the tooltip; one of them on the caption)."""

    classes: tuple
    targets: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray | None = None
    losses: np.ndarray | None = None


def image_array(dataset, index):
    """The ``index``-th image of a dataset (or of a ``Subset`` of one) as uint8 H×W×C, untransformed (for
    display)."""
    if hasattr(dataset, "indices") and hasattr(dataset, "dataset"):  # a Subset: the validation split
        return image_array(dataset.dataset, dataset.indices[index])
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


def verdict_colour(right):
    """The caption colour of a right or a wrong prediction in the current theme (readable on its background)."""
    colours = theme.canvas_style(theme.current_theme())
    return colours.valid if right else colours.error


def caption(true, predicted, confidence=None, loss=None):
    """Two lines: the true class, then the prediction marked right (✓) or wrong (✗), with its loss when given
    (a list in loss order shows its order), else its probability when given."""
    if loss is not None:
        sure = f", loss {loss:.2f}"
    else:
        sure = "" if confidence is None else f" {100 * confidence:.0f}%"
    return f"{true}\n{'✓' if predicted == true else '✗'} {predicted}{sure}"


def tooltip(index, labels, note=""):
    """The tooltip of sample ``index``: its number, classes, probability and loss where known, and ``note``."""
    true, pred = labels.classes[labels.targets[index]], labels.classes[labels.predictions[index]]
    sure = "" if labels.confidence is None else f" ({100 * labels.confidence[index]:.1f} %)"
    loss = "" if labels.losses is None else f"\nloss {labels.losses[index]:.4f}"
    return f"image {index}\ntrue: {true}\npredicted: {pred}{sure}{loss}" + (f"\n{note}" if note else "")


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
    """Thumbnails with captions; each item holds its sample index (``Qt.UserRole``). ``contextRequested(index,
    global position)`` asks for a sample's context menu."""

    contextRequested = Signal(int, object)

    def __init__(self, limit=60, parent=None):
        super().__init__(parent)
        self.limit = limit
        self.dataset = None
        self.summary = QLabel()
        self.view = thumbnail_grid(THUMBNAIL, CELL)
        self.view.setWordWrap(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)

    def show_results(self, dataset, predictions, targets, classes):
        order = gallery_order(predictions, targets, self.limit)
        wrong = int((predictions != targets).sum())
        self.show_samples(dataset, order, Labels(tuple(classes), targets, predictions),
                          f"{len(order)} of {len(targets):,} test images, the {wrong:,} misclassified ones first "
                          "(the true class, then the prediction: ✓ right, ✗ wrong)")

    def show_samples(self, dataset, indices, labels, summary, notes=None, by_loss=False):
        """The images of ``dataset`` at ``indices`` (at most ``limit``), in that order, captioned from ``labels``
        (a ``Labels``); ``notes``: an extra tooltip line per index; ``by_loss``: the indices are in loss order,
        so the captions give the loss (the probability stays in the tooltip)."""
        self.view.clear()
        self.dataset = dataset
        self.summary.setText(summary)
        indices = [int(k) for k in indices[:self.limit]]
        captions = [caption(labels.classes[labels.targets[k]], labels.classes[labels.predictions[k]],
                            None if labels.confidence is None else labels.confidence[k],
                            labels.losses[k] if by_loss else None) for k in indices]
        metrics = self.view.fontMetrics()
        widest = max((metrics.horizontalAdvance(line) for text in captions for line in text.split("\n")), default=0)
        cell = QSize(max(CELL.width(), widest + CAPTION_MARGIN), CELL.height())
        self.view.setGridSize(cell + QSize(4, 4))
        for index, text in zip(indices, captions, strict=True):
            tip = tooltip(index, labels, (notes or {}).get(index, ""))
            try:
                icon = QIcon(to_pixmap(image_array(dataset, index)))
            except ImageFileError as e:  # changed on disk since it was evaluated: a blank cell that says why
                icon, tip = QIcon(), f"{tip}\n{e}"
            item = QListWidgetItem(icon, text)
            item.setSizeHint(cell)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, index)
            item.setData(RIGHT_ROLE, bool(labels.predictions[index] == labels.targets[index]))
            self.view.addItem(item)
        self._colour_captions()

    def _colour_captions(self):
        for k in range(self.view.count()):
            item = self.view.item(k)
            item.setForeground(QBrush(verdict_colour(item.data(RIGHT_ROLE))))

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self._colour_captions()

    def shown(self):
        """The sample indices shown, in order."""
        return [self.view.item(k).data(Qt.ItemDataRole.UserRole) for k in range(self.view.count())]

    def _context_menu(self, pos):
        item = self.view.itemAt(pos)
        if item is not None:
            self.contextRequested.emit(item.data(Qt.ItemDataRole.UserRole), self.view.viewport().mapToGlobal(pos))

    def clear(self):
        self.view.clear()
        self.dataset = None
        self.summary.setText("")

    def count(self):
        return self.view.count()
