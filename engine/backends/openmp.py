"""``torch.backends.openmp``: the engine spreads CPU work over its own threads (``engine.threads``), not OpenMP."""


def is_available():
    return False
