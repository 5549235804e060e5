"""The training settings form, generated from ``SETTINGS_GROUPS`` (the specs the document checks with) and
the Input node's dataset choice.

The fields are the inspector's editors (``gui.editor.param_widgets``). Every edit goes through ``edits``
(``set_settings``, or ``set_params`` on the Input node for the dataset): in the application window that is
the editor's controller, so settings edits are undoable like any other. The form listens to the document
and shows what it holds, so an undo or a file opened shows up here too. Options that do not apply to the
chosen optimizer, schedule or crop (their spec's ``applies``) are hidden. The augmentation settings end with
"Preview batch…", which opens ``BatchPreview``: one training batch as those settings augment it.
"""

import functools

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from engine import cuda
from engine.graph import DATASETS, SETTINGS_GROUPS, NetworkError
from gui.editor.param_widgets import editor_for
from gui.widgets import wheel_only_when_focused

from .batch_preview import BatchPreview

LABELS = {
    "data_dir": "Data folder", "val_split": "Validation split", "train_limit": "Train images",
    "augment_crop": "Random crop", "augment_crop_padding": "Crop padding", "augment_crop_scale": "Smallest crop area",
    "augment_hflip": "Horizontal flips", "augment_rotation": "Rotation (±°)", "augment_policy": "Auto policy",
    "augment_color_jitter": "Colour jitter", "augment_grayscale": "Grayscale chance", "augment_blur": "Gaussian blur",
    "augment_erasing": "Random erasing chance", "normalize": "Normalise",
    "num_workers": "Loader workers", "optimizer": "Optimizer", "lr": "Learning rate", "momentum": "Momentum",
    "nesterov": "Nesterov", "weight_decay": "Weight decay", "beta1": "β₁", "beta2": "β₂", "scheduler": "Schedule",
    "step_size": "Step size (epochs)", "milestones": "Milestones (epochs)", "gamma": "Decay factor γ",
    "warmup_fraction": "Warm-up fraction", "patience": "Patience (epochs)", "batch_size": "Batch size",
    "epochs": "Epochs", "device": "Device", "seed": "Seed",
}
OFF_AT_ZERO = ("augment_crop_padding", "augment_rotation", "augment_color_jitter", "augment_grayscale",
               "augment_erasing")


class DocumentEdits:
    """Edits applied straight to the document. The editor's controller offers the same three methods as undoable
    commands (the application window passes it); both return the reason for a refusal, or None."""

    def __init__(self, document):
        self.document = document

    def set_settings(self, changes):
        return self._apply(self.document.set_settings, changes)

    def set_params(self, node_id, changes):
        return self._apply(lambda c: self.document.set_params(node_id, c), changes)

    def replace_network(self, network, text=""):
        return self._apply(self.document.assign, network)

    @staticmethod
    def _apply(edit, changes):
        try:
            edit(changes)
        except NetworkError as e:
            return str(e)
        return None


class SettingsForm(QScrollArea):
    """Shows and edits ``document.settings`` and the Input node's dataset, with the inspector's editors."""

    edited = Signal()  # the user changed a setting (after the document accepted it)

    def __init__(self, document, edits=None, parent=None):
        super().__init__(parent)
        self.document = document
        self.edits = edits or DocumentEdits(document)
        self.batch_preview = None  # the BatchPreview dialog, once opened
        self.editors = {}  # setting name -> ParamEditor
        self._rows = {}  # setting name -> (form layout, field widget)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)
        for group, specs in SETTINGS_GROUPS.items():
            box = QGroupBox(group)
            form = QFormLayout(box)
            if group == "Data":
                self.dataset = wheel_only_when_focused(QComboBox())
                self.dataset.addItems(list(DATASETS))
                self.dataset.setToolTip("The dataset of the Input node")
                self.dataset.activated.connect(lambda index: self._dataset_edited(self.dataset.itemText(index)))
                form.addRow("Dataset", self.dataset)
            for spec in specs:
                editor = editor_for(spec)
                editor.edited.connect(functools.partial(self._edited, spec.name))
                editor.invalid.connect(self._show_error)
                field = self._adapt(spec.name, editor)
                self.editors[spec.name] = editor
                self._rows[spec.name] = (form, field)
                form.addRow(LABELS.get(spec.name, spec.name.replace("_", " ").capitalize()), field)
            if group == "Augmentation":
                self.preview_button = QPushButton("Preview batch…")
                self.preview_button.setToolTip("Show one training batch as the network will see it, augmented")
                self.preview_button.clicked.connect(self.show_batch_preview)
                form.addRow(self.preview_button)
            layout.addWidget(box)
        layout.addStretch(1)
        self.setWidget(body)
        document.subscribe(self._on_document)
        self.destroyed.connect(functools.partial(document.unsubscribe, self._on_document))
        self.refresh()

    # ----- widgets -----
    def _adapt(self, name, editor):
        """What a few settings need beyond their kind's editor; returns the widget for the form row."""
        if name == "train_limit":
            editor.spin.setSpecialValueText("all")
            editor.spin.setSingleStep(256)
        elif name in OFF_AT_ZERO:
            editor.spin.setSpecialValueText("off")
            if name == "augment_rotation":
                editor.spin.setSingleStep(5.0)
        elif name == "device" and not cuda.is_available():
            editor.combo.model().item(editor.spec.choices.index("cuda")).setEnabled(False)
            editor.setToolTip("CUDA is not available on this computer")
        elif name == "data_dir":
            editor.field.setPlaceholderText("default data folder")
            browse = QPushButton("…")
            browse.setFixedWidth(28)
            browse.setToolTip("Choose the folder")
            browse.clicked.connect(self._browse)
            editor.layout().addWidget(browse)
        return editor

    def show_batch_preview(self):
        """Open (or raise) the batch preview and draw a batch with the current settings."""
        if self.batch_preview is None:
            self.batch_preview = BatchPreview(self.document, self)
        self.batch_preview.show()
        self.batch_preview.raise_()
        self.batch_preview.redraw()

    def _browse(self):
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", self.document.settings["data_dir"])
        if folder:
            self._edited("data_dir", folder)

    # ----- edits -----
    def _edited(self, name, value):
        if value != self.document.settings[name]:
            self._report(self.edits.set_settings({name: value}))

    def _dataset_edited(self, name):
        node = self.document.input_node()
        if node is None or node.params["dataset"] == name:
            return
        changes = {"dataset": name}
        if DATASETS[name].shape is not None:  # the Input's shape must match the dataset's images
            changes["shape"] = DATASETS[name].shape
        self._report(self.edits.set_params(node.id, changes))

    def _report(self, refusal):
        self._show_error(refusal or "")
        if refusal:
            self.refresh()
        else:
            self.edited.emit()

    def _show_error(self, text):
        self.error.setText(text)
        self.error.setVisible(bool(text))

    # ----- showing the document -----
    def _on_document(self, event, payload):
        if event in ("changed", "reset"):
            self.refresh()

    def refresh(self):
        settings = self.document.settings
        for name, editor in self.editors.items():
            editor.set_value(settings[name])
        node = self.document.input_node()
        self.dataset.setEnabled(node is not None)
        if node is not None:
            self.dataset.setCurrentText(node.params["dataset"])
        for name, editor in self.editors.items():
            form, field = self._rows[name]
            form.setRowVisible(field, editor.spec.applies_to(settings))
        self._fit_width_to_fields()

    def _fit_width_to_fields(self):
        """Never narrower than the fields and their labels: there is no horizontal scroll bar, so a narrower
        form would cut them off (and a focus change could scroll the labels' first letters out of sight)."""
        scroll_bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        self.setMinimumWidth(self.widget().minimumSizeHint().width() + scroll_bar + 2 * self.frameWidth())
