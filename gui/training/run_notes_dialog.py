"""A run's title, tags and note, edited in one small dialog (the Runs tab's Notes… and a double-click)."""

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
)

from engine.training.run_notes import RunNotes, load_notes, save_notes
from engine.utils.files import FileError

from . import style


class RunNotesDialog(QDialog):
    """Edits the notes of the run in ``folder``; OK saves them (a refused value keeps the dialog open with the
    reason), so the caller only has to refresh the list when it is accepted."""

    def __init__(self, folder, name, parent=None):
        super().__init__(parent)
        self.folder = folder
        self.setWindowTitle(f"Run {name}")
        self.title = QLineEdit()
        self.title.setPlaceholderText(name)
        self.tags = QLineEdit()
        self.tags.setPlaceholderText("words, separated by spaces")
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("What was tried, what was learned")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(style.WARNING_STYLE)
        self.problem.hide()
        try:
            notes = load_notes(folder)
        except (FileError, OSError) as e:
            notes = RunNotes()
            self._show_problem(f"{e}. Saving writes a new file.")
        self.title.setText(notes.title)
        self.tags.setText(" ".join(notes.tags))
        self.note.setPlainText(notes.note)
        form = QFormLayout()
        form.addRow("Title", self.title)
        form.addRow("Tags", self.tags)
        form.addRow("Note", self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)
        self.resize(460, 320)

    def _show_problem(self, text):
        self.problem.setText(text)
        self.problem.setVisible(bool(text))

    def notes(self):
        return RunNotes(self.title.text(), self.tags.text().replace(",", " ").split(), self.note.toPlainText())

    def accept(self):
        try:
            save_notes(self.folder, self.notes())
        except (FileError, OSError) as e:
            self._show_problem(str(e))
            return
        super().accept()
