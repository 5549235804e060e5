"""Running rank scripts of these tests with the launcher, two processes on this machine."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

RANKS = pathlib.Path(__file__).resolve().parent / "ranks"
ROOT = pathlib.Path(__file__).resolve().parents[3]


def _mpiexec():
    return shutil.which("mpiexec", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")]))


needs_mpi = pytest.mark.skipif(_mpiexec() is None, reason="no mpiexec beside this Python or on PATH "
                                                          "(pip install mpich mpi4py, as scripts/setup does)")


def run_ranks(script, *args, nproc=2, timeout=180, env=None):
    """``python -m engine.distributed.run --nproc-per-node NPROC ranks/SCRIPT ARGS``, to the end."""
    command = [sys.executable, "-m", "engine.distributed.run", "--nproc-per-node", str(nproc),
               str(RANKS / script), *map(str, args)]
    environment = dict(os.environ, OMP_NUM_THREADS="1", **(env or {}))
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=timeout)


def check_ran(result):
    assert result.returncode == 0, f"the ranks failed (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
