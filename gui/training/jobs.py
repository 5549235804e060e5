"""A dialog's work in a thread, watched from the GUI thread: the learning-rate sweep and the pre-flight checks.

``work(stop)`` runs in a thread; ``stop()`` says whether it should end early (Stop was pressed or the dialog
closed). Its result, or an error as a message, is delivered on the GUI thread by a timer.

A runner has one thread alive at a time: these jobs save and restore the engine's global random state, so two of
them must not overlap (nor one and a training run: ``runningChanged`` lets the training panel hold Start back). A
job dropped when its dialog closes is told to stop and its result is thrown away; closing waits only briefly for
its thread (it may be loading data, which cannot be interrupted), the runner watches it until it ends, and a job
started meanwhile waits for it.
"""

import threading
import traceback

from PySide6.QtCore import QObject, QTimer, Signal

from engine.graph import NetworkError
from engine.utils.files import FileError
from engine.vision.datasets import DatasetNotFoundError

POLL_MS = 100
CLOSE_WAIT_S = 0.2  # how long closing a dialog waits for its job's thread before leaving it to end on its own


class Job:
    """``work(stop)`` in a daemon thread: ``result``, or ``error`` (a message), once ``thread`` has ended."""

    def __init__(self, work, name, what, on_end, on_poll):
        self.result = self.error = None
        self.stop_event = threading.Event()
        self.dropped = False
        self.on_end, self.on_poll = on_end, on_poll
        self.thread = threading.Thread(target=self._main, args=(work, what), name=name, daemon=True)

    def _main(self, work, what):
        try:
            self.result = work(self.stop_event.is_set)
        except DatasetNotFoundError as e:
            self.error = f"The dataset is missing (open Dataset in the training panel to get it): {e}"
        except (NetworkError, FileError, OSError, ValueError) as e:
            self.error = str(e)
        except Exception:  # a bug: show it rather than lose it in a thread
            self.error = f"The {what} failed with an unexpected error:\n" + traceback.format_exc()


class JobRunner(QObject):
    """Runs a dialog's jobs in threads named ``name``, one at a time; ``what`` names the work in messages."""

    runningChanged = Signal(bool)  # True when a thread starts, False once none of the runner's threads is alive

    def __init__(self, name, what, parent=None):
        super().__init__(parent)
        self.name, self.what = name, what
        self.job = None  # the job whose thread runs or whose end is still to be delivered
        self._queued = None  # a Job waiting for a dropped job's thread to end
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    @property
    def running(self):
        """Whether a thread of the runner is alive (a dropped job's included)."""
        return self.job is not None and self.job.thread.is_alive()

    @property
    def active(self):
        """Whether a job's end is still to be delivered (it runs, or waits for a dropped job to end)."""
        return self._queued is not None or (self.job is not None and not self.job.dropped)

    def start(self, work, on_end, on_poll=None):
        """Run ``work(stop)`` in a thread (after a dropped job's thread has ended); on the GUI thread call
        ``on_poll()`` while it runs and ``on_end(result, error)`` once it has ended. Drops an active job."""
        self.drop(wait=0)
        job = Job(work, self.name, self.what, on_end, on_poll)
        if self.job is None:
            self._launch(job)
        else:
            self._queued = job

    def stop(self):
        """Ask the active job to end early; what it returns is still delivered."""
        for job in (self._queued, self.job):
            if job is not None:
                job.stop_event.set()

    def drop(self, wait=CLOSE_WAIT_S):
        """Stop the jobs and forget them (their ends are not delivered), waiting at most ``wait`` seconds for the
        thread (None: however long it takes)."""
        self._queued = None
        job = self.job
        if job is None:
            return
        job.dropped = True
        job.stop_event.set()
        job.thread.join(wait)
        self._poll()

    def join(self):
        """Drop the jobs and wait for the thread to end (the application is quitting)."""
        self.drop(wait=None)

    def _launch(self, job):
        self.job = job
        job.thread.start()
        self._timer.start()
        self.runningChanged.emit(True)

    def _poll(self):
        job = self.job
        if job is None:
            return
        if job.thread.is_alive():
            if job.on_poll is not None and not job.dropped:
                job.on_poll()
            return
        self.job, queued, self._queued = None, self._queued, None
        if queued is not None:
            self._launch(queued)
        else:
            self._timer.stop()
            self.runningChanged.emit(False)
        if not job.dropped:
            job.on_end(job.result, job.error)
