"""The training settings form, generated from ``SETTINGS_GROUPS`` (the specs the document checks with) and
the Input node's dataset choice.

Every edit goes to the document (``set_settings``, or ``set_params`` on the Input node for the dataset);
the form listens to the document and shows what it holds, so an undo in the editor or a file opened shows
up here too. Options that do not apply to the chosen optimizer or schedule are hidden.
"""

import functools
import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from engine import cuda
from engine.graph import DATASETS, SETTINGS_GROUPS, NetworkError

LABELS = {
    "data_dir": "Data folder", "val_split": "Validation split", "train_limit": "Train images",
    "augment_crop_padding": "Random crop padding", "augment_hflip": "Horizontal flips", "normalize": "Normalise",
    "num_workers": "Loader workers", "optimizer": "Optimizer", "lr": "Learning rate", "momentum": "Momentum",
    "nesterov": "Nesterov", "weight_decay": "Weight decay", "beta1": "β₁", "beta2": "β₂", "scheduler": "Schedule",
    "step_size": "Step size (epochs)", "milestones": "Milestones (epochs)", "gamma": "Decay factor γ",
    "warmup_fraction": "Warm-up fraction", "patience": "Patience (epochs)", "batch_size": "Batch size",
    "epochs": "Epochs", "device": "Device", "seed": "Seed",
}

# which options apply, given the other settings (the rest of the recipe ignores them)
APPLIES = {
    "momentum": lambda s: s["optimizer"] in ("SGD", "RMSprop"),
    "nesterov": lambda s: s["optimizer"] == "SGD",
    "beta1": lambda s: s["optimizer"] in ("Adam", "AdamW"),
    "beta2": lambda s: s["optimizer"] in ("Adam", "AdamW"),
    "step_size": lambda s: s["scheduler"] == "StepLR",
    "milestones": lambda s: s["scheduler"] == "MultiStepLR",
    "gamma": lambda s: s["scheduler"] in ("StepLR", "MultiStepLR", "ReduceLROnPlateau"),
    "warmup_fraction": lambda s: s["scheduler"] == "OneCycleLR",
    "patience": lambda s: s["scheduler"] == "ReduceLROnPlateau",
}

INT_LIMIT = 2**31 - 1


class NumberBox(QDoubleSpinBox):
    """A float box that shows ``0.001`` or ``1e-05`` rather than a fixed number of decimals; the arrows
    halve and double values whose range spans several orders of magnitude (a learning rate)."""

    def __init__(self, spec):
        super().__init__()
        self.setDecimals(12)
        self.setRange(spec.minimum if spec.minimum is not None else -1e12,
                      spec.maximum if spec.maximum is not None else 1e12)
        self._log = bool(spec.minimum and spec.maximum and spec.maximum / spec.minimum > 1e4)
        self.setSingleStep(0.05 if (spec.maximum or 0) <= 1 else 1.0)

    def textFromValue(self, value):
        return f"{value:g}"

    def valueFromText(self, text):
        try:
            return float(text)
        except ValueError:
            return self.value()

    def validate(self, text, pos):
        stripped = text.strip()
        if stripped in ("", "-", ".", "e") or stripped.endswith(("e", "e-", "E", "E-")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        ok = math.isfinite(value) and self.minimum() <= value <= self.maximum()
        return (QValidator.State.Acceptable if ok else QValidator.State.Intermediate), text, pos

    def stepBy(self, steps):
        if self._log:
            self.setValue(self.value() * 2.0**steps)
        else:
            super().stepBy(steps)
        self.editingFinished.emit()


class SettingsForm(QScrollArea):
    """Shows and edits ``document.settings`` and the Input node's dataset."""

    edited = Signal()  # the user changed a setting (after the document accepted it)

    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = document
        self.editors = {}  # setting name -> widget
        self._rows = {}  # setting name -> (form layout, field widget)
        self._updating = False
        self.setWidgetResizable(True)
        self.setMinimumWidth(280)
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
                self.dataset = QComboBox()
                self.dataset.addItems(list(DATASETS))
                self.dataset.setToolTip("The dataset of the Input node")
                self.dataset.currentTextChanged.connect(self._dataset_edited)
                form.addRow("Dataset", self.dataset)
            for spec in specs:
                editor, field = self._make_editor(spec)
                editor.setToolTip(spec.help)
                self.editors[spec.name] = editor
                self._rows[spec.name] = (form, field)
                form.addRow(LABELS.get(spec.name, spec.name.replace("_", " ").capitalize()), field)
            layout.addWidget(box)
        layout.addStretch(1)
        self.setWidget(body)
        document.subscribe(self._on_document)
        self.destroyed.connect(functools.partial(document.unsubscribe, self._on_document))
        self.refresh()

    # ----- widgets -----
    def _make_editor(self, spec):
        name = spec.name
        if spec.kind == "int":
            box = QSpinBox()
            box.setRange(int(spec.minimum or 0), int(min(spec.maximum or INT_LIMIT, INT_LIMIT)))
            box.setKeyboardTracking(False)
            if name == "train_limit":
                box.setSpecialValueText("all")
                box.setSingleStep(256)
            box.valueChanged.connect(lambda v, n=name: self._edited(n, v))
            return box, box
        if spec.kind == "float":
            box = NumberBox(spec)
            box.setKeyboardTracking(False)
            box.editingFinished.connect(lambda n=name, b=box: self._edited(n, b.value()))
            return box, box
        if spec.kind == "bool":
            box = QCheckBox()
            box.toggled.connect(lambda v, n=name: self._edited(n, v))
            return box, box
        if spec.kind == "choice":
            box = QComboBox()
            box.addItems(list(spec.choices))
            if name == "device" and not cuda.is_available():
                box.model().item(spec.choices.index("cuda")).setEnabled(False)
                box.setToolTip("CUDA is not available on this computer")
            box.currentTextChanged.connect(lambda v, n=name: self._edited(n, v))
            return box, box
        line = QLineEdit()
        if spec.kind == "ints":
            line.setPlaceholderText("e.g. 30, 60, 90")
            line.editingFinished.connect(lambda n=name, e=line: self._edited(n, _parse_ints(e.text())))
            return line, line
        line.setPlaceholderText("default data folder")
        line.editingFinished.connect(lambda n=name, e=line: self._edited(n, e.text().strip()))
        browse = QPushButton("…")
        browse.setFixedWidth(28)
        browse.setToolTip("Choose the folder")
        browse.clicked.connect(lambda: self._browse(line))
        row = QWidget()
        box = QHBoxLayout(row)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(line, 1)
        box.addWidget(browse)
        return line, row

    def _browse(self, line):
        folder = QFileDialog.getExistingDirectory(self, "Dataset folder", line.text())
        if folder:
            line.setText(folder)
            self._edited("data_dir", folder)

    # ----- edits -----
    def _edited(self, name, value):
        if self._updating:
            return
        try:
            if value != self.document.settings[name]:
                self.document.set_settings({name: value})
        except (NetworkError, ValueError) as e:
            self._show_error(str(e))
            self.refresh()
            return
        self._show_error("")
        self.edited.emit()

    def _dataset_edited(self, name):
        node = self.document.input_node()
        if self._updating or node is None or node.params["dataset"] == name:
            return
        changes = {"dataset": name}
        if DATASETS[name].shape is not None:  # the Input's shape must match the dataset's images
            changes["shape"] = DATASETS[name].shape
        try:
            self.document.set_params(node.id, changes)
        except NetworkError as e:
            self._show_error(str(e))
            self.refresh()
            return
        self._show_error("")
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
        self._updating = True
        try:
            for name, editor in self.editors.items():
                value = settings[name]
                if isinstance(editor, QCheckBox):
                    editor.setChecked(bool(value))
                elif isinstance(editor, QComboBox):
                    editor.setCurrentText(value)
                elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                    editor.setValue(value)
                elif isinstance(value, tuple):
                    editor.setText(", ".join(str(v) for v in value))
                elif editor.text() != value:
                    editor.setText(value)
            node = self.document.input_node()
            self.dataset.setEnabled(node is not None)
            if node is not None:
                self.dataset.setCurrentText(node.params["dataset"])
            for name, applies in APPLIES.items():
                form, field = self._rows[name]
                form.setRowVisible(field, applies(settings))
        finally:
            self._updating = False


def _parse_ints(text):
    """``"30, 60 90"`` → ``(30, 60, 90)``; text that is not a list of integers is passed on as is so the
    document's check names the problem."""
    parts = text.replace(",", " ").split()
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        return text
