"""Prediction: drop or open an image file and see the model's five most likely classes, as
``engine.training.predictor`` (the command line's way too) reads and classifies it; beside them, where the
prediction looked (an ``ExplainPanel``: Grad-CAM and saliency, for the predicted class or one the user picks)."""

import os

import numpy as np
from PySide6.QtCore import QEvent, Qt, Signal
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
from gui import theme

from . import style
from .explain import EXPLAIN_FAILURES, ExplainPanel

PICTURE = 160  # pixels a side of the image and of each map: three of them beside the top five at 1280x720
PLACEHOLDER = "Drop an image here\nor open one"


class PredictionView(QWidget):
    predicted = Signal(list)  # the top-k list of the last image

    def __init__(self, parent=None):
        super().__init__(parent)
        self.predictor = None
        self.path = None  # the image shown, classified again when the model changes
        self.setAcceptDrops(True)
        self.source = QLabel()
        self.source.setStyleSheet(style.MUTED_STYLE)
        self.open_button = QPushButton("Open image…")
        self.open_button.clicked.connect(self._open)
        self.explanation = ExplainPanel(PICTURE, PLACEHOLDER)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.hide()  # shown with a message only
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
        results = QVBoxLayout()  # beside the pictures: the top five, then the choices of what to explain
        results.addWidget(heading("Top 5"))
        results.addLayout(grid)
        results.addSpacing(10)
        results.addWidget(heading("Where it looked (red: counts most)"))
        results.addWidget(self.explanation.take_choices())
        results.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.explanation, 0, Qt.AlignmentFlag.AlignTop)
        row.addSpacing(16)
        row.addLayout(results, 1)
        top = QHBoxLayout()
        top.addWidget(self.open_button)
        top.addWidget(self.source, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addLayout(row)
        layout.addStretch(1)
        self._restyle()
        self.set_predictor(None)

    def set_predictor(self, predictor, reason="Train a network (or pick a run) to classify images."):
        """Classify with ``predictor`` from now on (None: nothing to classify with, for ``reason``); the image
        shown, if any, is classified and explained again with it."""
        self.predictor = predictor
        self.open_button.setEnabled(predictor is not None)
        self.source.setText(f"Model: {predictor.source}" if predictor is not None else reason)
        if predictor is not None and self.path is not None:
            self.predict_file(self.path)
        else:
            self._clear()

    def _clear(self):
        """Nothing shown: no image, top five or maps."""
        self._say("")
        self.explanation.clear()
        for name, bar, value in zip(self.names, self.bars, self.values, strict=True):
            name.setText("")
            bar.setValue(0)
            value.setText("")

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
        """Classify the image at ``path``, show the top five and explain the first; returns them (empty after an
        error, which is shown in place of them)."""
        if self.predictor is None:
            return []
        self._clear()
        self.path = path
        try:
            image = load_image(path, self.predictor.network)
            top = self.predictor.top([image])[0]
        except EXPLAIN_FAILURES as e:  # an unreadable image, or a model that cannot take it: said, not raised
            self._say(str(e))
            return []
        for k in range(TOP):
            name, p = top[k] if k < len(top) else ("", 0.0)
            self.names[k].setText(name)
            self.bars[k].setValue(round(1000 * p))
            self.values[k].setText(f"{100 * p:.1f} %" if name else "")
        predictor = self.predictor
        self.explanation.show_image(predictor.model, predictor.transform(image).unsqueeze(0), np.asarray(image),
                                    predictor.classes, predictor.classes.index(top[0][0]))
        self.explanation.pictures["image"].setToolTip(os.path.basename(path))
        self.predicted.emit(top)
        return top

    def _say(self, error):
        self.error.setText(error)
        self.error.setVisible(bool(error))

    def _restyle(self):
        self.error.setStyleSheet(f"color: {theme.canvas_style(theme.current_theme()).error.name()};")

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self._restyle()


def heading(text):
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
