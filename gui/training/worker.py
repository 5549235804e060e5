"""The training worker: a thread that prepares a run from a copy of the document and drives the shared
``Trainer``, reporting through a queue.

The worker never touches Qt. Its reporter callback puts small typed messages on a ``SimpleQueue`` (one per
step: the ``StepInfo`` with that step's per-layer gradient norms as a float32 vector); the GUI drains the
queue from a timer. The messages, in the order a run sends them:

``RunStart``        layers, steps per epoch, run folder, ...
``StepMessage``     a ``StepInfo`` and the step's gradient norms
``SnapshotMessage`` the tensors of a step, while the step inspector is open (before that step's message)
``HealthMessage``   the ``HealthRecord`` of a step the health monitor sampled (after that step's message)
``EpochMessage``    an ``EpochInfo`` and the global step it ended at
``RunEnded``        the ``RunInfo`` of ``fit``
``EvaluationData``  the evaluation of the test split
``DatasetMissing``  the data is not on disk
``ErrorMessage``    a message for the user (a bad document, an unreadable file, a checkpoint that does not fit,
                    a run that failed, a crash with its traceback)
``Done``            the thread is about to end
"""

import contextlib
import queue
import threading
import traceback
from dataclasses import dataclass

import numpy as np

from engine.graph import NetworkError, network_from_json
from engine.training import EpochInfo, RunInfo, StepInfo
from engine.training.initial_weights import load_initial_weights
from engine.training.recipe import check_resume, prepare_training
from engine.training.resume import changed_network, resume_from_run
from engine.training.runs import RunFileError, create_run, load_run
from engine.training.sample_tracking import SAMPLES_FILE, SampleTracker
from engine.training.step_capture import StepCapture
from engine.training.trainer import expected_failure
from engine.utils.files import FileError
from engine.vision.datasets import DatasetNotFoundError


@dataclass
class RunStart:
    layers: list
    steps_per_epoch: int
    epochs: int  # the epoch count fit() trains up to
    first_epoch: int  # epochs already completed (a continued run)
    batch_size: int
    train_images: int
    run_folder: str
    classes: tuple
    processes: int = 1  # the processes training it (data-parallel above 1)


@dataclass
class StepMessage:
    info: StepInfo
    gradients: np.ndarray | None  # float32 norm per layer; None without a gradient (the failed step)


@dataclass
class HealthMessage:
    record: object  # engine.training.HealthRecord


@dataclass
class SnapshotMessage:
    snapshot: object  # engine.training.step_capture.StepSnapshot


@dataclass
class EpochMessage:
    info: EpochInfo
    end_step: int  # the global step the epoch ended at


@dataclass
class RunEnded:
    info: RunInfo


@dataclass
class EvaluationData:
    result: object  # engine.training.EvalResult
    classes: tuple
    dataset: object  # the test dataset, for the gallery's thumbnails
    samples: object = None  # engine.training.sample_tracking.SampleHistory of the validation set, if validated
    val_dataset: object = None  # the validation dataset the samples index (the test dataset without a split)
    model: object = None  # the trained model, to explain a prediction with


@dataclass
class DatasetMissing:
    dataset: str
    data_dir: str | None
    message: str


@dataclass
class ErrorMessage:
    message: str


@dataclass
class Done:
    pass


@dataclass
class Job:
    """What to train: a new run of ``network`` (a document dict), from ``initial_weights`` (fine-tuning) or its
    initial weights, or the run in ``continue_folder`` from its checkpoint up to ``epochs``."""

    network: dict
    network_path: str | None = None
    epochs: int | None = None
    continue_folder: str | None = None
    data_dir: str | None = None
    extra_callbacks: tuple = ()
    initial_weights: str | None = None
    changes: dict | None = None  # training settings a continued run goes on with (a recovery from divergence)


class _Reporter:
    """Trainer callback that forwards events to the queue; the pending gradient vector rides with its step."""

    def __init__(self, post, stop_requested):
        self.post = post
        self._stop_requested = stop_requested
        self._grads = None

    def on_fit_start(self, trainer):
        if self._stop_requested():  # fit() clears earlier stop requests; honour one made before it began
            trainer.stop()

    def on_gradients(self, trainer, norms):
        self._grads = np.fromiter(norms.values(), np.float32, len(norms))

    def on_step_end(self, trainer, info):
        self.post(StepMessage(info, self._grads))
        self._grads = None

    def on_health(self, trainer, record):
        self.post(HealthMessage(record))

    def on_epoch_end(self, trainer, info):
        self.post(EpochMessage(info, trainer.global_step))

    def on_fit_end(self, trainer, info):
        if info.status == "failed":  # the step whose loss was not finite: a gap in the plots
            gap = StepInfo(trainer.epoch, 0, trainer.global_step + 1, len(trainer.train_loader), np.nan,
                           trainer.current_lr(), np.nan, 0)
            self.post(StepMessage(gap, self._grads))
        self.post(RunEnded(info))


class WorkerThread:
    """What the workers share: the job, the queue they post to, the thread that runs ``_main``, and the
    ``setup`` and ``run`` readable once it has ended."""

    def __init__(self, job):
        self.job = job
        self.messages = queue.SimpleQueue()
        self.setup = None  # the TrainingSetup, readable once the thread has ended
        self.run = None
        self._lock = threading.Lock()
        self._stopped = False
        self._cancelled = False
        self._thread = threading.Thread(target=self._main, name="layerlab-training", daemon=True)

    def start(self):
        self._thread.start()

    def is_alive(self):
        return self._thread.is_alive()

    def join(self, timeout=None):
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _post(self, message):
        self.messages.put(message)


class TrainingWorker(WorkerThread):
    """One run in a thread. ``pause``/``resume``/``step_once``/``stop`` may be called from any thread."""

    pausable = True

    def __init__(self, job):
        super().__init__(job)
        self._pause_requested = False
        self._pending_steps = 0  # single steps asked for before the trainer existed
        self.capture = StepCapture(lambda snapshot: self._post(SnapshotMessage(snapshot)))  # armed by the inspector

    # ----- control -----
    def pause(self):
        """Pause after the current step (or before the first one, when the data is still loading)."""
        with self._lock:
            self._pause_requested = True
            trainer = None if self.setup is None else self.setup.trainer
        if trainer is not None:
            trainer.pause()

    def resume(self):
        with self._lock:
            self._pause_requested, self._pending_steps = False, 0
            trainer = None if self.setup is None else self.setup.trainer
        if trainer is not None:
            trainer.resume()

    def step_once(self):
        with self._lock:
            trainer = None if self.setup is None else self.setup.trainer
            if trainer is None:
                self._pending_steps += 1
        if trainer is not None:
            trainer.step_once()

    def stop(self, cancel=False):
        """Stop after the current step, keeping the weights; ``cancel`` also skips the test evaluation (the
        window is closing)."""
        with self._lock:
            self._stopped = True
            self._cancelled = self._cancelled or cancel
            trainer = None if self.setup is None else self.setup.trainer
        if trainer is not None:
            trainer.stop()

    # ----- the thread -----
    def _main(self):
        try:
            self._train()
        except DatasetNotFoundError as e:
            network = network_from_json(self.job.network)
            settings = network.settings
            self._post(DatasetMissing(network.input_node().params["dataset"],
                                      self.job.data_dir or settings["data_dir"] or None, str(e)))
        except (NetworkError, FileError, OSError, ValueError) as e:
            self._failed(str(e))
        except Exception:  # a bug: show it rather than lose it in a thread
            self._failed("Training failed with an unexpected error:\n" + traceback.format_exc())
        finally:
            self._post(Done())

    def _failed(self, message):
        """Tell the user, and leave the run folder (if there is one by now) saying how the run ended."""
        self._post(ErrorMessage(message))
        if self.run is not None and self.run.status != "failed":
            self.run.status = "failed"
            with contextlib.suppress(OSError):
                self.run.finish(message=message.strip().splitlines()[-1])

    def _train(self):
        job = self.job
        run = load_run(job.continue_folder) if job.continue_folder else None
        network = (changed_network(run, job.changes) if job.changes else run.network()) if run else \
            network_from_json(job.network)
        if run is not None:  # checked before the data is loaded
            if not run.has_checkpoint:
                raise RunFileError(run.checkpoint_path, "no checkpoint to continue from")
            check_resume(network, run.checkpoint_path)
        if job.initial_weights:  # checked before the data is loaded
            load_initial_weights(network.build(), job.initial_weights)
        setup = prepare_training(network, data_dir=job.data_dir, monitor_gradients=True)
        if job.initial_weights:
            load_initial_weights(setup.model, job.initial_weights)
        trainer = setup.trainer
        with self._lock:
            if self._stopped:  # stopped while the data was loading: nothing to record
                return
            self.setup = setup
            if self._pause_requested:
                trainer.pause()
            for _ in range(self._pending_steps):
                trainer.step_once()
        if run is None:
            run = create_run(network, job.network_path)
        elif job.changes:
            resume_from_run(trainer, run, network)
        else:
            trainer.load_checkpoint(run.checkpoint_path)
        self.run = run
        run.classes = list(setup.data.classes)
        run.epochs = job.epochs or network.settings["epochs"]
        # the reporter last: the run's end it reports is final (a checkpoint that could not be written fails it)
        tracker = SampleTracker(run.path(SAMPLES_FILE), setup.data.classes)
        trainer.callbacks = [*run.callbacks(), tracker, *job.extra_callbacks, self.capture,
                             _Reporter(self._post, lambda: self._stopped)]
        layers = trainer.monitor.attach(setup.model).layers  # fit() attaches it again
        self._post(RunStart(layers, len(setup.train_loader), run.epochs, trainer.epoch,
                            network.settings["batch_size"], len(setup.data.train), run.folder, setup.data.classes))
        info = trainer.fit(run.epochs)
        if info.status == "failed":  # run.json says so and the checkpoint holds the last completed step
            details = "" if info.error is None or expected_failure(info.error) else "\n\n" + "".join(
                traceback.format_exception(info.error))  # a bug: its traceback, for the report
            self._post(ErrorMessage(f"Training failed: {info.message}{details}"))
            return
        run.save_weights(setup.model)
        test_accuracy = None
        if not self._cancelled:
            result = trainer.evaluate(setup.test_loader)
            test_accuracy = result.accuracy
            self._post(EvaluationData(result, setup.data.classes, setup.data.test, tracker.history(), setup.data.val,
                                      setup.model))
        data = setup.data
        run.record_skipped(data.train, data.val, data.test)
        run.finish(test_accuracy)
