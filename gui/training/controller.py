"""The GUI side of a training run: starts the worker, forwards the user's controls, drains the worker's
queue from a timer into the ``TrainingHistory`` and tells the widgets what changed.

States: ``idle`` (no run), ``starting`` (loading data, building), ``running``, ``paused``, ``stopping``.
"""

import contextlib
import queue
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from engine.graph import network_from_json, network_to_json
from engine.training.runs import RunFileError, load_run

from .document_runs import DocumentRuns
from .health_history import HealthHistory
from .history import TrainingHistory, step_rows
from .process_worker import ProcessTrainingWorker
from .worker import (
    DatasetMissing,
    Done,
    EpochMessage,
    ErrorMessage,
    EvaluationData,
    HealthMessage,
    Job,
    RunEnded,
    RunStart,
    SnapshotMessage,
    StepMessage,
    TrainingWorker,
)

DRAIN_INTERVAL_MS = 100  # the queue is drained 10 times a second; plots redraw at most that often
SPEED_WINDOW = 50  # steps trained while running averaged for images/s and the ETA


@dataclass
class Progress:
    epoch: int = 0  # 1-based epoch in progress
    epochs: int = 0
    step: int = 0  # step within the epoch
    steps_per_epoch: int = 0
    images_per_second: float = float("nan")
    elapsed: float = 0.0  # seconds of training, pauses excluded
    eta: float = float("nan")

    @property
    def fraction(self):
        total = self.epochs * self.steps_per_epoch
        return 0.0 if not total else min(1.0, ((self.epoch - 1) * self.steps_per_epoch + self.step) / total)


def progress_of(run, metrics):
    """The ``Progress`` a run folder records: where it stopped, its epoch times and its images/s."""
    epochs = metrics.steps["epoch"]
    if not len(epochs):
        return Progress(epochs=run.epochs)
    return Progress(epoch=int(epochs[-1]) + 1, epochs=run.epochs, step=int(np.sum(epochs == epochs[-1])),
                    steps_per_epoch=int(np.bincount(epochs).max()),
                    images_per_second=run.images_per_second or float("nan"),
                    elapsed=float(np.sum(metrics.epochs["seconds"])))


class TrainingController(QObject):
    stateChanged = Signal(str)
    runStarted = Signal(object)  # RunStart
    updated = Signal()  # new steps or epochs are in the history
    epochEnded = Signal(object)  # EpochInfo
    runEnded = Signal(object)  # RunInfo
    evaluationReady = Signal(object)  # EvaluationData
    datasetMissing = Signal(str, object, str)  # dataset name, data folder (or None), message
    errorOccurred = Signal(str)
    finished = Signal()  # the worker thread has ended
    runsMoved = Signal(object)  # RunsMoved: runs of the document moved next to its file
    snapshotReady = Signal(object)  # a StepSnapshot: the tensors of the last step, while capturing

    def __init__(self, parent=None):
        super().__init__(parent)
        self.history = TrainingHistory()
        self.health = HealthHistory()
        self.progress = Progress()
        self.worker = None
        self.setup = None  # the TrainingSetup of the last run that ended (its model holds the weights)
        self.run = None  # the engine.training.runs.Run of the last run
        self.run_start = None
        self.last_end = None  # RunInfo of the last run
        self.extra_callbacks = ()  # Trainer callbacks added to every run (benchmarks, tests)
        self.capturing = False  # whether runs record each step's tensors (the step inspector is open)
        self._new_snapshot = None  # the newest StepSnapshot of a drain: only it is shown
        self.document_runs = DocumentRuns()
        self._state = "idle"
        self._clock_start = None
        self._elapsed_before = 0.0
        self._running_speeds = deque(maxlen=SPEED_WINDOW)  # images/s of the last steps trained while running
        self._timer = QTimer(self)
        self._timer.setInterval(DRAIN_INTERVAL_MS)
        self._timer.timeout.connect(self.drain)
        self._handlers = {  # what each message other than a step does
            RunStart: self._run_started, EpochMessage: self._epoch_ended,
            RunEnded: self._run_ended, EvaluationData: self.evaluationReady.emit, HealthMessage: self._health,
            SnapshotMessage: self._snapshot,
            DatasetMissing: lambda m: self.datasetMissing.emit(m.dataset, m.data_dir, m.message),
            ErrorMessage: lambda m: self.errorOccurred.emit(m.message), Done: lambda m: None}

    # ----- state -----
    @property
    def state(self):
        return self._state

    @property
    def busy(self):
        return self._state != "idle"

    def _set_state(self, state):
        if state != self._state:
            self._state = state
            self._clock(state in ("running",))
            self.stateChanged.emit(state)

    def _clock(self, running):
        now = time.perf_counter()
        if running and self._clock_start is None:
            self._clock_start = now
        elif not running and self._clock_start is not None:
            self._elapsed_before += now - self._clock_start
            self._clock_start = None

    def elapsed(self):
        extra = time.perf_counter() - self._clock_start if self._clock_start is not None else 0.0
        return self._elapsed_before + extra

    # ----- starting -----
    def start(self, network, network_path=None, data_dir=None, initial_weights=None):
        """Train a new run of ``network`` (an ``engine.graph.Network``; a copy is trained), from the weights in
        ``initial_weights`` (a file or run folder) where they fit, else from the seed's initial ones."""
        self._launch(Job(network_to_json(network), network_path, data_dir=data_dir or None,
                         extra_callbacks=tuple(self.extra_callbacks), initial_weights=initial_weights))

    def continue_run(self, folder, epochs, data_dir=None, changes=None):
        """Continue the run in ``folder`` from its checkpoint (weights and optimizer state) up to ``epochs``, with
        its training settings changed by ``changes`` (the recoveries of a diverged run) if given."""
        run = load_run(folder)
        self._launch(Job(network_to_json(run.network()), epochs=epochs, continue_folder=run.folder,
                         data_dir=data_dir or None, extra_callbacks=tuple(self.extra_callbacks), changes=changes),
                     previous=run)

    def _launch(self, job, previous=None):
        if self.busy:
            raise RuntimeError("a training run is already in progress")
        self.history.reset()
        self.health.reset()
        if previous is not None:
            self.history.load_metrics(previous.metrics())
            with contextlib.suppress(RunFileError):  # an unreadable health log only leaves the earlier health out
                self.health.load_csv(previous.health_path)
        self.progress = Progress()
        self.run_start = self.last_end = None
        self._elapsed_before, self._clock_start = 0.0, None
        self._running_speeds.clear()
        processes = network_from_json(job.network).settings["processes"]
        self.worker = TrainingWorker(job) if processes <= 1 else ProcessTrainingWorker(job, processes)
        self.worker.capture.arm(self.capturing)
        self._set_state("starting")
        self.worker.start()
        self._timer.start()

    def show_run(self, run):
        """Show a finished run from its folder (a file opened with runs): its history and how far it got; only
        when idle. ``RunFileError`` when its metrics cannot be read."""
        if self.busy:
            raise RuntimeError("cannot show another run while one is in progress")
        metrics = run.metrics()
        self.health.reset()
        with contextlib.suppress(RunFileError):  # an unreadable health log only leaves the health out
            self.health.load_csv(run.health_path)
        self.history.load_metrics(metrics)
        self.progress = progress_of(run, metrics)
        self.run = run

    def clear(self):
        """Forget the last run (another network is shown); only when idle."""
        if self.busy:
            raise RuntimeError("cannot clear while a run is in progress")
        self.history.reset()
        self.health.reset()
        self.progress = Progress()
        self.setup = self.run = self.run_start = self.last_end = None
        self.document_runs.forget()

    def capture_steps(self, capturing):
        """Record each step's tensors for the step inspector from the next step on, or stop and forget them."""
        self.capturing = capturing
        if self.worker is not None:
            self.worker.capture.arm(capturing)

    # ----- controls -----
    @property
    def pausable(self):
        """Whether the run can pause and single-step (not one trained by several processes)."""
        return self.worker is None or self.worker.pausable

    def pause(self):
        """Pause after the step in progress. The state follows the user's commands, not the trainer's reports of
        its waits: one still queued when the user resumes would show a running trainer as paused."""
        if self._state in ("starting", "running") and self.pausable:
            self.worker.pause()
            self._set_state("paused")

    def resume(self):
        if self._state == "paused":
            self.worker.resume()
            self._set_state("running" if self.run_start is not None else "starting")

    def step(self):
        """One mini-batch while paused."""
        if self._state == "paused":
            self.worker.step_once()

    def stop(self):
        if self._state in ("starting", "running", "paused"):
            self.worker.stop()
            self._set_state("stopping")

    def shutdown(self, timeout=30.0):
        """Stop the run without evaluating and wait for its thread (the window is closing)."""
        if self.worker is None:
            return
        self.worker.stop(cancel=True)
        self.worker.join(timeout)
        self.drain()

    # ----- the worker's messages -----
    def drain(self):
        """Apply everything the worker has posted since the last call (the timer calls it 10 times a second)."""
        worker = self.worker
        if worker is None:
            return
        revision = self.history.revision, self.health.revision
        steps = []
        done = False
        while True:
            try:
                message = worker.messages.get_nowait()
            except queue.Empty:
                break
            if isinstance(message, StepMessage):
                steps.append(message)
                self.progress.step = message.info.step
                if self._state == "running":  # a single step while paused says nothing of the pace
                    self._running_speeds.append(message.info.images_per_second)
            else:
                if steps:  # keep the order: steps before the epoch that ends them
                    self._add_steps(steps)
                    steps = []
                done = done or isinstance(message, Done)
                self._handlers[type(message)](message)
        if steps:
            self._add_steps(steps)
        snapshot, self._new_snapshot = self._new_snapshot, None
        if snapshot is not None and self.capturing:  # one closed meanwhile keeps nothing
            self.snapshotReady.emit(snapshot)
        if (self.history.revision, self.health.revision) != revision:
            self._update_progress()
            self.updated.emit()
        if done:
            self._finish()

    def _add_steps(self, steps):
        layers = len(self.history.layers)
        gradients = None
        if layers:
            gradients = np.full((len(steps), layers), np.nan, np.float32)
            for k, message in enumerate(steps):
                if message.gradients is not None:
                    gradients[k] = message.gradients
        self.history.add_steps(step_rows(m.info for m in steps), gradients)

    def _snapshot(self, message):
        self._new_snapshot = message.snapshot

    def _health(self, message):
        self.health.add(message.record)

    def _run_started(self, start):
        self.run_start = start
        self.history.set_layers(start.layers)
        self.progress.epochs, self.progress.steps_per_epoch = start.epochs, start.steps_per_epoch
        self.progress.epoch = start.first_epoch + 1
        job = self.worker.job
        self.document_runs.run_started(start.run_folder, job.network_path is None and not job.continue_folder)
        self.runStarted.emit(start)
        if self._state == "starting":
            self._set_state("running")

    def _epoch_ended(self, message):
        self.history.add_epoch(message.info, message.end_step)
        self.epochEnded.emit(message.info)

    def _run_ended(self, message):
        self.last_end = message.info
        self._set_state("stopping")
        self.runEnded.emit(message.info)

    def _update_progress(self):
        p, h = self.progress, self.history
        if len(h):
            p.epoch = int(h.column("epoch")[-1]) + 1
            speeds = np.asarray(self._running_speeds, np.float64)
            speeds = speeds[np.isfinite(speeds) & (speeds > 0)]
            if len(speeds):
                p.images_per_second = len(speeds) / float(np.sum(1.0 / speeds))
            if np.isfinite(p.images_per_second) and self.run_start is not None:
                steps_left = p.epochs * p.steps_per_epoch - ((p.epoch - 1) * p.steps_per_epoch + p.step)
                p.eta = max(0, steps_left) * self.run_start.batch_size / p.images_per_second
        p.elapsed = self.elapsed()

    def _finish(self):
        worker = self.worker
        self._timer.stop()
        worker.join()
        if worker.setup is not None or worker.run is not None:  # a run of several processes that failed has no setup
            self.setup, self.run = worker.setup, worker.run
        if worker.run is not None:
            self._runs_moved(self.document_runs.run_ended(worker.run.folder))
        self._set_state("idle")
        self.finished.emit()

    # ----- the document's file -----
    def network_file_changed(self, network_path):
        """The document was saved to, or opened from, ``network_path`` (None: it has no file): the runs made for
        it before it had one move next to it (one still training when it ends)."""
        live = self.run_start.run_folder if self.busy and self.run_start is not None else None
        self._runs_moved(self.document_runs.file_changed(network_path, live))

    def _runs_moved(self, report):
        """Point what refers to a moved run at its new folder and tell the panel."""
        if report is None:
            return
        for old, new in report.moved:
            if self.run is not None and self.run.folder == old:
                self.run.folder = new
            if self.run_start is not None and self.run_start.run_folder == old:
                self.run_start.run_folder = new
        self.runsMoved.emit(report)
