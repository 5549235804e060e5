"""A run trained data-parallel by several processes (the document's ``processes`` setting above 1): the worker
runs ``main.py train --processes N`` as a child process, follows the run folder rank 0 writes
(``engine.training.run_follower``) and posts the same messages as ``TrainingWorker``, so the panel, its plots
and the health views show it as they show a run trained in the app.

What differs from a run in the app: the gradient norms per layer are the health records' (every
``health_every`` steps, held until the next), there is no pause, single step or step inspector (the ranks train
in lock step in other processes), and the test evaluation at the end runs here on the saved weights.
"""

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import numpy as np

from engine.graph import network_from_json, save_network
from engine.training import RunInfo
from engine.training.gradient_monitor import GradientMonitor
from engine.training.health_measures import KEYS
from engine.training.initial_weights import load_initial_weights
from engine.training.recipe import load_checked_data, prepare_training
from engine.training.resume import changed_network
from engine.training.run_follower import RunFollower
from engine.training.runs import RunFileError, load_run, new_folder, runs_folder
from engine.training.step_capture import StepCapture
from engine.training.trainer import NonFiniteLossError
from engine.vision.datasets import DatasetNotFoundError

from .worker import (
    DatasetMissing,
    Done,
    EpochMessage,
    ErrorMessage,
    EvaluationData,
    HealthMessage,
    RunEnded,
    RunStart,
    StepMessage,
    WorkerThread,
)

MAIN_SCRIPT = str(Path(__file__).resolve().parents[2] / "main.py")
POLL_SECONDS = 0.25
STOP_WAIT_SECONDS = 20  # for the ranks to stop after their step before they are ended
END_WAIT_SECONDS = 5
ERROR_LINES = 12
_GRAD_NORM = KEYS.index("grad_norm")
DIVERGED = ("the loss became", "the gradients became non-finite")  # how NonFiniteLossError's messages begin


class ProcessTrainingWorker(WorkerThread):
    """One run of ``job`` in ``processes`` processes; the controls and attributes of ``TrainingWorker``."""

    pausable = False

    def __init__(self, job, processes):
        super().__init__(job)
        self.processes = processes
        self.capture = StepCapture(lambda snapshot: None)  # the ranks' tensors are not in this process
        self._process = None
        self._errors = deque(maxlen=ERROR_LINES)
        self._held = None  # the newest measured gradient norms, shown until the next health record
        self._stop_asked = None  # when Stop was pressed (time.monotonic)
        self._measured = []  # health records whose step has not been posted yet

    # ----- the controls of TrainingWorker -----
    def pause(self):
        """Not offered (the panel disables it): the ranks train in lock step elsewhere."""

    def resume(self):
        """Not offered, as ``pause``."""

    def step_once(self):
        """Not offered, as ``pause``."""

    def stop(self, cancel=False):
        """Every rank stops after its step (Ctrl+C to the command); ``cancel`` also skips the test evaluation."""
        with self._lock:
            self._stopped = True
            self._cancelled = self._cancelled or cancel
            self._stop_asked = self._stop_asked or time.monotonic()
            process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)

    # ----- the thread -----
    def _main(self):
        try:
            self._train()
        except DatasetNotFoundError as e:
            network = network_from_json(self.job.network)
            self._post(DatasetMissing(network.input_node().params["dataset"],
                                      self.job.data_dir or network.settings["data_dir"] or None, str(e)))
        except Exception as e:  # a bug, a missing file: show it rather than lose it in a thread
            self._post(ErrorMessage(f"Training in {self.processes} processes failed: {type(e).__name__}: {e}"))
        finally:
            self._post(Done())

    def _command(self, network_file, folder):
        job = self.job
        command = [sys.executable, MAIN_SCRIPT, "train", network_file, "--processes", str(self.processes)]
        if job.continue_folder:
            command += ["--resume", job.continue_folder]
        else:
            command += ["--out", folder]
        if job.epochs:
            command += ["--epochs", str(job.epochs)]
        if job.data_dir:
            command += ["--data", job.data_dir]
        if job.initial_weights:
            command += ["--init", job.initial_weights]
        for name, value in (job.changes or {}).items():
            command += [f"--{name.replace('_', '-')}", str(value)]
        return command

    def _train(self):
        job = self.job
        if job.continue_folder:  # the document as the run trained it, with the recovery's changes if any
            run = load_run(job.continue_folder)
            network = changed_network(run, job.changes) if job.changes else run.network()
        else:
            network = network_from_json(job.network)
        data = load_checked_data(network, job.data_dir)  # here too: the run's sizes now, its evaluation at the end
        if job.continue_folder:
            folder = job.continue_folder
        else:
            folder = new_folder(runs_folder(job.network_path), datetime.now().strftime("%Y%m%d-%H%M%S"))
        follower = RunFollower(folder, (), from_end=bool(job.continue_folder))
        with tempfile.TemporaryDirectory(prefix="layerlab-processes-") as scratch:
            network_file = os.path.join(scratch, "network.llnet")
            save_network(network, network_file)
            with open(os.path.join(scratch, "errors.log"), "w+") as log:
                with self._lock:
                    if self._stopped:
                        return
                    self._process = subprocess.Popen(self._command(network_file, folder), stdin=subprocess.DEVNULL,
                                                     stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
                try:
                    code = self._follow(follower, folder, GradientMonitor(network.build()).layers, len(data.train))
                finally:
                    self._end_process()
                log.seek(0)
                self._errors.extend(line.rstrip() for line in log.read().splitlines()[-ERROR_LINES:]
                                    if line.strip() and "step/s" not in line)
        self._end(code, folder, network, data)

    def _end_process(self):
        """Make sure the command and its ranks have ended: asked to stop after their step, then told to end
        (SIGTERM, which the launcher passes to the ranks), then killed."""
        process = self._process
        for sent, wait in ((signal.SIGINT, STOP_WAIT_SECONDS), (signal.SIGTERM, END_WAIT_SECONDS),
                           (signal.SIGKILL, END_WAIT_SECONDS)):
            if process.poll() is not None:
                return
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sent)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(wait)

    def _follow(self, follower, folder, layers, train_images):
        """Post what the run folder gains until the command ends; its exit code. A stop that the ranks have not
        obeyed in ``STOP_WAIT_SECONDS`` (one stuck in a collective) ends them."""
        announced = False
        while True:
            with self._lock:
                asked = self._stop_asked
            if asked is not None and time.monotonic() - asked > STOP_WAIT_SECONDS:
                self._end_process()
            code = self._process.poll()
            steps, health, epochs = follower.poll(final=code is not None)
            if steps and not announced:
                run = self.run = load_run(folder)  # written before the first step
                first = steps[0]
                self._post(RunStart(layers, first.steps_per_epoch, run.epochs, first.epoch, first.batch_size,
                                    train_images, folder, tuple(run.classes), self.processes))
                announced = True
            if announced:
                self._post_records(steps, health, epochs, layers)
            if code is not None:
                return code
            time.sleep(POLL_SECONDS)

    def _post_records(self, steps, health, epochs, layers):
        """Steps, each with the gradient norms of the newest health record at or before it (the two logs reach
        their files at their own times: a record read after its step applies from the next one)."""
        self._measured.extend(health)
        self._measured.sort(key=lambda record: record.step)
        for info in steps:
            while self._measured and self._measured[0].step <= info.global_step:
                self._held = _gradients(self._measured.pop(0), layers)
            self._post(StepMessage(info, self._held))
        for record in health:
            self._post(HealthMessage(record))
        for info, end_step in epochs:
            self._post(EpochMessage(info, end_step))

    def _end(self, code, folder, network, data):
        try:
            run = self.run = load_run(folder)
        except RunFileError:
            reason = "\n".join(self._errors) or f"the command ended with exit code {code}"
            self._post(ErrorMessage(f"Training in {self.processes} processes did not start:\n{reason}"))
            return
        status = run.status if run.status in ("finished", "stopped", "failed") else "failed"
        diverged = status == "failed" and run.message.startswith(DIVERGED)  # the panel offers its recoveries
        self._post(RunEnded(RunInfo(status, run.epochs_completed, run.global_step, run.message,
                                    NonFiniteLossError(run.message) if diverged else None)))
        if status == "failed":
            self._post(ErrorMessage(f"Training failed: {run.message or 'see the command output'}" +
                                    ("\n\n" + "\n".join(self._errors) if self._errors else "")))
            return
        if not self._cancelled:  # a stopped run too, as in the app: its weights are the last completed step's
            setup = self.setup = prepare_training(network, data=data)
            load_initial_weights(setup.model, run.folder)  # the run's trained weights
            result = setup.trainer.evaluate(setup.test_loader)
            self._post(EvaluationData(result, data.classes, data.test, None, data.val, setup.model))


def _gradients(record, layers):
    """The gradient norms of ``layers`` a health record measured (NaN for a layer it did not)."""
    norms = np.full(len(layers), np.nan, np.float32)
    for k, layer in enumerate(layers):
        if layer in record.layers:
            norms[k] = record.values[record.layers.index(layer), _GRAD_NORM]
    return norms
