"""Explaining a prediction: ``ExplainPanel`` shows an image beside its Grad-CAM (at a chosen layer with an
image-shaped output) and its gradient saliency, for the predicted class, the true one or any other. The
Prediction tab embeds it; ``ExplainDialog`` is the window a gallery image opens it in.

The maps come from ``engine.training.attribution`` on the model's own input (the dataset's evaluation
transform), and are painted over the untransformed image, resized to it where the transform changed the size.
Failures a user can cause (a file changed on disk, a layer or model that cannot be explained) are shown in the
panel's note, never raised from a slot."""

import weakref

import numpy as np
from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import QComboBox, QDialog, QFormLayout, QGridLayout, QLabel, QVBoxLayout, QWidget

from engine import nn
from engine.training.attribution import grad_cam, image_layers, overlay, saliency
from engine.utils.files import FileError
from gui import theme

from . import style
from .gallery import image_array, to_pixmap

PICTURE = 192  # pixels of each picture's side
EXPLAIN_FAILURES = (ValueError, RuntimeError, OSError, FileError)  # AttributionError and ImageFileError included
MAPS = {"image": "Image", "grad-cam": "Grad-CAM", "saliency": "Saliency"}
LEGEND = ("Red: what the layer found that raises the class's score (Grad-CAM), or the pixels the score is most "
          "sensitive to (saliency).")
NO_GRAD_CAM = "No layer has an image-shaped output here, so there is no Grad-CAM."

_layers = weakref.WeakKeyDictionary()  # model -> {input shape: names of its image-shaped layers}


def explainable_layers(model, inputs):
    """The layers of ``model`` Grad-CAM can explain for ``inputs`` (N, C, H, W): found by one trial forward pass
    per model and input shape, then remembered for as long as the model lives."""
    known = _layers.setdefault(model, {})
    shape = tuple(inputs.shape[1:])
    if shape not in known:
        known[shape] = image_layers(model, inputs[:1])
    return known[shape]


def default_layer(model, layers):
    """The layer Grad-CAM starts at: the last ``Conv2d`` among ``layers``, else the last of them (None when
    there are none). The last convolution is where Selvaraju et al. take Grad-CAM: its feature maps are the most
    class-specific that are still laid out like the image, while the layers after it (activations, pooling)
    give the same evidence at the same or a coarser resolution."""
    convolutions = [layer for layer in layers if isinstance(model.get_submodule(layer), nn.Conv2d)]
    return (convolutions or layers or [None])[-1]


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


def class_choices(classes, predicted, true=None):
    """``[(label, class index)]`` for the class combo: the predicted class first, then the true one (when known
    and different), then every other class in order."""
    first = [(f"{classes[predicted]} (predicted)", predicted)]
    if true is not None and true != predicted:
        first.append((f"{classes[true]} (true)", true))
    chosen = {k for _, k in first}
    return first + [(name, k) for k, name in enumerate(classes) if k not in chosen]


def frame_style():
    """A dashed frame in the theme's dim text colour: an empty picture reads as a place for one."""
    dim = theme.canvas_style(theme.current_theme()).text_dim.name()
    return f"QLabel {{ border: 2px dashed {dim}; border-radius: 6px; color: {dim}; }}"


class ExplainPanel(QWidget):
    """Grad-CAM at a chosen layer and saliency for a chosen class, beside the image. ``show_image`` gives it a
    model and an input; ``picture``: pixels a side of each picture; ``placeholder``: the empty image's text.
    The choices of layer and class sit above the pictures, unless a host takes them (``take_choices``) to lay
    them out elsewhere."""

    def __init__(self, picture=PICTURE, placeholder="", parent=None):
        super().__init__(parent)
        self.model = self.inputs = self.image = None
        self.layers = []
        self.placeholder = placeholder
        self.picture = picture
        self.layer_box, self.class_box = QComboBox(), QComboBox()
        self.layer_box.setToolTip("The layer whose feature maps Grad-CAM weighs by the class's gradient")
        self.class_box.setToolTip("The class whose score is explained")
        for combo in (self.layer_box, self.class_box):
            combo.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # the mouse wheel only once focused
            combo.currentIndexChanged.connect(self._explain)
        self.choices = QWidget()
        form = QFormLayout(self.choices)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Grad-CAM at", self.layer_box)
        form.addRow("Explain the class", self.class_box)
        self.pictures = {name: QLabel() for name in MAPS}
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        for column, (name, label) in enumerate(self.pictures.items()):
            label.setFixedSize(picture, picture)
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            label.setWordWrap(True)
            label.setToolTip(LEGEND if name != "image" else "")
            title = QLabel(MAPS[name])
            title.setAlignment(Qt.AlignmentFlag.AlignCenter)
            grid.addWidget(title, 0, column)
            grid.addWidget(label, 1, column)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.choices)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        self._restyle()
        self.clear()

    def show_image(self, model, inputs, image, classes, predicted, true=None):
        """Explain ``model``'s score for ``inputs`` (1, C, H, W) over ``image`` (uint8 H×W×C or H×W, as shown):
        Grad-CAM at ``default_layer`` and saliency for class ``predicted``; ``true``: the true class, if known."""
        self.clear()
        self.model, self.inputs, self.image = model, inputs, np.asarray(image)
        self.pictures["image"].setPixmap(to_pixmap(self.image, self.picture))
        for combo in (self.layer_box, self.class_box):
            combo.blockSignals(True)
        for label, k in class_choices(classes, int(predicted), None if true is None else int(true)):
            self.class_box.addItem(label, k)
        try:
            self.layers = explainable_layers(model, inputs)
        except EXPLAIN_FAILURES as e:
            self.layers = []
            self._say(f"Cannot find the layers Grad-CAM could explain: {e}", error=True)
        self.layer_box.addItems(self.layers)
        if self.layers:
            self.layer_box.setCurrentIndex(self.layers.index(default_layer(model, self.layers)))
        for combo in (self.layer_box, self.class_box):
            combo.setEnabled(combo.count() > 0)
            combo.blockSignals(False)
        if not self.note.text():
            self._explain()

    def take_choices(self):
        """The widget of the layer and class choices, out of this panel's layout, for a host to place."""
        self.layout().removeWidget(self.choices)
        return self.choices

    def clear(self):
        """No image: empty pictures and choices."""
        self.model = self.inputs = self.image = None
        self.layers = []
        for combo in (self.layer_box, self.class_box):
            combo.blockSignals(True)
            combo.clear()
            combo.setEnabled(False)
            combo.blockSignals(False)
        for name, label in self.pictures.items():
            label.clear()
            label.setText(self.placeholder if name == "image" else "")
        self._say("")

    def show_error(self, message):
        """Say why there is nothing to explain (the image could not be read, say)."""
        self._say(message, error=True)

    def _explain(self):
        """Paint both maps for the chosen layer and class (a slot: failures are said, never raised)."""
        if self.model is None:
            return
        try:
            target, layer = self.class_box.currentData(), self.layer_box.currentText()
            painted = {"saliency": saliency(self.model, self.inputs, target).maps[0]}
            if self.layers:
                painted["grad-cam"] = grad_cam(self.model, self.inputs, layer, target).maps[0]
            shape = self.image.shape[:2]
            for name, heatmap in painted.items():
                self.pictures[name].setPixmap(to_pixmap(overlay(self.image, resized(heatmap, shape)), self.picture))
        except EXPLAIN_FAILURES as e:
            self._say(f"Cannot explain the prediction: {e}", error=True)
            return
        self._say("" if self.layers else NO_GRAD_CAM)

    def _say(self, text, error=False):
        self.note.setText(text)
        self.note.setProperty("error", error)
        self.note.setVisible(bool(text))
        self._restyle()

    def _restyle(self):
        """Colours of the theme in use (again after a theme change)."""
        error = theme.canvas_style(theme.current_theme()).error.name()
        self.note.setStyleSheet(f"color: {error};" if self.note.property("error") else style.MUTED_STYLE)
        for label in self.pictures.values():
            label.setStyleSheet(frame_style())

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self._restyle()


class ExplainDialog(QDialog):
    """The ``ExplainPanel`` of sample ``index`` of ``dataset`` under ``model``, in a window of its own (deleted
    when closed); ``classes`` names the classes, ``true`` and ``predicted`` are the sample's."""

    def __init__(self, model, dataset, index, classes, true, predicted, parent=None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(f"Explain image {index}")
        self.panel = ExplainPanel()
        QVBoxLayout(self).addWidget(self.panel)
        try:
            self.panel.show_image(model, model_input(dataset, index), image_array(dataset, index), classes,
                                  predicted, true)
        except EXPLAIN_FAILURES as e:  # the image changed on disk since it was evaluated, say
            self.panel.show_error(f"Cannot explain image {index}: {e}")
