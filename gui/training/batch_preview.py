"""The batch preview: a grid of one training batch as the network will see it (the settings' augmentations
through the recipe, un-normalised for display), drawn anew on request or when a setting changes, without
starting a run. The training images are loaded once, in a thread (CIFAR-10 takes seconds), and kept while the
settings that choose them stay equal; drawing a batch from them takes milliseconds and happens here.
"""

import functools
import threading

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from engine.graph import NetworkError, network_from_json, network_to_json
from engine.training.batch_preview import data_key, preview_batch
from engine.training.recipe import load_data
from engine.utils.files import FileError
from engine.vision.datasets import DatasetNotFoundError

from . import style

TILE = 64  # pixels: images up to this size are enlarged by a whole factor, larger ones shrunk to it
COLUMNS = 16
POLL_MS = 50  # how often a load in progress is looked at
EXPECTED_ERRORS = (DatasetNotFoundError, NetworkError, FileError, OSError, ValueError)  # said in the preview


def _load(network, result):
    """The thread's work: ``result["data"]``, or ``result["error"]`` to raise on the GUI thread."""
    try:
        result["data"] = load_data(network)
    except Exception as e:  # handed to the GUI thread, which reports or re-raises it
        result["error"] = e


def tile_pixmap(image):
    """An H×W×C uint8 image as a pixmap of about ``TILE`` pixels: small images enlarged crisply (nearest)."""
    height, width, channels = image.shape
    fmt = QImage.Format.Format_Grayscale8 if channels == 1 else QImage.Format.Format_RGB888
    pixmap = QPixmap.fromImage(QImage(image.tobytes(), width, height, width * channels, fmt))
    side = max(height, width)
    if side <= TILE:
        factor = TILE // side
        return pixmap.scaled(width * factor, height * factor, Qt.AspectRatioMode.IgnoreAspectRatio,
                             Qt.TransformationMode.FastTransformation)
    return pixmap.scaled(TILE, TILE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class BatchPreview(QDialog):
    """Shows ``preview_batch`` of ``document`` as tiles with their class names; ``redraw`` draws again."""

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.setWindowTitle("Batch preview")
        self._data = None  # (data_key, DataSplits) of the last load
        self._loading = None  # (data_key, thread, result) while a load runs
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_loaded)
        self.tiles = []  # the tile labels shown, in batch order
        self.images = None  # the uint8 images they show
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet(style.WARNING_STYLE)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.grid_widget = QWidget()
        self.grid = QGridLayout(self.grid_widget)
        self.grid.setSpacing(6)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.grid_widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.redraw_button = QPushButton("Redraw")
        self.redraw_button.setToolTip("Apply the augmentations again, with new random draws")
        self.redraw_button.clicked.connect(self.redraw)
        buttons.addButton(self.redraw_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.message)
        layout.addWidget(scroll, 1)
        layout.addWidget(buttons)
        self.resize(COLUMNS * (TILE + 6) + 60, 4 * (TILE + 26) + 130)
        document.subscribe(self._on_document)
        self.destroyed.connect(functools.partial(document.unsubscribe, self._on_document))

    def _on_document(self, event, payload):
        if event in ("changed", "reset") and self.isVisible():
            self.redraw()

    def redraw(self):
        """Draw one batch; first load the training split (in a thread) if the settings choose other images."""
        network = self.document
        if network.input_node() is None:
            self._show_message("No batch to show: the network has no Input node, so no dataset.", "")
            return
        key = data_key(network)
        if self._data is not None and self._data[0] == key:
            try:
                self._show_batch(preview_batch(network, self._data[1]))
            except EXPECTED_ERRORS as e:
                self._report(e)
        elif self._loading is None:  # (a load under way redraws once it ends)
            self._data = None
            result = {}
            thread = threading.Thread(target=_load, args=(network_from_json(network_to_json(network)), result),
                                      name="batch-preview-load", daemon=True)
            self._loading = (key, thread, result)
            thread.start()
            self._poll.start()
            self._clear()
            self.message.hide()
            self.caption.setText("Loading the training images…")

    def _take_load(self):
        """``(key, result)`` of the finished load, which is no longer under way; its data kept when it loaded."""
        key, _thread, result = self._loading
        self._poll.stop()
        self._loading = None
        if "data" in result:
            self._data = (key, result["data"])
        return key, result

    def _check_loaded(self):
        if self._loading[1].is_alive():
            return
        key, result = self._take_load()
        error = result.get("error")
        if error is not None and key == data_key(self.document):  # (else load what the settings choose now)
            self._report(error)
        else:
            self.redraw()

    def _report(self, error):
        """Say why there is no batch; an error no one expects is raised."""
        if isinstance(error, DatasetNotFoundError):
            self._show_message("No batch to show: the dataset is missing (Start offers to download it).", str(error))
        elif isinstance(error, EXPECTED_ERRORS):
            self._show_message("No batch to show: the training images could not be loaded.", str(error))
        else:
            raise error

    @property
    def loading(self):
        """Whether the training images are being loaded (the batch is drawn once they are)."""
        return self._loading is not None

    def hideEvent(self, event):
        """Wait for a load under way: no thread outlives the dialog's window."""
        if self._loading is not None:
            self._loading[1].join()
            self._take_load()
        super().hideEvent(event)

    def _show_message(self, caption, text):
        self._clear()
        self.caption.setText(caption)
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def _clear(self):
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.hide()
            tile.deleteLater()
        self.tiles = []
        self.images = None

    def _show_batch(self, batch):
        self._clear()
        self.message.hide()
        self.images = batch.images
        for k, (image, label) in enumerate(zip(batch.images, batch.labels, strict=True)):
            name = batch.classes[label] if 0 <= label < len(batch.classes) else str(label)
            tile = QLabel()
            tile.setPixmap(tile_pixmap(image))
            tile.setAlignment(Qt.AlignmentFlag.AlignCenter)
            tile.setToolTip(name)
            caption = QLabel(name)
            caption.setStyleSheet(style.MUTED_STYLE)
            caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            cell = QWidget()
            cell_layout = QVBoxLayout(cell)
            cell_layout.setContentsMargins(0, 0, 0, 0)
            cell_layout.setSpacing(1)
            cell_layout.addWidget(tile)
            cell_layout.addWidget(caption)
            self.grid.addWidget(cell, k // COLUMNS, k % COLUMNS)
            self.tiles.append(cell)
        self.caption.setText(self._caption(batch))

    def _caption(self, batch):
        count = len(batch.images)
        batch_size = self.document.settings["batch_size"]
        first = f"The first {count} training images" + (f" (of a batch of {batch_size})" if batch_size > count else "")
        if not batch.augmentations:
            return f"{first}, as training sees them: no augmentation is on, so every redraw shows the same images."
        return (f"{first}, as training sees them after {', '.join(batch.augmentations)} (shown un-normalised). "
                "Redraw for new random draws.")
