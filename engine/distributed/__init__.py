"""``engine.distributed``: process groups and collectives with ``torch.distributed``'s names, on MPI
(``mpi4py``). Start the processes with ``python -m engine.distributed.run --nproc-per-node N SCRIPT``."""

from .collectives import (
    Work,
    all_gather,
    all_gather_into_tensor,
    all_gather_object,
    all_reduce,
    barrier,
    broadcast,
    broadcast_object_list,
    reduce_scatter,
    reduce_scatter_tensor,
)
from .errors import DistBackendError, DistError
from .process_group import (
    ProcessGroup,
    destroy_process_group,
    get_backend,
    get_rank,
    get_world_size,
    group,
    init_process_group,
    is_available,
    is_initialized,
    is_mpi_available,
    is_nccl_available,
)
from .reduce_op import ReduceOp

__all__ = [
    "DistBackendError", "DistError", "ProcessGroup", "ReduceOp", "Work", "all_gather", "all_gather_into_tensor",
    "all_gather_object", "all_reduce", "barrier", "broadcast", "broadcast_object_list", "destroy_process_group",
    "get_backend", "get_rank", "get_world_size", "group", "init_process_group", "is_available", "is_initialized",
    "is_mpi_available", "is_nccl_available", "reduce_scatter", "reduce_scatter_tensor",
]
