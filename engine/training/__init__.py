"""``engine.training``: the training loop shared by the command line and the GUI, its callbacks, metrics
and run folders. The recipe (``engine.training.recipe``: from a network document to a ready Trainer) is
imported on its own, as it needs ``engine.graph``."""

from .callbacks import Callback, Checkpoint, ConsoleProgress, EarlyStopping, HealthLog, MetricsLog, atomic_write_text
from .checkpoint import CheckpointError
from .gradient_monitor import GradientMonitor
from .health import HealthMonitor, HealthRecord
from .metrics import accuracy, confusion_matrix, format_per_class, per_class_accuracy, topk_accuracy
from .runs import Run, RunFileError, RunMetrics, create_run, list_runs, load_run, runs_folder
from .trainer import EpochInfo, EvalResult, NonFiniteLossError, RunInfo, StepInfo, Trainer

__all__ = [
    "Callback", "Checkpoint", "CheckpointError", "ConsoleProgress", "EarlyStopping", "EpochInfo", "EvalResult",
    "GradientMonitor", "HealthLog", "HealthMonitor", "HealthRecord",
    "MetricsLog", "NonFiniteLossError", "Run", "RunFileError", "RunInfo", "RunMetrics", "StepInfo", "Trainer",
    "accuracy", "atomic_write_text", "confusion_matrix", "create_run", "format_per_class", "list_runs", "load_run",
    "per_class_accuracy", "runs_folder", "topk_accuracy",
]
