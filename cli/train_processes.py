"""``main.py train NET --processes N``: the document trained data-parallel by N processes of this machine, as
MPI ranks started by ``engine.distributed.run``'s launcher. Every rank trains its share of every batch with the
same result as one process; rank 0 prints the progress and writes the run folder, the others stay quiet. When a
rank fails, every rank stops, and the run folder says ``failed`` with the rank and its error."""

import argparse
import contextlib
import os
import sys
from datetime import datetime

from .common import CliError, positive_int

MAIN = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "main.py")
RANK_FLAG = "--as-rank"
INTERRUPTED = 130


def add_arguments(p):
    p.add_argument("--processes", type=positive_int, metavar="N",
                   help="train data-parallel in N processes on this machine (MPI), with the same result as one "
                        "(default: the document's processes setting, 1 unless changed)")
    p.add_argument(RANK_FLAG, action="store_true", help=argparse.SUPPRESS)  # set by the launcher for each rank


def _rank_arguments(argv, folder):
    """The command line of each rank: this one without ``--processes``, with the run folder fixed (``--out``)."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--processes", "--out"):
            skip = True
        elif not arg.startswith(("--processes=", "--out=")):
            out.append(arg)
    if folder is not None:
        out += ["--out", folder]
    return [*out, RANK_FLAG]


def _new_run_folder(args):
    from engine.training.runs import new_folder, runs_folder

    return new_folder(runs_folder(args.network), datetime.now().strftime("%Y%m%d-%H%M%S"))


def launch_ranks(args, processes):
    """Start ``processes`` ranks, wait for them, and settle the run folder when they failed; the exit code."""
    from engine.distributed.run import LaunchError, launch

    folder = None
    if args.resume is None:
        folder = os.path.abspath(args.out) if args.out else _new_run_folder(args)
    try:
        outcome = launch([MAIN, *_rank_arguments(args.argv, folder)], processes, shown_ranks=[0])
    except LaunchError as e:
        raise CliError(str(e)) from None
    folder = folder or os.path.abspath(args.resume)
    if outcome.code == 0:
        return 0
    if outcome.code == INTERRUPTED or any(f["exit_code"] == INTERRUPTED for f in outcome.failures):
        return _settle_interruption(folder)
    return _settle_failure(folder, outcome)


def _forget_unstarted(folder):
    """Whether the run never started (no ``run.json``): its folder, made for it, is then removed if empty."""
    if os.path.isfile(os.path.join(folder, "run.json")):
        return False
    with contextlib.suppress(OSError):
        os.rmdir(folder)
    return True


def _settle_interruption(folder):
    """Ctrl+C: a run the ranks stopped in order says so already; one interrupted before they could (before the
    first step, or by a second Ctrl+C) is recorded as stopped, and a folder made for a run that never started is
    removed."""
    from engine.training import RunFileError, load_run

    if _forget_unstarted(folder):
        return INTERRUPTED
    with contextlib.suppress(RunFileError, OSError):
        run = load_run(folder)
        if run.status not in ("finished", "failed", "stopped"):
            run.status = "stopped"
            run.finish(message="interrupted (Ctrl+C) before the ranks could stop after a step")
    return INTERRUPTED


def _settle_failure(folder, outcome):
    """A run the ranks left unfinished is recorded as failed with the rank that failed first and its error, which
    is printed unless the output shown already holds it."""
    from engine.training import RunFileError, load_run

    reported = outcome.already_shown()
    if _forget_unstarted(folder):
        if not reported:
            print(f"training failed: {outcome.describe()}", file=sys.stderr)
        return outcome.code if outcome.code > 0 else 1
    try:
        run = load_run(folder)
    except RunFileError as e:
        print(f"training failed: {outcome.describe()} ({e})", file=sys.stderr)
        return 1
    if run.status == "finished":  # the ranks were stopped (a late Ctrl+C) after writing the finished run
        return INTERRUPTED
    if run.status not in ("failed", "stopped"):
        run.status = "failed"
        run.finish(message=outcome.describe())
    if not reported:
        print(f"training failed: {outcome.describe()}\nrun folder: {run.folder}", file=sys.stderr)
    return outcome.code if outcome.code > 0 else 1


def join_ranks():
    """In a rank: join the process group; the rank's number."""
    import engine.distributed as dist

    dist.init_process_group("mpi")
    return dist.get_rank()
