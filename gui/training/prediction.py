"""Prediction: drop or open an image file and see the model's five most likely classes, as
``engine.training.predictor`` (the command line's way too) reads and classifies it; beside the image, where the
prediction looked: Grad-CAM at a layer with an image-shaped output, or gradient saliency, for the predicted class
or one the user picks (``engine.training.attribution``)."""

import os

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine import nn, zeros
from engine.training.attribution import grad_cam, image_layers, overlay, saliency
from engine.training.predictor import TOP, load_image
from engine.vision.datasets import IMG_EXTENSIONS

from . import style
from .gallery import to_pixmap

PICTURE = 196  # pixels a side of the image and of its heatmap
PREDICTED = "the predicted class"  # the first class to explain, whichever the model predicts


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
        self._image = None  # the last image classified, as the network sees it (PIL)
        self.image = picture_frame("Drop an image here\nor open one")
        self.heatmap = picture_frame("Where the prediction\nlooked shows here")
        self.method = QComboBox()
        self.method.setToolTip("Grad-CAM: which parts of a layer's feature maps raise the class's score, mapped "
                               "onto the image.\nSaliency: how strongly each pixel changes the class's score.")
        self.target = QComboBox()
        self.target.setToolTip("The class whose score is explained")
        for combo in (self.method, self.target):
            combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the mouse wheel only once focused
            combo.currentIndexChanged.connect(self._explain)
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
        choices = QGridLayout()
        choices.addWidget(QLabel("Explain with"), 0, 0)
        choices.addWidget(self.method, 0, 1)
        choices.addWidget(QLabel("for"), 1, 0)
        choices.addWidget(self.target, 1, 1)
        choices.setColumnStretch(1, 1)
        results = QVBoxLayout()
        for heading, part in (("Top 5", grid), ("Where it looked (red: counts most)", choices)):
            title = QLabel(heading)
            font = title.font()
            font.setBold(True)
            title.setFont(font)
            results.addWidget(title)
            results.addLayout(part)
            results.addSpacing(10)
        results.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(self.image, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.heatmap, 0, Qt.AlignmentFlag.AlignTop)
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
        self._image = None
        self.heatmap.clear()
        self.heatmap.setText("Where the prediction\nlooked shows here")
        self.heatmap.setToolTip("")
        self._fill_choices()

    def _fill_choices(self):
        """The methods (Grad-CAM at each layer with an image-shaped output, last convolution first chosen, and
        saliency) and the classes (the predicted one, or any) the model can be explained with."""
        for combo in (self.method, self.target):
            combo.blockSignals(True)
            combo.clear()
        if self.predictor is not None:
            model, layers = self.predictor.model, explainable_layers(self.predictor)
            for layer in layers:
                self.method.addItem(f"Grad-CAM at {layer}", layer)
            self.method.addItem("Saliency", None)
            convolutions = [k for k, layer in enumerate(layers) if isinstance(model.get_submodule(layer), nn.Conv2d)]
            self.method.setCurrentIndex(convolutions[-1] if convolutions else max(len(layers) - 1, 0))
            self.target.addItem(PREDICTED, None)
            for k, name in enumerate(self.predictor.classes):
                self.target.addItem(name, k)
        for combo in (self.method, self.target):
            combo.setEnabled(self.predictor is not None)
            combo.blockSignals(False)

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
        self._image = image
        self.target.setItemText(0, f"{PREDICTED} ({top[0][0]})")
        self.image.setPixmap(to_pixmap(np.asarray(image), PICTURE - 8))
        self.image.setToolTip(os.path.basename(path))
        for k in range(TOP):
            name, p = top[k] if k < len(top) else ("", 0.0)
            self.names[k].setText(name)
            self.bars[k].setValue(round(1000 * p))
            self.values[k].setText(f"{100 * p:.1f} %" if name else "")
        self._explain()
        self.predicted.emit(top)
        return top

    def _explain(self):
        """Show the chosen map over the last image (a slot: refusals are shown, never raised)."""
        if self.predictor is None or self._image is None:
            return
        layer, target = self.method.currentData(), self.target.currentData()
        batch = self.predictor.transform(self._image).unsqueeze(0)
        try:
            if layer is None:
                found = saliency(self.predictor.model, batch, target)
            else:
                found = grad_cam(self.predictor.model, batch, layer, target)
        except (ValueError, RuntimeError) as e:  # AttributionError is a ValueError
            self.error.setText(f"Cannot explain the prediction: {e}")
            return
        self.error.setText("")
        self.heatmap.setPixmap(to_pixmap(overlay(np.asarray(self._image), found.maps[0]), PICTURE - 8))
        self.heatmap.setToolTip(f"{self.method.currentText()} for {self.predictor.classes[found.targets[0]]}")


def picture_frame(placeholder):
    label = QLabel(placeholder)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setFixedSize(PICTURE, PICTURE)
    label.setStyleSheet("QLabel { border: 2px dashed #b0bec5; border-radius: 8px; color: #78909c; }")
    return label


def explainable_layers(predictor):
    """The layers of the predictor's model Grad-CAM can explain; none when a trial pass fails."""
    shape = predictor.network.input_node().params["shape"]
    try:
        return image_layers(predictor.model, zeros(1, *shape))
    except (ValueError, RuntimeError):
        return []
