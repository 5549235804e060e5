"""The sweep dialog: vary training settings of a saved network and watch the trials come in. Start runs the
command line's coordinator (``python main.py sweep NET.llnet --set ...``, cli/sweep.py) as a child process
(``sweep_process``), its output kept in a collapsible log; the dialog reads the sweep's record (``sweep.json``, and
each running trial's metrics) every half second into a table of trials (``sweep_trials``), the best one starred.
Stop sends SIGTERM, which the coordinator takes as Ctrl+C: every trial stops after its step and the sweep can be
resumed (Resume runs ``main.py sweep --resume SWEEP_DIR``). The network's earlier sweeps can be shown and resumed.

Signals: ``runsChanged()`` when a trial has ended (its run folder is complete: the Runs tab may refresh) and once
more when a stopped sweep leaves interrupted runs; ``sweepFinished(exit_code)`` when the coordinator has ended (130:
stopped, resumable; -1: it could not start or crashed). (QDialog's own ``finished(int)`` tells the dialog's result,
emitted on Close too, hence the other name.)

Closing the dialog while a sweep runs asks whether to stop it, then waits for the coordinator, which stops its
workers, before closing; ``shutdown()`` stops and waits without asking (the application is quitting)."""

import contextlib
import os
import re

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from engine.graph import NetworkFileError, load_network
from engine.training.run_cells import percent
from engine.training.runs import runs_folder
from engine.training.sweep_record import DONE_STATES, SweepFileError, load_sweep, sweeps_folder, trial_scores
from engine.training.sweep_search import planned_trials
from engine.training.sweep_space import format_value
from engine.utils.files import FileError

from . import style
from .sweep_form import SweepForm
from .sweep_process import ERROR_LINES, SweepProcess
from .sweep_trials import TrialTableModel, trial_view

POLL_MS = 500
NEW_SWEEP = "New sweep (from the form)"
# the coordinator's first line names the new sweep's record: "sweep of NET: ...; record: FOLDER/sweep.json"
RECORD_LINE = re.compile(r"; record: (.+sweep\.json)$")


def unfinished(sweep, planned):
    """Whether resuming ``sweep`` (of ``planned_trials``) has anything to do: a trial not done, or budget left."""
    if any(t.state not in DONE_STATES for t in sweep.trials):
        return True
    if planned is not None:
        return len(sweep.trials) < planned
    return sweep.minutes is not None and sweep.seconds_used < 60 * sweep.minutes


def sweep_label(sweep):
    """``20261206-200458 · grid of lr, batch_size · 3 trials, 1 not done``."""
    left = sum(t.state not in DONE_STATES for t in sweep.trials)
    count = len(sweep.trials)
    return (f"{sweep.name} · {sweep.method} of {', '.join(sweep.varied())} · {count} trial{'s' if count != 1 else ''}"
            + (f", {left} not done" if left else ""))


def folder_label(folder):
    """The label of the sweep in ``folder``, or why it cannot be read."""
    try:
        return sweep_label(load_sweep(folder))
    except SweepFileError as e:
        return f"{os.path.basename(folder)} · cannot be read: {e}"


def earlier_sweeps(network_path):
    """The sweep folders of the network, newest first."""
    folder = sweeps_folder(network_path)
    with contextlib.suppress(OSError):
        names = sorted((n for n in os.listdir(folder) if os.path.isfile(os.path.join(folder, n, "sweep.json"))),
                       reverse=True)
        return [os.path.join(folder, n) for n in names]
    return []


def _label(css=""):
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # paths, values typed and errors, never markup
    label.setWordWrap(True)
    label.setStyleSheet(css)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _column(*items):
    """A widget of ``items`` (a widget, or (widget, stretch)) one under another."""
    widget = QWidget()
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(0, 0, 0, 0)
    for item in items:
        layout.addWidget(*(item if isinstance(item, tuple) else (item,)))
    return widget


def _button(text, tip, slot):
    button = QPushButton(text)
    button.setToolTip(tip)
    button.clicked.connect(slot)
    return button


class SweepDialog(QDialog):
    """Sweeps of the network saved at ``network_path`` (None: not saved yet, no sweep can start); ``settings``:
    the document's training settings, each offered setting's value now."""

    runsChanged = Signal()
    sweepFinished = Signal(int)

    def __init__(self, network_path, settings, parent=None, unsaved=lambda: False):
        super().__init__(parent)
        self.setWindowTitle("Sweep training settings")
        self.unsaved = unsaved  # () -> whether the document has changes its file lacks
        self.network_path = None if network_path is None else os.path.abspath(os.fspath(network_path))
        self.settings = dict(settings)
        self.folder = None  # the sweep on show (the running one while one runs)
        self.sweep = None
        self.exit_code = None  # the last coordinator's (None while one runs or before the first)
        self.ask_stop = self._ask_stop  # () -> whether to stop a running sweep to close (tests answer it)
        self._stamp = None  # sweep.json's modification time and size when last read
        self._done = None  # numbers of the trials shown as done (None: the record is still to be read)
        self._planned = None  # the trials of the sweep on show in all (None: as many as its time allows)
        self._close_when_stopped = False
        self._note = ""  # said under the progress while the sweep runs
        self.resize(1180, 680)

        self.sweeps = QComboBox()
        self.sweeps.setToolTip("Show an earlier sweep of this network (Resume continues it)")
        self.sweeps.currentIndexChanged.connect(lambda _index: self.show_sweep(self.sweeps.currentData()))
        self.location = _label(css=style.MUTED_STYLE)
        self.form = SweepForm(self.settings)
        self.form.changed.connect(self._update_form)
        self.problem = _label(css=style.WARNING_STYLE)
        self.plan = _label(css=style.MUTED_STYLE)
        self.status = _label()
        self.model = TrialTableModel(self)
        self.table = trial_view(self.model)
        self.log_toggle = QToolButton()
        self.log_toggle.setText("Command-line output")
        self.log_toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.log_toggle.setCheckable(True)
        self.log_toggle.setAutoRaise(True)
        self.log_toggle.toggled.connect(self._show_log)
        self.log = QPlainTextEdit()
        self.log.setReadOnly(True)
        self.log.setMaximumBlockCount(5000)
        self.log.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self._show_log(False)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(_column((self.form, 1), self.problem, self.plan))
        split.addWidget(_column(self.status, (self.table, 3), (self.log_toggle, 0, Qt.AlignmentFlag.AlignLeft),
                                (self.log, 2)))
        split.setStretchFactor(1, 1)
        split.setSizes([480, 700])

        self.start_button = _button("Start", "Start a new sweep of the saved network with the form's settings",
                                    self.start)
        self.stop_button = _button("Stop", "Stop every trial after its current step; the sweep can be resumed",
                                   self.stop)
        self.resume_button = _button("Resume", "Continue the sweep on show: its interrupted trials from their "
                                               "checkpoints, then the rest (with the form's trials at once and, "
                                               "where set, its budget)", self.resume)
        top, buttons = QHBoxLayout(), QHBoxLayout()
        top.addWidget(QLabel("Sweep"))
        top.addWidget(self.sweeps, 1)
        for button in (self.start_button, self.stop_button, self.resume_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(_button("Close", "", self.reject))
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.location)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)

        self.process = SweepProcess(self)
        self.process.line.connect(self._line)
        self.process.ended.connect(self._ended)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)  # no coordinator (nor its workers) outlives the application

        self._show_location()
        self.refresh_sweeps()
        self.show_sweep(None)
        self._update_form()

    # ----- the form and the earlier sweeps -----
    def _show_location(self):
        if self.network_path is None:
            self.location.setText("Save the network first: a sweep trains the saved file, each trial a run beside it.")
            return
        self.location.setText(f"Trains {self.network_path} as saved; each trial is a run in "
                              f"{runs_folder(self.network_path)}, the sweeps are kept in "
                              f"{sweeps_folder(self.network_path)}")

    def refresh_sweeps(self):
        """List the network's sweeps again (the one on show stays chosen)."""
        shown = self.folder
        self.sweeps.blockSignals(True)
        self.sweeps.clear()
        self.sweeps.addItem(NEW_SWEEP, None)
        for folder in [] if self.network_path is None else earlier_sweeps(self.network_path):
            self.sweeps.addItem(folder_label(folder), folder)
        index = self.sweeps.findData(shown)
        self.sweeps.setCurrentIndex(max(0, index))
        self.sweeps.blockSignals(False)

    def show_sweep(self, folder):
        """Show the sweep in ``folder`` in the table (None: none, a new sweep is being planned)."""
        self.folder, self.sweep, self._stamp, self._planned, self._done = folder, None, None, None, None
        self.model.set_sweep(None)
        self.poll()
        if folder is not None and self.sweep is not None:
            self._show_status(self._progress_text(), error=False)
        elif folder is None:
            self._show_status("Tick the settings to vary on the left and Start: each trial trains the network as a "
                              "run of its own, and the table fills as they end.")
        self._update_buttons()

    def _update_form(self):
        problem = self.form.problem()
        self.problem.setText(problem or "")
        self.problem.setVisible(bool(problem))
        self.plan.setText("" if problem else f"Planned: {self.form.summary()}.")
        self._update_buttons()

    def _update_buttons(self):
        running, stopping = self.running, self.process.stopping
        self.start_button.setEnabled(not running and self.network_path is not None and not self.problem.text())
        self.stop_button.setEnabled(running and not stopping)
        self.stop_button.setText("Stopping…" if stopping else "Stop")
        self.resume_button.setEnabled(not running and self.sweep is not None and unfinished(self.sweep, self._planned))
        self.sweeps.setEnabled(not running)
        self.form.setEnabled(not running)

    # ----- running -----
    @property
    def running(self):
        return self.process.running

    def start(self):
        """Start a new sweep with the form's settings (nothing when it cannot start)."""
        if self.running or self.network_path is None or self.form.problem():
            return
        self._launch([self.network_path, *self.form.arguments()], None)
        self._note = self._unsaved_note()

    def resume(self):
        """Continue the sweep on show."""
        if self.running or self.folder is None:
            return
        self._launch(["--resume", self.folder, *self.form.budget_arguments()], self.folder)

    def _launch(self, arguments, folder):
        self.exit_code = None
        self._note = ""
        self.show_sweep(folder)
        self.log.appendPlainText("$ " + self.process.command_text(arguments))
        self._show_status("Starting the sweep…")
        self.process.start(arguments)
        self.timer.start()
        self._update_buttons()

    def _unsaved_note(self):
        """A warning when the document has unsaved changes, or the saved file's settings are not the document's
        (the sweep trains the file)."""
        if self.unsaved():
            return "The document has changes that are not saved: the sweep trains the file as saved."
        try:
            saved = load_network(self.network_path).settings
        except NetworkFileError as e:
            return str(e)
        if saved != self.settings:
            return "The saved file's training settings differ from the document's: the sweep trains the file."
        return ""

    def stop(self):
        """Stop every trial after its current step (SIGTERM to the coordinator); the sweep stays resumable."""
        if self.running and not self.process.stopping:
            self.process.stop()
            self._show_status("Stopping every trial after its current step…")
            self._update_buttons()

    def shutdown(self):
        """Stop a running sweep and wait for the coordinator (and so its workers) to end. Safe to call again."""
        self.process.shutdown()

    def done(self, result):
        """Closing: a running sweep is stopped first if the person agrees (the dialog closes once it has)."""
        if self.running:
            if not self._close_when_stopped and self.ask_stop():
                self._close_when_stopped = True
                self.stop()
            return
        self.timer.stop()
        super().done(result)

    def _ask_stop(self):
        answer = QMessageBox.question(
            self, "Stop the sweep?", "A sweep is running. Stop it to close? Its trials stop after their current "
            "steps, and the sweep can be resumed later.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def _line(self, line, _error):
        self.log.appendPlainText(line)
        found = RECORD_LINE.search(line)
        if found and self.folder is None:
            self.folder = os.path.dirname(found[1])
            self.refresh_sweeps()
            self.poll()

    def _ended(self, code, stopped):
        self.timer.stop()
        self.exit_code = code
        told = self.poll()
        if not told and self.sweep is not None and any(t.state not in DONE_STATES for t in self.sweep.trials):
            self.runsChanged.emit()  # the interrupted trials' runs, kept to be continued
        self.refresh_sweeps()
        self._show_status(self._ended_text(code, stopped), error=code != 0 and not stopped)
        self._update_buttons()
        if code != 0 and not stopped:
            self.log_toggle.setChecked(True)
        self.sweepFinished.emit(code)
        if self._close_when_stopped:
            self._close_when_stopped = False
            self.done(QDialog.DialogCode.Rejected)

    def _ended_text(self, code, stopped):
        if stopped:
            return ("Sweep stopped. Resume continues it: its interrupted trials from their checkpoints."
                    if self.sweep is not None else "Sweep stopped before its first trial.")
        if code == 0:
            best = self.sweep.best() if self.sweep is not None else None
            if best is None:
                return "Sweep finished."
            return (f"Sweep finished. Best: trial {best.number} ({self._settings_text(best)}), validation "
                    f"accuracy {percent(best.score)}, run {os.path.basename(best.run)}.")
        failed = [f"trial {t.number}: {t.message}" for t in (self.sweep.trials if self.sweep else ())
                  if t.state == "failed" and t.message]
        why = "\n".join(self.process.errors) or "\n".join(failed[-ERROR_LINES:]) or "no message"
        if code == -1:
            return f"The sweep could not start or stopped unexpectedly:\n{why}"
        return f"The sweep failed (exit code {code}):\n{why}"

    # ----- the record -----
    def poll(self):
        """Read the record of the sweep on show again if it changed, and each running trial's epochs so far;
        update the table, and tell of trials that have ended (``runsChanged``; returns whether it did)."""
        if self.folder is None:
            return False
        path = os.path.join(self.folder, "sweep.json")
        try:
            info = os.stat(path)
            stamp = (info.st_mtime_ns, info.st_size)
            if stamp != self._stamp:
                sweep = load_sweep(self.folder)
                self.sweep, self._stamp, self._planned = sweep, stamp, planned_trials(sweep)
        except (OSError, SweepFileError) as e:
            if not self.running:
                self._show_status(str(e), error=True)
            return False  # being written: read again next time
        for trial in self.sweep.trials if self.running else ():
            if trial.state == "running":
                with contextlib.suppress(FileError):
                    trial.scores = trial_scores(trial.run)
        self.model.set_sweep(self.sweep, live=self.running)
        listed = self.sweeps.findData(self.folder)
        if listed >= 0:
            self.sweeps.setItemText(listed, sweep_label(self.sweep))
        done = {t.number for t in self.sweep.trials if t.state in DONE_STATES}
        ended = self._done is not None and bool(done - self._done)
        self._done = done
        if self.running:
            self._show_status(self._progress_text())
        if ended:
            self.runsChanged.emit()
        return ended

    def _settings_text(self, trial):
        return ", ".join(f"{name}={format_value(trial.settings[name])}" for name in self.sweep.varied())

    def _progress_text(self):
        trials = self.sweep.trials
        done = sum(t.state in DONE_STATES for t in trials)
        running = sum(t.state == "running" for t in trials)
        of = f" of {self._planned}" if self._planned else ""
        text = f"Sweep {self.sweep.name} ({self.sweep.method}): {done}{of} trials done"
        text += f", {running} running" if running else ""
        best = self.sweep.best()
        if best is not None:
            text += (f" · best so far: trial {best.number} ({self._settings_text(best)}), "
                     f"{percent(best.score)}")
        return f"{text}\n{self._note}" if self._note and self.running else text

    def _show_status(self, text, error=False):
        self.status.setText(text)
        self.status.setStyleSheet(style.WARNING_STYLE if error else "")

    def _show_log(self, shown):
        self.log.setVisible(shown)
        self.log_toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
