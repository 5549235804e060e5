"""The command line's sweep coordinator (``python main.py sweep ...``, cli/sweep.py) as a child process of the
GUI: its output line by line, its last error lines kept, and stopping it as Ctrl+C would (SIGTERM: every trial
stops after its step and the sweep stays resumable), waiting for it where the GUI must not go on without."""

import os
import sys
from collections import deque
from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

MAIN_SCRIPT = str(Path(__file__).resolve().parents[2] / "main.py")
INTERRUPTED = 130  # the coordinator's exit code after Ctrl+C or SIGTERM
STOP_WAIT_MS = 60_000  # for the trials to stop after their steps; then they are told again (ended at once)
ABORT_WAIT_MS = 15_000
ERROR_LINES = 8


class SweepProcess(QObject):
    """``line(text, is_error)`` for each line it prints; ``ended(exit_code, stopped)`` when it has ended
    (``stopped``: by Stop, or Ctrl+C elsewhere: resumable; exit code -1: it could not start or crashed)."""

    line = Signal(str, bool)
    ended = Signal(int, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.errors = deque(maxlen=ERROR_LINES)  # its last lines on stderr (or why it could not start)
        self.stopping = False
        self._partial = {}  # is_error -> the unfinished last line of that output
        self.process = QProcess(self)
        environment = QProcessEnvironment.systemEnvironment()
        environment.insert("PYTHONUNBUFFERED", "1")
        self.process.setProcessEnvironment(environment)
        self.process.readyReadStandardOutput.connect(lambda: self._read(False))
        self.process.readyReadStandardError.connect(lambda: self._read(True))
        self.process.finished.connect(self._finished)
        self.process.errorOccurred.connect(self._error)

    @property
    def running(self):
        return self.process.state() != QProcess.ProcessState.NotRunning

    def command_text(self, arguments):
        return " ".join([os.path.basename(sys.executable), os.path.relpath(MAIN_SCRIPT), "sweep", *arguments])

    def start(self, arguments):
        """Run ``main.py sweep ARGUMENTS``."""
        self.errors.clear()
        self._partial = {}
        self.stopping = False
        self.process.start(sys.executable, [MAIN_SCRIPT, "sweep", *arguments])

    def stop(self):
        """Ask the coordinator to stop every trial after its step (as Ctrl+C does); ``ended`` follows."""
        if self.running and not self.stopping:
            self.stopping = True
            self.process.terminate()

    def shutdown(self):
        """Stop and wait for the coordinator to end (it ends its workers first): after ``STOP_WAIT_MS`` it is told
        again (its workers are ended at once), as a last resort it is killed. Safe to call again."""
        if not self.running:
            return
        self.stop()
        for wait in (STOP_WAIT_MS, ABORT_WAIT_MS):
            if self.process.waitForFinished(wait):
                return
            self.process.terminate()
        self.process.kill()
        self.process.waitForFinished(ABORT_WAIT_MS)

    def _read(self, error):
        data = self.process.readAllStandardError() if error else self.process.readAllStandardOutput()
        text = self._partial.get(error, "") + bytes(data.data()).decode("utf-8", "replace")
        *lines, self._partial[error] = text.split("\n")
        for line in lines:
            self._emit_line(line.rstrip("\r"), error)

    def _emit_line(self, text, error):
        if error and text.strip():
            self.errors.append(text)
        self.line.emit(text, error)

    def _error(self, error):
        if error == QProcess.ProcessError.FailedToStart:  # no finished() follows
            self.errors.append(f"{sys.executable} {MAIN_SCRIPT}: {self.process.errorString()}")
            self.stopping = False
            self.ended.emit(-1, False)

    def _finished(self, code, exit_status):
        for error, rest in self._partial.items():
            if rest:
                self._emit_line(rest, error)
        self._partial = {}
        crashed = exit_status == QProcess.ExitStatus.CrashExit
        stopped = code == INTERRUPTED or (self.stopping and crashed)  # SIGTERM before its handler was set
        self.stopping = False
        self.ended.emit(-1 if crashed and not stopped else INTERRUPTED if stopped else code, stopped)
