"""What the launcher and its ranks agree on: PyTorch's rank variables read from the MPI launcher's, and
the folder where a failing rank leaves its error for the launcher to report."""

import json
import os

ERRORS_VARIABLE = "LAYERLAB_DISTRIBUTED_ERRORS"

# (rank, world size, local rank, local world size) as each MPI launcher names them.
_LAUNCHER_VARIABLES = (
    ("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),  # MPICH's Hydra, Intel MPI
    ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
     "OMPI_COMM_WORLD_LOCAL_SIZE"),  # Open MPI
)


def rank_environment(environ):
    """``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` for this process: from the MPI
    launcher's variables, else those already set, else a world of one."""
    for rank, size, local_rank, local_size in _LAUNCHER_VARIABLES:
        if rank in environ and size in environ:
            return {"RANK": environ[rank], "WORLD_SIZE": environ[size],
                    "LOCAL_RANK": environ.get(local_rank, environ[rank]),
                    "LOCAL_WORLD_SIZE": environ.get(local_size, environ[size])}
    return {name: environ.get(name, default) for name, default in
            (("RANK", "0"), ("WORLD_SIZE", "1"), ("LOCAL_RANK", "0"), ("LOCAL_WORLD_SIZE", "1"))}


def error_path(folder, rank):
    return os.path.join(folder, f"rank-{int(rank)}.json")


def read_failures(folder):
    """The failures ranks recorded in ``folder``, the earliest first (the others often follow from it)."""
    failures = []
    for name in os.listdir(folder):
        if name.startswith("rank-") and name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    failures.append(json.load(f))
            except (OSError, ValueError):
                continue  # a rank stopped while writing it: the others still tell the story
    return sorted(failures, key=lambda record: record.get("time", 0.0))
