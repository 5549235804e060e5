"""The "Explain" window of a gallery image: the image beside its Grad-CAM (at a chosen layer with image-shaped
output, the last one first) and its gradient saliency, for the predicted or the true class.

The maps come from ``engine.training.attribution`` on the model's own input (the dataset's evaluation
transform), and are painted over the untransformed image, resized to it where the transform changed the size."""

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QGridLayout, QLabel, QVBoxLayout

from engine.training.attribution import AttributionError, grad_cam, image_layers, overlay, saliency

from . import style
from .gallery import image_array, to_pixmap

PICTURE = 192  # pixels of each picture's side


def resized(heatmap, shape):
    """``heatmap`` (h, w) sampled to (H, W) = ``shape`` at the nearest points."""
    h, w = heatmap.shape
    rows = np.minimum((np.arange(shape[0]) + 0.5) * h / shape[0], h - 1).astype(int)
    cols = np.minimum((np.arange(shape[1]) + 0.5) * w / shape[1], w - 1).astype(int)
    return heatmap[np.ix_(rows, cols)]


def model_input(dataset, index):
    """The ``index``-th sample of ``dataset`` as the model sees it: a (1, C, H, W) tensor."""
    sample = dataset[index]
    return (sample[0] if isinstance(sample, (list, tuple)) else sample).unsqueeze(0)


class ExplainDialog(QDialog):
    """Image, Grad-CAM and saliency of sample ``index`` of ``dataset`` under ``model``; ``classes`` names the
    classes, ``true`` and ``predicted`` are the sample's."""

    def __init__(self, model, dataset, index, classes, true, predicted, parent=None):
        super().__init__(parent)
        self.model, self.index = model, index
        self.setWindowTitle(f"Explain image {index}")
        self.image = image_array(dataset, index)
        self.inputs = model_input(dataset, index)
        self.layers = image_layers(model, self.inputs)
        self.layer_box = QComboBox()
        self.layer_box.addItems(self.layers)
        self.layer_box.setCurrentIndex(len(self.layers) - 1)  # the last image-shaped layer: the usual choice
        self.layer_box.setEnabled(bool(self.layers))
        self.class_box = QComboBox()
        self.class_box.addItem(f"predicted: {classes[predicted]}", int(predicted))
        if true != predicted:
            self.class_box.addItem(f"true: {classes[true]}", int(true))
        form = QFormLayout()
        form.addRow("Grad-CAM at", self.layer_box)
        form.addRow("Explain the class", self.class_box)
        self.pictures = {name: QLabel() for name in ("image", "grad-cam", "saliency")}
        grid = QGridLayout()
        for column, (name, label) in enumerate(self.pictures.items()):
            label.setFixedSize(PICTURE, PICTURE)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            title = QLabel(name.capitalize() if name != "grad-cam" else "Grad-CAM")
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(title, 0, column)
            grid.addWidget(label, 1, column)
        self.note = QLabel()
        self.note.setStyleSheet(style.MUTED_STYLE)
        self.note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        self.pictures["image"].setPixmap(to_pixmap(self.image, PICTURE))
        self.layer_box.currentIndexChanged.connect(self.explain)
        self.class_box.currentIndexChanged.connect(self.explain)
        self.explain()

    def explain(self):
        """Compute and paint both maps for the chosen layer and class."""
        target = self.class_box.currentData()
        painted = {"saliency": saliency(self.model, self.inputs, target).maps[0]}
        notes = ["Warm colours: where the score of the class is most sensitive (saliency) or what the layer "
                 "found that raises it (Grad-CAM)."]
        if self.layers:
            try:
                painted["grad-cam"] = grad_cam(self.model, self.inputs, self.layer_box.currentText(), target).maps[0]
            except AttributionError as e:  # shown where the user looks, not raised in a slot
                notes.append(str(e))
        else:
            notes.append("No layer has an image-shaped output here, so there is no Grad-CAM.")
            self.pictures["grad-cam"].clear()
        shape = self.image.shape[:2]
        for name, heatmap in painted.items():
            self.pictures[name].setPixmap(to_pixmap(overlay(self.image, resized(heatmap, shape)), PICTURE))
        self.note.setText(" ".join(notes))
