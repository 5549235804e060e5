"""``torch.backends.cuda``: the cuBLAS switches scripts set (``matmul.allow_tf32``), kept as settings; the engine's
CuPy matmuls compute in the tensors' own precision."""

from ..cuda import is_available as _cuda_available


class _Matmul:
    """``torch.backends.cuda.matmul``: precision switches for CUDA matrix products."""

    allow_tf32 = False
    allow_fp16_reduced_precision_reduction = True
    allow_bf16_reduced_precision_reduction = True


matmul = _Matmul()


def is_built():
    """Whether this engine can drive CUDA devices: CuPy is installed and sees one."""
    return _cuda_available()


def preferred_linalg_library(backend=None):
    return "default"
