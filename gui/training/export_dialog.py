"""The export dialog: the trained model (or freshly initialised weights) in one of the export formats
(weights as safetensors/npz/llw, ONNX, PyTorch code, engine code). A network with errors is refused, with
the errors listed.

The suggested file is NAME.<ext> beside the network file (NAME its stem), or for an unsaved network in the
documents folder (NAME its title); changing the format changes the extension and keeps a name the user
typed. Existing files are replaced only when the user says so (``ask_overwrite``, which tests replace).
The outcome shows in one fixed-height line, so an export never resizes or moves the dialog."""

import os

from PySide6.QtCore import QStandardPaths, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
)

from engine.graph import NetworkError
from engine.graph.build import errors_text
from engine.graph.export import FORMATS, export_network, output_paths, suggested_path
from gui import theme

from . import style

DESCRIPTION_LINES = 3  # room for the longest format description, so that changing the format keeps the size


def default_folder():
    """Where an unsaved network's exports go: the user's documents folder where there is one, else home."""
    documents = QStandardPaths.writableLocation(QStandardPaths.DocumentsLocation)
    return documents if documents and os.path.isdir(documents) else os.path.expanduser("~")


def renamed(path, fmt):
    """``path`` with the extension of format ``fmt``, replacing another format's extension."""
    stem, extension = os.path.splitext(path)
    known = {f.extension for f in FORMATS.values()}
    return (stem if extension.lower() in known else path) + FORMATS[fmt].extension


def written_text(paths):
    """``Written a.py and a.safetensors in /folder``: names first, as a long folder is what gets cut off."""
    names = " and ".join(os.path.basename(p) for p in paths)
    return f"Written {names} in {os.path.dirname(paths[0]) or os.curdir}"


class StatusLine(QLabel):
    """One selectable line of text, elided to the width it has, in full in its tooltip and ``full_text``.
    Neither a long message nor an empty one changes its size, so the dialog around it keeps its own."""

    def __init__(self):
        super().__init__("X")
        self.setFixedHeight(self.sizeHint().height())
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.full_text = ""
        self.setText("")

    def show_message(self, text, colour):
        """``text`` in ``colour``; its line breaks become spaces on the line (the tooltip keeps them)."""
        self.full_text = " ".join(text.split())
        self.setToolTip(text)
        self.setStyleSheet(f"color: {colour};")
        self._elide()

    def resizeEvent(self, event):
        super().resizeEvent(event)
        self._elide()

    def _elide(self):
        self.setText(self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, self.width()))


class ExportDialog(QDialog):
    """``state_dict`` None exports freshly initialised weights; ``source`` says where the weights come from;
    ``classes`` names the model's outputs as its training data did (None: the dataset's names)."""

    def __init__(self, document, state_dict=None, source="", network_path=None, classes=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Export trained model")
        self.setMinimumWidth(560)
        self.document = document
        self.state_dict = state_dict
        self.classes = classes
        self.network_path = network_path
        self.folder = os.path.dirname(network_path) if network_path else default_folder()
        self.written = []
        self._suggested = ""  # the last path suggested, replaced on a format change unless the user edited it

        self.formats = QListWidget()
        for fmt in FORMATS.values():
            item = QListWidgetItem(f"{fmt.title}  ({fmt.extension})")
            item.setData(Qt.ItemDataRole.UserRole, fmt.key)
            self.formats.addItem(item)
        self.formats.setMaximumHeight(150)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.description.setStyleSheet(style.MUTED_STYLE)
        self.description.setMinimumHeight(DESCRIPTION_LINES * self.description.fontMetrics().lineSpacing())
        self.path = QLineEdit()
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        self.weights = QLabel(f"Weights: {source}" if state_dict is not None else
                              "Weights: none trained yet; the export holds freshly initialised weights.")
        self.weights.setWordWrap(True)
        self.status = StatusLine()
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
        fmt = self.format_key
        self.description.setText(FORMATS[fmt].description)
        current = self.path.text().strip()
        if current and current != self._suggested:
            self.path.setText(renamed(current, fmt))
            return
        self._suggested = suggested_path(fmt, self.network_path, self.document.title, self.folder)
        self.path.setText(self._suggested)

    def _browse(self):
        fmt = FORMATS[self.format_key]
        path, _ = QFileDialog.getSaveFileName(self, f"Export {fmt.title}", self.path.text(),
                                              f"{fmt.title} (*{fmt.extension})")
        if path:
            self.path.setText(path)

    def _show(self, text, error=False):
        colours = theme.canvas_style(theme.current_theme())
        self.status.show_message(text, (colours.error if error else colours.valid).name())

    def ask_overwrite(self, paths):
        """Whether to replace the existing files ``paths``."""
        names = "\n".join(paths)
        answer = QMessageBox.question(self, "Replace files?", f"These files exist already:\n{names}\n\nReplace them?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

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
        existing = [p for p in output_paths(fmt, path) if os.path.exists(p)]
        if existing and not self.ask_overwrite(existing):
            self._show(f"Not exported; kept the existing {' and '.join(map(os.path.basename, existing))}.", error=True)
            return []
        try:
            self.written = export_network(self.document, self.state_dict, fmt, path, self.classes)
        except (NetworkError, OSError, ValueError) as e:
            self._show(f"Export failed: {e}", error=True)
            return []
        self._show(written_text(self.written))
        return self.written
