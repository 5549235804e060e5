"""``torch.backends``: the switches and availability checks that scripts read in their first lines
(``torch.backends.mps.is_available()``, ``torch.backends.cudnn.benchmark = True``).

The engine runs on NumPy and CuPy, with oneDNN for CPU convolutions where it is installed (``mkldnn``, whose
switch turns it off); the other vendor libraries these name (cuDNN, MPS, MKL) are never used: their checks say
so, and their switches are kept as plain settings that change nothing."""

from . import cuda, cudnn, mkl, mkldnn, mps, openmp

__all__ = ["cuda", "cudnn", "mkl", "mkldnn", "mps", "openmp"]
