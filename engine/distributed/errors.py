"""The errors of ``engine.distributed``, with PyTorch's names: a collective that cannot finish raises
``DistBackendError`` instead of waiting for ever."""


class DistError(RuntimeError):
    """A failure of the distributed package."""

    __module__ = "engine.distributed"  # the name users import it by, in tracebacks too


class DistBackendError(DistError):
    """A collective failed or ran past the process group's time-out (a rank died, hung or called another one)."""

    __module__ = "engine.distributed"
