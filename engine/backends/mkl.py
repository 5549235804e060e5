"""``torch.backends.mkl``: the engine calls whatever BLAS NumPy was built with, not MKL directly."""


def is_available():
    return False
