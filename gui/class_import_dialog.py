"""The dialog of File ▸ Import Model… for model classes: a class of a Python file (listed from its source,
without running it) or a known architecture of the engine's vision models, its arguments as JSON, the shape of
one sample and, optionally, a checkpoint with its weights."""

import ast
import os

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.training.model_import import VISION, known_architectures, parse_arguments, parse_sample_shape

WEIGHTS_FILTER = "Checkpoints (*.pth *.pt *.llw);;All files (*)"


def module_classes(path):
    """The classes a Python file defines whose bases name a Module (``nn.Module``, ``torch.nn.Module``) or a class
    of the file found so (``class Big(Small)``), read from its syntax tree: listing them runs nothing."""
    try:
        with open(path, encoding="utf-8") as fh:
            tree = ast.parse(fh.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return []
    found = []
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and any("Module" in ast.unparse(base) or ast.unparse(base) in found
                                                  for base in node.bases):
            found.append(node.name)
    return found


class ClassImportDialog(QDialog):
    def __init__(self, parent=None, path=None):
        """``path``: a Python file whose classes are offered; None offers the known architectures."""
        super().__init__(parent)
        self.path = path
        self.setWindowTitle("Import a model class" if path else "Import a known architecture")
        self.classes = QComboBox()
        self.classes.setEditable(path is not None)
        self.classes.addItems(module_classes(path) if path else known_architectures())
        # a file defines its blocks first and the model last; of the architectures, the first of the tutorials
        self.classes.setCurrentIndex(self.classes.count() - 1 if path else max(0, self.classes.findText("resnet18")))
        self.arguments = QLineEdit("{}" if path else '{"num_classes": 10}')
        self.arguments.setPlaceholderText('{"num_classes": 10}')
        self.input = QLineEdit("3x32x32")
        self.weights = QLineEdit()
        self.weights.setPlaceholderText("none: the class's initial weights")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        weights_row = QWidget()
        row = QHBoxLayout(weights_row)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.weights, 1)
        row.addWidget(browse)
        form = QFormLayout()
        if path:
            form.addRow("file", QLabel(os.path.basename(path)))
        form.addRow("class" if path else "architecture", self.classes)
        form.addRow("arguments (JSON)", self.arguments)
        form.addRow("one sample", self.input)
        form.addRow("weights", weights_row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #d32f2f;")
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Import")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        note = QLabel("The file's code runs with LayerLab's engine as torch, as 'python model.py' would."
                      if path else "An architecture of the engine's vision models, with the initial weights its "
                                   "seed gives unless a checkpoint is chosen.")
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setMinimumWidth(460)
        self.choice = None

    def _browse(self):
        path, _ = QFileDialog.getOpenFileName(self, "Weights", os.path.dirname(self.path or ""), WEIGHTS_FILTER)
        if path:
            self.weights.setText(path)

    def values(self):
        """``(spec, kwargs, input shape, weights or None)``; ``ValueError`` saying what to correct."""
        name = self.classes.currentText().strip()
        if not name:
            raise ValueError("choose a class")
        try:
            kwargs = parse_arguments(self.arguments.text())
        except ValueError as e:
            raise ValueError(f"the arguments {e}") from None
        try:
            shape = parse_sample_shape(self.input.text())
        except ValueError as e:
            raise ValueError(f"the sample shape {self.input.text()!r} {e}") from None
        spec = f"{self.path}:{name}" if self.path else f"{VISION}{name}"
        return spec, kwargs, shape, self.weights.text().strip() or None

    def _accept(self):
        try:
            self.choice = self.values()
        except ValueError as e:
            self.message.setText(str(e))
            return
        self.accept()
