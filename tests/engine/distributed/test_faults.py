"""A rank that dies, exits or hangs stops every rank, and the launcher names it; nothing waits for ever."""

import re
import time

import pytest
from launch_support import needs_mpi, run_ranks


@needs_mpi
@pytest.mark.parametrize(("mode", "said"), [
    ("raise", "rank 1 failed first: ValueError: rank 1 gives up"),
    ("exit", "rank 1 failed first: SystemExit: 3"),
    ("hang", "rank 0 failed first: engine.distributed.DistBackendError: all_reduce on rank 0 of 2 did not finish "
             "within the process group's time-out: another rank died, hung, or called a different collective (rank 1 "
             "(pid "),
])
def test_the_launcher_names_the_rank_that_failed(mode, said):
    began = time.monotonic()
    result = run_ranks("faults.py", mode, timeout=90)
    assert result.returncode != 0
    assert said in result.stderr, result.stderr
    assert time.monotonic() - began < 60


@needs_mpi
def test_a_rank_killed_by_a_signal_stops_the_others():
    """Rank 1 kills itself; the launcher names the rank that MPI reports killed. That is rank 1, but for a race in
    MPICH's Hydra: on a loaded machine it once saw rank 0, which it had just killed itself in its clean-up (also
    SIGKILL), end first, and reported that one (CI, 2026-12-07)."""
    began = time.monotonic()
    result = run_ranks("faults.py", "kill", timeout=90)
    assert result.returncode != 0
    assert re.search(r"rank [01] \(pid \d+ on \S+\) was killed by signal 9 \(SIGKILL\) without recording an error, "
                     r"and MPI stopped the other ranks", result.stderr), result.stderr
    assert time.monotonic() - began < 60
