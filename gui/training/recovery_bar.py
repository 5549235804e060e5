"""The way out of a diverged run, offered under the failure message: continue from the run's last good
checkpoint (the last one written before its values went non-finite: an epoch's end, or where the run was stopped)
with the learning rate halved or with gradient clipping on; a run that diverged before its first checkpoint starts
again with the change. The choices come from
``engine.training.resume.recoveries``, as the command line's recovery commands do."""

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.training.resume import recoveries


class RecoveryBar(QWidget):
    chosen = Signal(object, object)  # (the run to continue, or None to start again; the settings changes)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.run = None
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.buttons = []
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 2, 0, 2)
        self._layout.addWidget(self.label, 1)
        self.hide()

    def offer(self, run, settings):
        """Offer the recoveries of a run trained with ``settings``: from ``run``'s checkpoint, or (``run`` None or
        without one) by starting again."""
        self.run = run if run is not None and run.has_checkpoint else None
        for button in self.buttons:
            button.deleteLater()
        self.buttons = []
        where = ("Rewind to the last good checkpoint and continue" if self.run is not None else
                 "The run diverged before its first checkpoint. Start again")
        self.label.setText(f"{where} with:")
        for recovery in recoveries(settings, run):
            button = QPushButton(recovery.label[0].upper() + recovery.label[1:])
            button.setToolTip(", ".join(f"{name} = {value:g}" for name, value in recovery.changes.items()))
            button.clicked.connect(lambda _=False, changes=recovery.changes: self.chosen.emit(self.run, changes))
            self._layout.addWidget(button)
            self.buttons.append(button)
        self.show()

    def withdraw(self):
        self.run = None
        self.hide()
