"""``Trainer``: the one training loop, shared by the command line and the GUI.

It runs epochs of optimisation steps, evaluates on a validation loader, and tells its callbacks what
happens (step end, gradient norms, epoch end, run end). Another thread may pause, resume, single-step
or stop it between steps. A non-finite loss stops the run with a message naming the step and the first
layer whose gradient went non-finite. Runs are reproducible from a seed: each epoch reseeds the engine's
generator from (seed, epoch), so a run resumed from a checkpoint continues exactly as it would have.
"""

import math
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from .. import random as engine_random
from ..autograd.grad_mode import no_grad
from ..backend import device as as_device
from ..optim.lr_scheduler import ReduceLROnPlateau
from ..serialization import load, save
from ..tensor import Tensor
from .gradient_monitor import GradientMonitor
from .metrics import confusion_matrix, per_class_accuracy


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


@dataclass
class EvalResult:
    loss: float
    accuracy: float
    confusion: np.ndarray
    per_class_accuracy: np.ndarray
    count: int
    predictions: np.ndarray = field(repr=False, default=None)
    targets: np.ndarray = field(repr=False, default=None)


class NonFiniteLossError(RuntimeError):
    pass


def _move(batch, dev):
    if isinstance(batch, Tensor):
        return batch.to(dev)
    if isinstance(batch, (list, tuple)):
        return type(batch)(_move(b, dev) for b in batch)
    return batch


def class_probabilities(model, data, device):
    """Class probabilities (a NumPy array) of ``model``, in eval mode, for a batch tensor or every batch of a
    loader."""
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            if isinstance(data, Tensor):
                return model(data.to(device)).softmax(1).cpu().numpy()
            outputs = []
            for batch in data:
                inputs = batch[0] if isinstance(batch, (list, tuple)) else batch
                outputs.append(model(inputs.to(device)).softmax(1).cpu().numpy())
            return np.concatenate(outputs)
    finally:
        model.train(was_training)


def _epoch_seed(seed, epoch):
    return (seed * 1_000_003 + epoch) % (2**63)


class Trainer:
    def __init__(self, model, optimizer, loss_fn, train_loader, val_loader=None, device="cpu", scheduler=None,
                 callbacks=(), *, scheduler_interval="epoch", seed=None, monitor_gradients=False, num_classes=None):
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
        self.epoch = 0  # epochs completed
        self.global_step = 0
        self.history = []  # EpochInfo per completed epoch
        self.status = "idle"
        self._cond = threading.Condition()
        self._paused = False
        self._stop = False
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
            self._stop = False
        self.status = "running"
        if self.monitor is not None:
            self.monitor.attach(self.model)
        self._emit("on_fit_start")
        message = ""
        try:
            while self.epoch < epochs:
                if not self._run_epoch(epochs):
                    break
            status = "stopped" if self._stop else "finished"
        except NonFiniteLossError as e:
            status, message = "failed", str(e)
        finally:
            if self.monitor is not None:
                self.monitor.detach()
        self.status = status
        info = RunInfo(status, self.epoch, self.global_step, message)
        self._emit("on_fit_end", info)
        return info

    def _run_epoch(self, epochs):
        epoch = self.epoch
        if self.seed is not None:
            engine_random.manual_seed(_epoch_seed(self.seed, epoch))
        self.model.train()
        self._emit("on_epoch_start", epoch)
        start = time.perf_counter()
        total_loss, total_correct, total_count = 0.0, 0, 0
        steps = len(self.train_loader)
        step_start = time.perf_counter()
        for step, batch in enumerate(self.train_loader, 1):
            waiting_since = time.perf_counter()
            if not self._wait_if_paused():
                return False
            paused = time.perf_counter() - waiting_since  # not training time: rates and durations leave it out
            step_start += paused
            start += paused
            inputs, targets = _move(batch, self.device)
            loss_value, correct = self._train_step(inputs, targets, epoch, step)
            n = len(targets)
            total_loss += loss_value * n
            total_correct += correct
            total_count += n
            now = time.perf_counter()
            info = StepInfo(epoch, step, self.global_step, steps, loss_value, self.current_lr(),
                            n / max(now - step_start, 1e-9), n)
            step_start = now
            self._emit("on_step_end", info)
            if self.scheduler is not None and self.scheduler_interval == "step":
                self.scheduler.step()
            if self._stop:
                return False
        val_loss = val_acc = float("nan")
        if self.val_loader is not None:
            result = self.evaluate(self.val_loader)
            val_loss, val_acc = result.loss, result.accuracy
        lr = self.current_lr()
        if self.scheduler is not None and self.scheduler_interval == "epoch":
            if isinstance(self.scheduler, ReduceLROnPlateau):
                self.scheduler.step(val_loss if self.val_loader is not None else total_loss / max(total_count, 1))
            else:
                self.scheduler.step()
        info = EpochInfo(epoch, total_loss / max(total_count, 1), total_correct / max(total_count, 1), val_loss,
                         val_acc, time.perf_counter() - start, lr)
        self.history.append(info)
        self.epoch += 1
        self._emit("on_epoch_end", info)
        return not self._stop

    def _train_step(self, inputs, targets, epoch, step):
        self.optimizer.zero_grad()
        outputs = self.model(inputs)
        loss = self.loss_fn(outputs, targets)
        loss.backward()
        loss_value = float(loss.item())
        if self.monitor is not None:
            self._emit("on_gradients", self.monitor.collect())
        if not math.isfinite(loss_value):
            layer = self._first_nonfinite_layer()
            where = f"; the first layer whose gradient is not finite is '{layer}'" if layer else ""
            raise NonFiniteLossError(f"the loss became {loss_value} at step {step} of epoch {epoch + 1} "
                                     f"(global step {self.global_step + 1}){where}. Training stopped; try a "
                                     "lower learning rate.")
        self.optimizer.step()
        self.global_step += 1
        correct = 0
        if outputs.dim() == 2 and targets.dim() == 1:
            correct = int((outputs.detach().argmax(1) == targets).sum().item())
        return loss_value, correct

    def _first_nonfinite_layer(self):
        for name, param in self.model.named_parameters():
            grad = param.grad
            if grad is not None and not bool(grad.isfinite().all().item()):
                return name.rpartition(".")[0] or name
        return None

    # ----- evaluation and prediction -----
    def evaluate(self, loader):
        """Loss, accuracy, confusion matrix and per-class accuracy of the model on ``loader``."""
        was_training = self.model.training
        self.model.eval()
        total_loss, count = 0.0, 0
        preds, tgts = [], []
        try:
            with no_grad():
                for batch in loader:
                    inputs, targets = _move(batch, self.device)
                    outputs = self.model(inputs)
                    n = len(targets)
                    total_loss += float(self.loss_fn(outputs, targets).item()) * n
                    count += n
                    preds.append(outputs.argmax(1).cpu().numpy())
                    tgts.append(targets.cpu().numpy())
        finally:
            self.model.train(was_training)
        predictions = np.concatenate(preds) if preds else np.zeros(0, np.int64)
        targets = np.concatenate(tgts) if tgts else np.zeros(0, np.int64)
        classes = self.num_classes or int(max(predictions.max(initial=-1), targets.max(initial=-1)) + 1)
        cm = confusion_matrix(predictions, targets, classes)
        accuracy = float((predictions == targets).mean()) if count else float("nan")
        return EvalResult(total_loss / max(count, 1), accuracy, cm, per_class_accuracy(cm), count, predictions,
                          targets)

    def predict(self, data):
        """Class probabilities (a NumPy array) for a batch tensor or every batch of a loader."""
        return class_probabilities(self.model, data, self.device)

    # ----- checkpoints -----
    def state_dict(self):
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": None if self.scheduler is None else self.scheduler.state_dict(),
            "epoch": self.epoch,
            "global_step": self.global_step,
            "seed": self.seed,
            "history": [vars(h) for h in self.history],
        }

    def load_state_dict(self, state):
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler") is not None:
            self.scheduler.load_state_dict(state["scheduler"])
        self.epoch = int(state["epoch"])
        self.global_step = int(state["global_step"])
        self.seed = state.get("seed", self.seed)
        self.history = [EpochInfo(**h) for h in state.get("history", [])]

    def save_checkpoint(self, path):
        save(self.state_dict(), path)

    def load_checkpoint(self, path, map_location=None):
        self.load_state_dict(load(path, map_location=map_location if map_location is not None else self.device))
