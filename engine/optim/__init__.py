"""Optimizers and learning-rate schedulers with PyTorch's API (``torch.optim``).

``engine.optim.SGD``, ``Adam``, ``AdamW`` and ``RMSprop`` update parameters in place on their raw arrays
(NumPy or CuPy) with PyTorch's exact formulas; ``engine.optim.lr_scheduler`` holds the schedulers.
"""

from . import lr_scheduler
from .adam import Adam
from .adamw import AdamW
from .optimizer import Optimizer, register_optimizer_step_post_hook, register_optimizer_step_pre_hook
from .rmsprop import RMSprop
from .sgd import SGD

__all__ = [
    "SGD",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "lr_scheduler",
    "register_optimizer_step_post_hook",
    "register_optimizer_step_pre_hook",
]
