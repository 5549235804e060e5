"""Prediction: drop or open an image file and see the model's five most likely classes, as
``engine.training.predictor`` (the command line's way too) reads and classifies it."""

import os

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.training.predictor import TOP, load_image
from engine.vision.datasets import IMG_EXTENSIONS

from . import style
from .gallery import to_pixmap


class PredictionView(QWidget):
    predicted = Signal(list)  # the top-k list of the last image

    def __init__(self, parent=None):
        super().__init__(parent)
        self.predictor = None
        self.setAcceptDrops(True)
        self.source = QLabel()
        self.source.setStyleSheet(style.MUTED_STYLE)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._open)
        self.image = QLabel("Drop an image here\nor open one")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setFixedSize(196, 196)
        self.image.setStyleSheet("QLabel { border: 2px dashed #b0bec5; border-radius: 8px; color: #78909c; }")
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.names, self.bars, self.values = [], [], []
        grid = QGridLayout()
        for row in range(TOP):
            name, bar, value = QLabel(), QProgressBar(), QLabel()
            bar.setRange(0, 1000)
            bar.setTextVisible(False)
            bar.setFixedHeight(14)
            value.setMinimumWidth(60)
            value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(name, row, 0)
            grid.addWidget(bar, row, 1)
            grid.addWidget(value, row, 2)
            self.names.append(name)
            self.bars.append(bar)
            self.values.append(value)
        grid.setColumnStretch(1, 1)
        results = QVBoxLayout()
        title = QLabel("Top 5")
        title.setStyleSheet("font-weight: 600;")
        results.addWidget(title)
        results.addLayout(grid)
        results.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.image)
        row.addSpacing(16)
        row.addLayout(results, 1)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.source, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(row)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.set_predictor(None)

    def set_predictor(self, predictor, reason="Train a network (or pick a run) to classify images."):
        self.predictor = predictor
        self.open_button.setEnabled(predictor is not None)
        self.source.setText(f"Model: {predictor.source}" if predictor is not None else reason)

    # ----- input -----
    def _open(self):
        patterns = " ".join(f"*{ext}" for ext in IMG_EXTENSIONS)
        path, _ = QFileDialog.getOpenFileName(self, "Classify an image", "", f"Images ({patterns})")
        if path:
            self.predict_file(path)

    def dragEnterEvent(self, event):
        if self.predictor is not None and event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event):
        urls = [u for u in event.mimeData().urls() if u.isLocalFile()]
        if urls:
            self.predict_file(urls[0].toLocalFile())
            event.acceptProposedAction()

    # ----- output -----
    def predict_file(self, path):
        """Classify the image at ``path`` and show the top five; returns them (empty after an error)."""
        if self.predictor is None:
            return []
        try:
            image = load_image(path, self.predictor.network)
        except ValueError as e:
            self.error.setText(str(e))
            return []
        self.error.setText("")
        top = self.predictor.top([image])[0]
        self.image.setPixmap(to_pixmap(np.asarray(image), 188))
        self.image.setToolTip(os.path.basename(path))
        for k in range(TOP):
            name, p = top[k] if k < len(top) else ("", 0.0)
            self.names[k].setText(name)
            self.bars[k].setValue(round(1000 * p))
            self.values[k].setText(f"{100 * p:.1f} %" if name else "")
        self.predicted.emit(top)
        return top
