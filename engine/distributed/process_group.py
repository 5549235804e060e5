"""The default process group: its backend, this process's rank among how many, and the time-out of its
collectives. ``init_process_group`` makes it and ``destroy_process_group`` ends it, as in PyTorch.

Ranks come from the MPI world the process was started in (``python -m engine.distributed.run``, or
``mpiexec``); ``RANK`` and ``WORLD_SIZE`` given as arguments must agree with it.
"""

import datetime
import os

from ..backend import cuda_module, current_cuda_index
from .errors import DistError
from .mpi_backend import MPIBackend
from .nccl_backend import NCCLBackend

DEFAULT_TIMEOUT = datetime.timedelta(minutes=30)  # PyTorch's default_pg_timeout
BACKENDS = ("mpi", "nccl")


class ProcessGroup:
    """A set of ranks that run collectives together (here always the whole world)."""

    def __init__(self, backend, timeout):
        self.backend = backend
        self.timeout = timeout

    def rank(self):
        return self.backend.rank

    def size(self):
        return self.backend.size

    def name(self):
        return self.backend.name

    def __repr__(self):
        return f"<ProcessGroup {self.backend.name}, rank {self.rank()} of {self.size()}>"


class _State:
    default = None


_state = _State()


class group:
    """``dist.group.WORLD``: the default group once one is made."""

    WORLD = None


def _set_default(pg):
    _state.default = group.WORLD = pg


def is_available():
    return True


def is_mpi_available():
    try:
        import mpi4py  # noqa: F401  (an install check only: importing mpi4py.MPI would start MPI)
    except ImportError:
        return False
    return True


def is_nccl_available():
    cupy = cuda_module()
    return cupy is not None and hasattr(cupy.cuda, "nccl")


def is_initialized():
    return _state.default is not None


def _make_backend(backend, device_id):
    if backend in ("mpi", "nccl") and not is_mpi_available():
        raise DistError(f"backend {backend!r} needs mpi4py and an MPI library: pip install mpi4py mpich")
    if backend == "mpi":
        return MPIBackend()
    if backend == "nccl":
        if not is_nccl_available():
            raise DistError("backend 'nccl' is not available: it needs CuPy with NCCL on a machine with GPUs")
        index = current_cuda_index() if device_id is None else getattr(device_id, "index", device_id)
        return NCCLBackend(index)
    raise ValueError(f"unknown backend {backend!r}: LayerLab's engine has {', '.join(map(repr, BACKENDS))} "
                     f"(PyTorch's 'gloo' is not one of them; use 'mpi' for CPU processes)")


def init_process_group(backend=None, init_method=None, timeout=None, world_size=-1, rank=-1, store=None,
                       group_name="", pg_options=None, device_id=None):
    """Join this process to the default group. ``backend``: ``"mpi"`` (the default) or ``"nccl"`` (tensors on
    the GPU ``device_id``, by default the current CUDA device); ``timeout``: a ``datetime.timedelta`` after which
    a collective that has not finished raises."""
    if _state.default is not None:
        raise ValueError("trying to initialize the default process group twice!")
    if init_method not in (None, "env://"):
        raise ValueError(f"init_method {init_method!r} is not supported: the ranks find each other through MPI "
                         f"(start them with python -m engine.distributed.run)")
    if store is not None:
        raise ValueError("store is not supported: the ranks find each other through MPI")
    if timeout is None:
        timeout = DEFAULT_TIMEOUT
    if not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout).__name__}")
    if timeout.total_seconds() <= 0:
        raise ValueError(f"timeout must be positive, got {timeout}")
    impl = _make_backend("mpi" if backend is None else str(backend).lower(), device_id)
    for given, actual, what in ((world_size, impl.size, "world_size"), (rank, impl.rank, "rank")):
        if given is not None and int(given) != -1 and int(given) != actual:
            impl.close()
            raise ValueError(f"{what}={given} does not match the MPI world this process was started in "
                             f"({what} {actual}); start the processes with python -m engine.distributed.run")
    _set_default(ProcessGroup(impl, timeout))
    os.environ.setdefault("RANK", str(impl.rank))
    os.environ.setdefault("WORLD_SIZE", str(impl.size))


def destroy_process_group(group=None):
    """End the default group (``group``: None or the default group itself)."""
    default = _state.default
    if default is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    if group is not None and group is not default:
        raise ValueError(f"{group!r} is not the default process group")
    default.backend.close()
    _set_default(None)


def default_group(group=None):
    """The group a collective runs on: ``group`` or the default one (an error when there is none)."""
    if group is not None:
        if not isinstance(group, ProcessGroup):
            raise TypeError(f"group must be a ProcessGroup or None, got {type(group).__name__}")
        return group
    if _state.default is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return _state.default


def get_rank(group=None):
    return default_group(group).rank()


def get_world_size(group=None):
    return default_group(group).size()


def get_backend(group=None):
    return default_group(group).name()
