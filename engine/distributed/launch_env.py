"""What the launcher and its ranks agree on: PyTorch's rank variables read from the MPI launcher's, and
the folder where a failing rank leaves its error for the launcher to report."""

import json
import os
import socket

ERRORS_VARIABLE = "LAYERLAB_DISTRIBUTED_ERRORS"
SHOWN_RANKS_VARIABLE = "LAYERLAB_SHOWN_RANKS"  # the local ranks whose output is shown (all when unset)

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


def record_start(folder, rank):
    """This rank's process id and host, for the launcher to name a rank that MPI reports only by its pid."""
    path = os.path.join(folder, f"start-{int(rank)}.json")
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump({"rank": int(rank), "pid": os.getpid(), "host": socket.gethostname()}, f)
    os.replace(path + ".tmp", path)


def read_starts(folder):
    """``{pid: record}`` of the ranks that started (each record has ``rank``, ``pid`` and ``host``)."""
    starts = {}
    for name in os.listdir(folder):
        if name.startswith("start-") and name.endswith(".json"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    record = json.load(f)
            except (OSError, ValueError):
                continue
            starts[int(record["pid"])] = record
    return starts


def peers_on_this_host(folder, rank):
    """What can be seen of the other ranks from here: for each on this host, whether its process still runs."""
    host = socket.gethostname()
    states = []
    for pid, record in sorted(read_starts(folder).items(), key=lambda item: item[1]["rank"]):
        if record["rank"] == rank or record["host"] != host:
            continue
        try:
            os.kill(pid, 0)
            alive = True
        except ProcessLookupError:
            alive = False
        except PermissionError:
            alive = True
        states.append(f"rank {record['rank']} (pid {pid}) {'is still running' if alive else 'has ended'}")
    return states


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
