"""``torch.cuda.amp``: the deprecated CUDA spellings of ``autocast``, ``GradScaler``, ``custom_fwd`` and
``custom_bwd``."""

from .deprecated import cuda_autocast as autocast
from .deprecated import cuda_custom_bwd as custom_bwd
from .deprecated import cuda_custom_fwd as custom_fwd
from .deprecated import cuda_grad_scaler as GradScaler

__all__ = ["GradScaler", "autocast", "custom_bwd", "custom_fwd"]
