from data_support import no_leftover_threads  # noqa: F401  (autouse: every test ends with no loader thread left)
