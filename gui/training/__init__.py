"""The training panel: settings, run controls, live plots, evaluation, prediction, runs and exports."""

from .panel import TrainingPanel

__all__ = ["TrainingPanel"]
