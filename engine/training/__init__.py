"""``engine.training``: the training loop shared by the command line and the GUI, its callbacks and metrics."""

from .callbacks import Callback, Checkpoint, ConsoleProgress, EarlyStopping, MetricsLog, atomic_write_text
from .gradient_monitor import GradientMonitor
from .metrics import accuracy, confusion_matrix, format_per_class, per_class_accuracy, topk_accuracy
from .trainer import EpochInfo, EvalResult, NonFiniteLossError, RunInfo, StepInfo, Trainer

__all__ = [
    "Callback", "Checkpoint", "ConsoleProgress", "EarlyStopping", "EpochInfo", "EvalResult", "GradientMonitor",
    "MetricsLog", "NonFiniteLossError", "RunInfo", "StepInfo", "Trainer", "accuracy", "atomic_write_text",
    "confusion_matrix", "format_per_class", "per_class_accuracy", "topk_accuracy",
]
