"""``torch.cuda.amp``: the deprecated CUDA spellings of ``autocast`` and ``GradScaler``."""

from .deprecated import cuda_autocast as autocast
from .deprecated import cuda_grad_scaler as GradScaler

__all__ = ["GradScaler", "autocast"]
