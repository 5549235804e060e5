"""The launcher, as ``torchrun``: start N processes of a script per host on MPI and report how they ended.

    python -m engine.distributed.run --nproc-per-node N [--hosts HOST[,HOST...]] SCRIPT [ARGS...]
    python -m engine.distributed.run --nproc-per-node N -m MODULE [ARGS...]

Each process runs ``SCRIPT`` as ``__main__`` with ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and
``LOCAL_WORLD_SIZE`` set, and ``OMP_NUM_THREADS`` (unless given) set to this host's CPUs shared out among its
processes. It starts them with ``mpiexec`` (MPICH's, installed with the ``mpich`` package, or Open MPI's).
When a rank fails, every rank is stopped, and the launcher names the rank that failed first and its error.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from ..threads import usable_cpus
from .launch_env import ERRORS_VARIABLE, read_failures

_OURS = ("OMP_NUM_THREADS", ERRORS_VARIABLE, "PYTHONPATH")


class LaunchError(RuntimeError):
    """The ranks could not be started (no MPI launcher, bad hosts)."""


def find_mpiexec():
    """``mpiexec`` beside this interpreter (``pip install mpich`` puts it there), else on ``PATH``."""
    here = os.path.dirname(sys.executable)
    found = shutil.which("mpiexec", path=os.pathsep.join([here, os.environ.get("PATH", "")]))
    if found is None:
        raise LaunchError("mpiexec was not found beside this Python or on PATH: install an MPI library, for "
                          "example with pip install mpich")
    return found


def _flavour(mpiexec):
    try:
        out = subprocess.run([mpiexec, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise LaunchError(f"{mpiexec} --version failed: {e}") from e
    return "openmpi" if "Open MPI" in out.stdout + out.stderr or "OpenRTE" in out.stdout else "hydra"


def mpiexec_command(nproc_per_node, hosts, target, mpiexec=None):
    """The command that starts ``nproc_per_node`` ranks on each of ``hosts`` (this machine when empty), each
    running ``engine.distributed.worker`` on ``target`` (``[SCRIPT, ARGS...]`` or ``["-m", MODULE, ...]``)."""
    if nproc_per_node < 1:
        raise LaunchError(f"--nproc-per-node must be at least 1, got {nproc_per_node}")
    mpiexec = mpiexec or find_mpiexec()
    total = nproc_per_node * max(1, len(hosts))
    command = [mpiexec, "-n", str(total)]
    if _flavour(mpiexec) == "openmpi":
        command += ["--oversubscribe"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command += ["--allow-run-as-root"]
        for name in _OURS:
            command += ["-x", name]
        if hosts:
            command += ["--host", ",".join(f"{h}:{nproc_per_node}" for h in hosts)]
    elif hosts:
        command += ["-hosts", ",".join(f"{h}:{nproc_per_node}" for h in hosts)]
    return [*command, sys.executable, "-m", "engine.distributed.worker", *target]


def rank_threads(nproc_per_node):
    """Threads per rank: this machine's usable CPUs shared out among its ranks, at least one each."""
    return max(1, usable_cpus() // nproc_per_node)


def launch(target, nproc_per_node, hosts=(), env=None):
    """Run the ranks to the end. Returns ``(exit code, failures)``: the failures ranks recorded, earliest
    first (each a dict with ``rank``, ``message``, ``traceback``, ``exit_code``)."""
    if not target:
        raise LaunchError("no script to run")
    command = mpiexec_command(nproc_per_node, list(hosts), list(target))
    env = dict(os.environ if env is None else env)
    env.setdefault("OMP_NUM_THREADS", str(rank_threads(nproc_per_node)))
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    with tempfile.TemporaryDirectory(prefix="layerlab-ranks-") as errors:
        env[ERRORS_VARIABLE] = errors
        process = subprocess.Popen(command, env=env)
        forward = threading.current_thread() is threading.main_thread()  # signal handlers are set only there
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signum)) \
            if forward else None
        try:
            code = process.wait()
        except KeyboardInterrupt:  # mpiexec got the terminal's Ctrl+C too and stops the ranks
            code = process.wait()
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
        return code, read_failures(errors)


def describe_failure(code, failures):
    """One paragraph for the user: which rank failed first and why, or how the launcher ended."""
    if failures:
        first = failures[0]
        text = f"rank {first['rank']} failed first: {first['message']}"
        others = sorted({f["rank"] for f in failures[1:]})
        if others:
            text += f" (then rank{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
        return text
    if code < 0:
        return f"mpiexec was stopped by signal {-code}"
    return (f"mpiexec ended with exit code {code}: a rank was killed or MPI failed before any rank recorded an "
            f"error (see the output above)")


def _parser():
    p = argparse.ArgumentParser(prog="python -m engine.distributed.run",
                                description="Start N processes of a script per host, as torchrun does, on MPI.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, metavar="N",
                   help="processes on each host (default 1)")
    p.add_argument("--hosts", default="", metavar="HOST[,HOST...]",
                   help="the hosts to run on, each running N processes (default: this machine only)")
    p.add_argument("-m", "--module", action="store_true", help="run TARGET as a module (python -m TARGET)")
    p.add_argument("target", metavar="SCRIPT", help="the script (or, with -m, the module) each process runs")
    p.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    return p


def main(argv=None):
    args = _parser().parse_args(argv)
    hosts = [h.strip() for h in args.hosts.split(",") if h.strip()]
    target = (["-m", args.target] if args.module else [args.target]) + args.args
    if not args.module and not os.path.isfile(args.target):
        print(f"python -m engine.distributed.run: {args.target}: no such file", file=sys.stderr)
        return 2
    try:
        code, failures = launch(target, args.nproc_per_node, hosts)
    except LaunchError as e:
        print(f"python -m engine.distributed.run: {e}", file=sys.stderr)
        return 2
    if code != 0:
        print(f"python -m engine.distributed.run: {describe_failure(code, failures)}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
