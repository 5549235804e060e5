"""The progress strip: a bar with the epoch, step, images/s, elapsed time and ETA of the run."""

import math

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QWidget

STATE_TEXT = {"idle": "Ready", "starting": "Loading data…", "running": "Training", "paused": "Paused",
              "stopping": "Finishing…"}


def format_duration(seconds):
    """``1:02:03`` or ``2:03``; an em dash when unknown."""
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def describe(progress):
    """The text inside the bar for a ``controller.Progress``."""
    if not progress.steps_per_epoch:
        return ""
    speed = progress.images_per_second
    parts = [f"Epoch {progress.epoch}/{progress.epochs}",
             f"step {progress.step:,}/{progress.steps_per_epoch:,}",
             f"{speed:,.0f} img/s" if math.isfinite(speed) else "— img/s",
             f"elapsed {format_duration(progress.elapsed)}",
             f"ETA {format_duration(progress.eta)}"]
    return "  ·  ".join(parts)


class ProgressStrip(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.state = QLabel(STATE_TEXT["idle"])
        self.state.setMinimumWidth(90)
        self.state.setStyleSheet("font-weight: 600;")
        self.bar = QProgressBar()
        self.bar.setRange(0, 1000)
        self.bar.setValue(0)
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.stats = QLabel()
        self.stats.setMinimumWidth(430)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state)
        layout.addWidget(self.bar, 1)
        layout.addSpacing(8)
        layout.addWidget(self.stats)

    def set_state(self, state):
        self.state.setText(STATE_TEXT.get(state, state))

    def show_progress(self, progress):
        self.bar.setValue(round(1000 * progress.fraction))
        self.stats.setText(describe(progress))

    @property
    def text(self):
        return self.stats.text()
