"""The export dialog: the trained model (or freshly initialised weights) in one of the export formats
(weights as safetensors/npz/llw, ONNX, PyTorch code, engine code). A network with errors is refused, with
the errors listed."""

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
)

from engine.graph import NetworkError
from engine.graph.build import errors_text
from engine.graph.export import FORMATS, export_network

from . import style


class ExportDialog(QDialog):
    """``state_dict`` None exports freshly initialised weights; ``source`` says where the weights come from."""

    def __init__(self, document, state_dict=None, source="", network_path=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export trained model")
        self.setMinimumWidth(560)
        self.document = document
        self.state_dict = state_dict
        self.written = []
        folder = os.path.dirname(network_path) if network_path else os.path.expanduser("~")
        stem = os.path.splitext(os.path.basename(network_path))[0] if network_path else "model"
        self._base = os.path.join(folder, stem)

        self.formats = QListWidget()
        for fmt in FORMATS.values():
            item = QListWidgetItem(f"{fmt.title}  ({fmt.extension})")
            item.setData(Qt.ItemDataRole.UserRole, fmt.key)
            self.formats.addItem(item)
        self.formats.setMaximumHeight(150)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setStyleSheet(style.MUTED_STYLE)
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.weights = QLabel(f"Weights: {source}" if state_dict is not None else
                              "Weights: none trained yet; the export holds freshly initialised weights.")
        self.weights.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self._export_clicked)
        self.buttons.rejected.connect(self.reject)

        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Format"))
        layout.addWidget(self.formats)
        layout.addWidget(self.description)
        layout.addWidget(QLabel("File"))
        layout.addLayout(row)
        layout.addWidget(self.weights)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.formats.currentRowChanged.connect(self._format_changed)
        self.formats.setCurrentRow(0)

        self.refusal = self.reason_refused()
        if self.refusal:
            self._show(self.refusal, error=True)
            self.export_button.setEnabled(False)

    def reason_refused(self):
        """Why this network cannot be exported (its errors), or an empty string."""
        inference = self.document.infer()
        return "" if inference.ok else "Cannot export: " + errors_text(inference, self.document)

    @property
    def format_key(self):
        item = self.formats.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def _format_changed(self, _row):
        fmt = FORMATS[self.format_key]
        self.description.setText(fmt.description)
        current = self.path.text().strip()
        base = os.path.splitext(current)[0] if current else self._base
        self.path.setText(base + fmt.extension)

    def _browse(self):
        fmt = FORMATS[self.format_key]
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.title}", self.path.text(),
                                              f"{fmt.title} (*{fmt.extension})")
        if path:
            self.path.setText(path)

    def _show(self, text, error=False):
        self.status.setStyleSheet("color: #c62828;" if error else "color: #2e7d32;")
        self.status.setText(text)

    def _export_clicked(self):
        self.export(self.format_key, self.path.text().strip())

    def export(self, fmt, path):
        """Write the export; returns the files written (empty, with the reason shown, when it fails)."""
        self.formats.setCurrentRow(list(FORMATS).index(fmt))
        if self.refusal:
            return []
        if not path:
            self._show("Choose a file to export to.", error=True)
            return []
        try:
            self.written = export_network(self.document, self.state_dict, fmt, path)
        except (NetworkError, OSError, ValueError) as e:
            self._show(f"Export failed: {e}", error=True)
            return []
        self._show("Written:\n" + "\n".join(self.written))
        return self.written
