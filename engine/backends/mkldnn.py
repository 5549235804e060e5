"""``torch.backends.mkldnn``: oneDNN, which the engine does not use (its CPU kernels are NumPy and numba)."""

enabled = True


def is_available():
    return False
