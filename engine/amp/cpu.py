"""``torch.cpu.amp``: the deprecated CPU spellings of ``autocast`` and ``GradScaler``."""

from .deprecated import cpu_autocast as autocast
from .deprecated import cpu_grad_scaler as GradScaler

__all__ = ["GradScaler", "autocast"]
