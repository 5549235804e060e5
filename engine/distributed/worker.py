"""One rank of ``python -m engine.distributed.run``: sets PyTorch's environment variables from the MPI
launcher's, runs the user's script (or module) as ``__main__``, and when it fails records why and stops
every rank (``MPI_Abort``), so that no other rank waits for it in a collective. A rank whose output the
launcher was asked not to show (``--local-ranks-filter``) still keeps the end of its error output, for the
record of its failure.

    python -m engine.distributed.worker SCRIPT [ARGS...]
    python -m engine.distributed.worker -m MODULE [ARGS...]
"""

import json
import os
import runpy
import sys
import time
import traceback

from .launch_env import ERRORS_VARIABLE, SHOWN_RANKS_VARIABLE, error_path, rank_environment, record_start

INTERRUPTED = 130  # the exit code of a program stopped by Ctrl+C
_TAIL_CHARACTERS = 4096


class _Tail:
    """A text stream that keeps the last characters written to it, and passes them on to ``stream`` (or
    nowhere)."""

    def __init__(self, stream):
        self.stream = stream
        self.text = ""

    def write(self, text):
        self.text = (self.text + text)[-_TAIL_CHARACTERS:]
        return self.stream.write(text) if self.stream is not None else len(text)

    def flush(self):
        if self.stream is not None:
            self.stream.flush()

    def isatty(self):
        return False

    def last_line(self):
        lines = [line.strip() for line in self.text.replace("\r", "\n").splitlines() if line.strip()]
        return lines[-1] if lines else ""


def _message(error, output):
    """The line that says why a rank failed: the exception's, or for an exit with a code, the last line the
    program wrote to its error output (a command-line program's own error message)."""
    if isinstance(error, SystemExit) and output.last_line():
        return output.last_line()
    return "".join(traceback.format_exception_only(type(error), error)).strip()


def _record_failure(rank, error, exit_code, output):
    """The first line a user needs, the whole traceback, and when, into this rank's error file."""
    folder = os.environ.get(ERRORS_VARIABLE)
    if not folder:
        return
    record = {"rank": rank, "time": time.time(), "exit_code": exit_code, "message": _message(error, output),
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
    shown = os.environ.get(SHOWN_RANKS_VARIABLE)
    quiet = shown is not None and env["LOCAL_RANK"] not in shown.split(",")
    output = sys.stderr = _Tail(None if quiet else sys.stderr)
    if quiet:  # the MPI library's own messages too
        sys.stdout = _Tail(None)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
    try:
        _run(argv)
    except SystemExit as stop:
        code = stop.code
        if code in (None, 0, INTERRUPTED):  # an interrupted run that stopped in order is no failure
            raise
        exit_code = code if isinstance(code, int) else 1
        if not isinstance(code, int):
            print(code, file=sys.stderr)
        _record_failure(rank, stop, exit_code, output)
        _stop_every_rank(exit_code)
    except KeyboardInterrupt as error:  # Ctrl+C before the program's own handling of it: every rank stops now
        _record_failure(rank, error, INTERRUPTED, output)
        _stop_every_rank(INTERRUPTED)
    except BaseException as error:
        traceback.print_exc()
        print(f"[rank {rank}] failed: {type(error).__name__}: {error}", file=sys.stderr)
        _record_failure(rank, error, 1, output)
        _stop_every_rank(1)


if __name__ == "__main__":
    main()
