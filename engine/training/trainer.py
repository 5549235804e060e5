"""``Trainer``: the one training loop, shared by the command line and the GUI.

It runs epochs of optimisation steps, evaluates on a validation loader, and tells its callbacks what
happens (step end, gradient norms, epoch end, run end). Another thread may pause, resume, single-step
or stop it between steps. Any exception in a run ends it as ``failed`` with a message (a non-finite loss
names the step and the first layer whose output went non-finite), after which the callbacks still see the
run end and the model holds the weights of the last completed step. Runs are reproducible from a seed: each
epoch reseeds the engine's generator from (seed, epoch). A checkpoint taken at any step holds the step within
the epoch, the epoch's partial metrics, the RNG state and the loader's pass, so a run resumed from it skips
the batches already done (without loading them) and continues exactly as it would have.
"""

import json
import math
import threading
import time
import traceback
from dataclasses import dataclass, field, fields

import numpy as np

from .. import random as engine_random
from ..autograd.grad_mode import no_grad
from ..backend import device as as_device
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..serialization import save
from ..tensor import Tensor
from ..utils.files import FileError
from .checkpoint import check_checkpoint, read_checkpoint
from .divergence import clip_gradients, gradients_finite, replay_origin
from .gradient_monitor import GradientMonitor
from .metrics import confusion_matrix, per_class_accuracy
from .model_state import in_mode
from .sample_losses import chosen_probabilities, per_sample_loss, unreduced


@dataclass
class StepInfo:
    epoch: int  # 0-based epoch the step belongs to
    step: int  # step within the epoch, 1-based
    global_step: int
    steps_per_epoch: int
    loss: float
    lr: float
    images_per_second: float
    batch_size: int


@dataclass
class EpochInfo:
    epoch: int  # 0-based
    train_loss: float
    train_accuracy: float
    val_loss: float = float("nan")
    val_accuracy: float = float("nan")
    seconds: float = 0.0
    lr: float = float("nan")


@dataclass
class RunInfo:
    status: str  # 'finished', 'stopped' or 'failed'
    epochs_completed: int
    global_step: int
    message: str = ""
    error: BaseException | None = field(default=None, repr=False, compare=False)  # what failed the run, if it raised


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    confusion: np.ndarray
    per_class_accuracy: np.ndarray
    count: int
    predictions: np.ndarray = field(repr=False, default=None)
    targets: np.ndarray = field(repr=False, default=None)
    losses: np.ndarray = field(repr=False, default=None)  # per sample: the run's loss with reduction='none'
    # per sample, for (N, classes) outputs (None for denser ones): the softmax of the true and of the predicted class
    target_probability: np.ndarray = field(repr=False, default=None)
    predicted_probability: np.ndarray = field(repr=False, default=None)


class NonFiniteLossError(RuntimeError):
    """A step whose loss or gradients are not finite. ``origin``: the first op whose result was not finite (an
    ``engine.autograd.anomaly.NonFiniteOrigin``), or None when the input batch was not finite or a replay of the
    step met no such op; ``global_step``: the step that failed (1-based)."""

    def __init__(self, message, origin=None, global_step=None):
        super().__init__(message)
        self.origin = origin
        self.global_step = global_step


def expected_failure(error):
    """Whether ``error`` is one a run meets in use (a bad or unwritable file, divergence), not a bug."""
    return isinstance(error, (OSError, FileError, NonFiniteLossError))


def failure_message(error):
    """One line for the user about ``error``: file errors name their file (and say why the system refused)."""
    if isinstance(error, OSError) and error.filename is not None and not isinstance(error, FileError):
        return f"{error.filename}: {error.strerror or error}"
    if isinstance(error, (NonFiniteLossError, FileError)):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _move(batch, dev):
    if isinstance(batch, Tensor):
        return batch.to(dev)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_move(b, dev) for b in batch)
    return batch


def class_probabilities(model, data, device):
    """Class probabilities (a NumPy array) of ``model``, in eval mode (each module's own mode put back
    afterwards), for a batch tensor or every batch of a loader."""
    with in_mode(model, False), no_grad():
        if isinstance(data, Tensor):
            return model(data.to(device)).softmax(1).cpu().numpy()
        outputs = []
        for batch in data:
            inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
            outputs.append(model(inputs.to(device)).softmax(1).cpu().numpy())
        return np.concatenate(outputs)


def _finite(value):
    """Whether every tensor in ``value`` (a tensor, or a tuple or list of them) holds only finite numbers."""
    if isinstance(value, Tensor):
        return not value.is_floating_point() or bool(value.isfinite().all().item())
    if isinstance(value, (list, tuple)):
        return all(_finite(v) for v in value)
    return True


def epoch_seed(seed, epoch):
    return (seed * 1_000_003 + epoch) % (2**63)


def check_fits(path, state, model, optimizer, scheduler=None, steps_per_epoch=None):
    """``CheckpointError`` naming ``path`` and everything in the checkpoint ``state`` that does not fit a
    trainer of ``model``, ``optimizer`` and ``scheduler`` (and ``steps_per_epoch``, when known)."""
    check_checkpoint(path, state, model, optimizer, scheduler, history_fields=[f.name for f in fields(EpochInfo)],
                     steps_per_epoch=steps_per_epoch)


class Trainer:
    def __init__(self, model, optimizer, loss_fn, train_loader, val_loader=None, device="cpu", scheduler=None,
                 callbacks=(), *, scheduler_interval="epoch", seed=None, monitor_gradients=False, num_classes=None,
                 health=None, clip_grad_norm=0.0, parallel=None):
        if scheduler_interval not in ("epoch", "step"):
            raise ValueError(f"scheduler_interval must be 'epoch' or 'step', got {scheduler_interval!r}")
        self.model = model
        self.optimizer = optimizer
        self.loss_fn = loss_fn
        self.train_loader = train_loader
        self.val_loader = val_loader
        self.device = as_device(device)
        self.scheduler = scheduler
        self.scheduler_interval = scheduler_interval
        self.callbacks = list(callbacks)
        self.seed = seed
        self.num_classes = num_classes
        self.monitor = GradientMonitor() if monitor_gradients else None
        self.health = health  # a HealthMonitor, or None
        self.clip_grad_norm = clip_grad_norm  # the gradients' largest total norm at each update (0: no clipping)
        self.parallel = parallel  # a data_parallel.RankShare when this process is one rank of several
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.epoch_step = 0  # steps completed in the running epoch
        self._partial = (0.0, 0, 0)  # the running epoch's loss sum, correct predictions, samples
        self._rng_state = None  # the engine's RNG state after the last completed step
        self._batches = None  # the running epoch's loader iterator
        self._resume = None  # a mid-epoch checkpoint's RNG and loader state, for the next epoch to continue
        self.resumable = True  # False while a step's or an epoch's updates are half applied
        self.history = []  # EpochInfo per completed epoch
        self.status = "idle"
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
        self._ranks_stop = False  # the last step's stop request summed over the ranks (data-parallel training)
        self._single_steps = 0

    # ----- control from other threads -----
    def pause(self):
        with self._cond:
            self._paused = True
            self._cond.notify_all()

    def resume(self):
        with self._cond:
            self._paused = False
            self._cond.notify_all()

    def step_once(self):
        """While paused, run exactly one more mini-batch, then stay paused."""
        with self._cond:
            self._single_steps += 1
            self._cond.notify_all()

    def stop(self):
        """Stop after the current step; the model keeps the weights it has."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def _stopping(self):
        """Whether training stops now: asked to; with several ranks, when one had been asked by the last step's
        sum over them (a request that comes in after it counts at the next step, on every rank alike)."""
        return self._ranks_stop if self.parallel is not None else self._stop

    @property
    def paused(self):
        return self._paused

    def _wait_if_paused(self):
        """Block while paused; False when a stop was asked."""
        with self._cond:
            if self._paused and not self._stop and self._single_steps == 0:
                self.status = "paused"
                self._emit("on_pause")
            while self._paused and not self._stop and self._single_steps == 0:
                self._cond.wait()
            if self._paused and self._single_steps > 0:
                self._single_steps -= 1
            if not self._stop:
                self.status = "running"
            return not self._stop

    # ----- events -----
    def _emit(self, name, *args):
        for cb in self.callbacks:
            method = getattr(cb, name, None)
            if method is not None:
                method(self, *args)

    # ----- training -----
    def current_lr(self):
        return float(self.optimizer.param_groups[0]["lr"])

    def fit(self, epochs):
        """Train until ``epochs`` epochs are completed in all (a resumed trainer continues its count)."""
        with self._cond:
            self._stop = self._ranks_stop = False
        self.status = "running"
        if self.monitor is not None:
            self.monitor.attach(self.model)
        if self.health is not None:
            self.health.attach(self.model)
        message, status, error = "", "failed", None
        try:
            self._emit("on_fit_start")
            while self.epoch < epochs:
                if not self._run_epoch(epochs):
                    break
            status = "stopped" if self._stopping() else "finished"
        except KeyboardInterrupt:
            status, message = "stopped", "interrupted"
        except Exception as e:  # any failure ends the run in a known state
            message, error = failure_message(e), e
            traceback.clear_frames(e.__traceback__)  # keep where it happened, not the batch's tensors
        finally:
            if self.monitor is not None:
                self.monitor.detach()
            if self.health is not None:
                self.health.detach()
            self._close_batches()
            if self.epoch_step:  # a later fit() continues this epoch where it stopped
                self._resume = self._epoch_position()
        self.status = status
        info = RunInfo(status, self.epoch, self.global_step, message, error)
        self._end(info)
        self.status = info.status
        return info

    def _end(self, info):
        """``on_fit_end`` for every callback, even when one fails; a failure makes the run failed and joins
        the message, so the callbacks after it (the run record) say so."""
        for cb in self.callbacks:
            method = getattr(cb, "on_fit_end", None)
            if method is None:
                continue
            try:
                method(self, info)
            except Exception as e:  # the remaining callbacks must still run
                info.status, info.error = "failed", info.error or e
                problem = failure_message(e)
                if problem not in info.message:
                    info.message = "; ".join(m for m in (info.message, problem) if m)

    def _close_batches(self):
        close = getattr(self._batches, "close", None)
        if close is not None:
            close()

    def _start_batches(self, epoch):
        """The epoch's batch iterator: a fresh pass, or the rest of the pass a mid-epoch checkpoint stopped in
        (its batches skipped at the sampler, the RNG as it was after the last step)."""
        resume = self._resume
        if resume is None:
            self.epoch_step, self._partial = 0, (0.0, 0, 0)
            if self.seed is not None:
                engine_random.manual_seed(epoch_seed(self.seed, epoch))
            return iter(self.train_loader)
        loader_state = resume.get("loader")
        if loader_state is not None and hasattr(self.train_loader, "load_state_dict"):
            self.train_loader.load_state_dict(loader_state)
            batches = iter(self.train_loader)
        else:
            batches = iter(self.train_loader)
            for _ in range(self.epoch_step):
                next(batches)
        engine_random.default_generator.rng().bit_generator.state = json.loads(resume["rng_state"])
        self._resume = None  # kept until here: a failure above leaves the position to checkpoint again
        return batches

    def _run_epoch(self, epochs):
        epoch = self.epoch
        self.model.train()
        self._batches = self._start_batches(epoch)
        self._rng_state = engine_random.default_generator.rng().bit_generator.state
        self._emit("on_epoch_start", epoch)
        start = time.perf_counter()
        steps = len(self.train_loader)
        step_start = time.perf_counter()
        for batch in self._batches:
            step = self.epoch_step + 1
            waiting_since = time.perf_counter()
            if not self._wait_if_paused() and self.parallel is None:  # ranks stop together, after a step
                return False
            paused = time.perf_counter() - waiting_since  # not training time: rates and durations leave it out
            step_start += paused
            start += paused
            inputs, targets = _move(batch, self.device)
            self._emit("on_step_begin", self.global_step + 1)
            loss_value, correct, n = self._train_step(inputs, targets, epoch, step)
            lr = self.current_lr()
            record = self._commit_step(step, loss_value * n, correct, n)
            now = time.perf_counter()
            info = StepInfo(epoch, step, self.global_step, steps, loss_value, lr, n / max(now - step_start, 1e-9), n)
            step_start = now
            self._emit("on_step_end", info)
            if record is not None:
                started = time.perf_counter()
                self._emit("on_health", record)
                self.health.charge(record.step, time.perf_counter() - started)  # the budget covers the callbacks
            if self._stopping():
                return False
        self._close_batches()
        total_loss, total_correct, total_count = self._partial
        val_loss = val_acc = float("nan")
        if self.val_loader is not None:
            result = self.evaluate(self.val_loader)
            self._emit("on_validation", result)
            val_loss, val_acc = result.loss, result.accuracy
        lr = self.current_lr()
        self.resumable = False
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(val_loss if self.val_loader is not None else total_loss / max(total_count, 1))
            else:
                self.scheduler.step()
        info = EpochInfo(epoch, total_loss / max(total_count, 1), total_correct / max(total_count, 1), val_loss,
                         val_acc, time.perf_counter() - start, lr)
        self.history.append(info)
        self.epoch += 1
        self.epoch_step, self._partial, self._batches = 0, (0.0, 0, 0), None
        self.resumable = True
        self._emit("on_epoch_end", info)
        return not self._stopping()

    def _train_step(self, inputs, targets, epoch, step):
        """Forward and backward of one batch: its mean loss, correct predictions and images (over all ranks when
        this is one of several)."""
        self.optimizer.zero_grad()
        health = self.health
        if health is not None:
            health.begin(self.global_step)
        weight, model = 1.0, self.model
        if self.parallel is not None:
            inputs, targets, weight = self.parallel.share(inputs, targets)
            model = self.parallel.module
        try:
            outputs = model(inputs)
            loss = self.loss_fn(outputs, targets)
            (loss if weight == 1.0 else loss * weight).backward()
        finally:
            if health is not None:
                health.after_backward()
        loss_value, count = float(loss.item()), len(targets)
        correct = 0
        if outputs.dim() == 2 and targets.dim() == 1:
            correct = int((outputs.detach().argmax(1) == targets).sum().item())
        if self.parallel is not None:
            loss_sum, correct, count, self._ranks_stop = self.parallel.combine(loss_value * count, correct, count,
                                                                               self._stop)
            loss_value = loss_sum / count
        if self.monitor is not None:
            self._emit("on_gradients", self.monitor.collect())
        norm = clip_gradients(self.model.parameters(), self.clip_grad_norm)  # the monitors saw them unclipped
        if not math.isfinite(loss_value) or not gradients_finite(self.model.parameters(), norm):
            what = f"the loss became {loss_value}" if not math.isfinite(loss_value) else \
                f"the gradients became non-finite (the loss was {loss_value:.4g})"
            record = None if health is None else health.failed(self.global_step + 1, epoch)
            if record is not None:  # what the failing step's layers saw, before the replay below
                self._emit("on_health", record)
            origin, where = self._divergence_origin(inputs, targets)
            raise NonFiniteLossError(f"{what} at step {step} of epoch {epoch + 1} (global step "
                                     f"{self.global_step + 1}); {where}. Training stopped; try a lower learning "
                                     "rate or gradient clipping.", origin, self.global_step + 1)
        return loss_value, correct, count

    def _commit_step(self, step, loss_sum, correct, count):
        """Apply the step's update and advance every counter with it. ``resumable`` is False inside, so a run
        interrupted here (a second Ctrl+C) does not checkpoint half-updated weights."""
        self.resumable = False
        if self.health is not None:
            self.health.before_update()
        self.optimizer.step()
        self.global_step += 1
        if self.scheduler is not None and self.scheduler_interval == "step":
            self.scheduler.step()
        total_loss, total_correct, total_count = self._partial
        self._partial = (total_loss + loss_sum, total_correct + correct, total_count + count)
        self.epoch_step = step
        self._rng_state = engine_random.default_generator.rng().bit_generator.state
        self.resumable = True
        return None if self.health is None else self.health.after_update(self.global_step, self.epoch)

    def _divergence_origin(self, inputs, targets):
        """``(origin, text)``: where the values first went non-finite: the input batch (origin None), or the first
        op, in forward-then-backward order, whose result is not finite (a ``NonFiniteOrigin``), found by
        replaying the step from the RNG state after the last completed step (``divergence.replay_origin``)."""
        if not _finite(inputs):
            return None, "the input batch is not finite"
        if self.parallel is not None:  # a replay on one rank's share would call the collectives alone
            return None, "the operation that first made a non-finite value is not traced in data-parallel training"
        origin = replay_origin(self.model, self.loss_fn, inputs, targets, self._rng_state)
        if origin is None:
            return None, "a replay of the step computed only finite values"
        return origin, origin.describe()

    # ----- evaluation and prediction -----
    def evaluate(self, loader):
        """Loss, accuracy, confusion matrix and per-class accuracy of the model on ``loader`` (in eval mode, each
        module's own mode put back afterwards), and per sample, in the loader's order, the loss (see
        ``sample_losses``) and the probabilities of the true and the predicted class, from the same forward pass.
        Denser outputs ((N, C, H, W) against (N, H, W) targets) are scored element by element: predictions and
        targets keep their shape, each sample's loss is averaged over its elements, and the probabilities are
        None."""
        total_loss, count = 0.0, 0
        per_element = unreduced(self.loss_fn)
        preds, tgts, losses, chosen = [], [], [], []
        with in_mode(self.model, False), no_grad():
            for batch in loader:
                inputs, targets = _move(batch, self.device)
                outputs = self.model(inputs)
                n = len(targets)
                total_loss += float(self.loss_fn(outputs, targets).item()) * n
                count += n
                predicted = outputs.argmax(1)
                preds.append(predicted.cpu().numpy())
                tgts.append(targets.cpu().numpy())
                losses.append(per_sample_loss(per_element, outputs, targets))
                if outputs.dim() == 2:
                    chosen.append(chosen_probabilities(outputs, targets, predicted))
        predictions, targets = (np.concatenate(p) if p else np.zeros(0, np.int64) for p in (preds, tgts))
        losses = np.concatenate(losses) if losses else np.zeros(0, np.float32)
        true_probs = pred_probs = None  # denser outputs: no one class per sample
        if chosen or not preds:
            chosen = np.concatenate(chosen) if chosen else np.zeros((0, 2), np.float32)
            true_probs, pred_probs = chosen[:, 0], chosen[:, 1]
        classes = self.num_classes or int(max(predictions.max(initial=-1), targets.max(initial=-1)) + 1)
        cm = confusion_matrix(predictions, targets, classes)
        accuracy = float((predictions == targets).mean()) if count else float("nan")
        return EvalResult(total_loss / max(count, 1), accuracy, cm, per_class_accuracy(cm), count, predictions,
                          targets, losses, true_probs, pred_probs)

    def predict(self, data):
        """Class probabilities (a NumPy array) for a batch tensor or every batch of a loader."""
        return class_probabilities(self.model, data, self.device)

    # ----- checkpoints -----
    def state_dict(self):
        """Everything a run continues from; see ``engine.training.checkpoint``. Mid-epoch it also holds the
        step within the epoch, the partial metrics, the RNG state after that step and the loader's pass."""
        state = {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "optimizer_kind": type(self.optimizer).__name__,
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "scheduler_kind": None if self.scheduler is None else type(self.scheduler).__name__,
            "epoch": self.epoch,
            "global_step": self.global_step,
            "seed": self.seed,
            "history": [vars(h) for h in self.history],
        }
        if self.epoch_step:
            state.update({"epoch_step": self.epoch_step, "steps_per_epoch": len(self.train_loader),
                          "partial": list(self._partial), **self._epoch_position()})
        return state

    def _epoch_position(self):
        """Where the running epoch stands: the RNG state after its last step and its loader pass's state."""
        if self._resume is not None:  # not started again since it was loaded or stopped
            return dict(self._resume)
        loader_state = getattr(self._batches, "state_dict", None)
        return {"rng_state": json.dumps(self._rng_state),
                "loader": None if loader_state is None else {**loader_state(), "batches": self.epoch_step}}

    def check_state_dict(self, state, path="checkpoint"):
        """``CheckpointError`` naming ``path`` and everything in ``state`` that does not fit this trainer."""
        check_fits(path, state, self.model, self.optimizer, self.scheduler, len(self.train_loader))

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.seed = state.get("seed", self.seed)
        self.history = [EpochInfo(**h) for h in state.get("history", [])]
        self.epoch_step = int(state.get("epoch_step", 0))
        self._partial, self._resume = (0.0, 0, 0), None
        if self.epoch_step:
            loss, correct, count = state["partial"]
            self._partial = (float(loss), int(correct), int(count))
            self._resume = {"rng_state": state["rng_state"], "loader": state.get("loader")}

    def save_checkpoint(self, path):
        save(self.state_dict(), path)

    def load_checkpoint(self, path):
        """Continue from the checkpoint in ``path``, checked first: ``CheckpointError`` (or ``WeightFileError``
        for a damaged file) leaves the trainer as it was."""
        state = read_checkpoint(path)
        self.check_state_dict(state, path)
        self.load_state_dict(state)
