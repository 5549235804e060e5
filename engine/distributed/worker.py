"""One rank of ``python -m engine.distributed.run``: sets PyTorch's environment variables from the MPI
launcher's, runs the user's script (or module) as ``__main__``, and when it fails records why and stops
every rank (``MPI_Abort``), so that no other rank waits for it in a collective.

    python -m engine.distributed.worker SCRIPT [ARGS...]
    python -m engine.distributed.worker -m MODULE [ARGS...]
"""

import json
import os
import runpy
import sys
import time
import traceback

from .launch_env import ERRORS_VARIABLE, error_path, rank_environment, record_start


def _record_failure(rank, error, exit_code):
    """The first line a user needs, the whole traceback, and when, into this rank's error file."""
    folder = os.environ.get(ERRORS_VARIABLE)
    if not folder:
        return
    record = {"rank": rank, "time": time.time(), "exit_code": exit_code,
              "message": "".join(traceback.format_exception_only(type(error), error)).strip(),
              "traceback": "".join(traceback.format_exception(type(error), error, error.__traceback__))}
    path = error_path(folder, rank)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f)
    os.replace(path + ".tmp", path)


def _stop_every_rank(exit_code):
    mpi = sys.modules.get("mpi4py.MPI")
    sys.stdout.flush()
    sys.stderr.flush()
    if mpi is not None and mpi.Is_initialized() and not mpi.Is_finalized():
        mpi.COMM_WORLD.Abort(exit_code)
    os._exit(exit_code)  # without MPI the launcher sees this rank's exit and stops the others


def _run(argv):
    if argv[:1] == ["-m"]:
        if len(argv) < 2:
            raise SystemExit("engine.distributed.worker: -m needs a module name")
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return
    script = argv[0]
    sys.argv = list(argv)
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))
    runpy.run_path(script, run_name="__main__")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        raise SystemExit("usage: python -m engine.distributed.worker SCRIPT [ARGS...] | -m MODULE [ARGS...]")
    env = rank_environment(os.environ)
    os.environ.update(env)
    rank = int(env["RANK"])
    if os.environ.get(ERRORS_VARIABLE):
        record_start(os.environ[ERRORS_VARIABLE], rank)
    try:
        _run(argv)
    except SystemExit as stop:
        code = stop.code
        if code in (None, 0):
            return
        exit_code = code if isinstance(code, int) else 1
        if not isinstance(code, int):
            print(code, file=sys.stderr)
        _record_failure(rank, stop, exit_code)
        _stop_every_rank(exit_code)
    except BaseException as error:
        traceback.print_exc()
        print(f"[rank {rank}] failed: {type(error).__name__}: {error}", file=sys.stderr)
        _record_failure(rank, error, 1)
        _stop_every_rank(1)


if __name__ == "__main__":
    main()
