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
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading

from ..threads import usable_cpus
from .launch_env import ERRORS_VARIABLE, SHOWN_RANKS_VARIABLE, read_failures, read_starts

_OURS = ("OMP_NUM_THREADS", ERRORS_VARIABLE, SHOWN_RANKS_VARIABLE, "PYTHONPATH")


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


class Outcome:
    """How the ranks ended: ``code`` (mpiexec's exit status), ``failures`` (the errors ranks recorded, earliest
    first: dicts with ``rank``, ``message``, ``traceback``, ``exit_code``), ``killed`` (ranks that MPI reports
    ended without recording one: dicts with ``rank``, ``pid``, ``host``, ``how``) and ``output``."""

    def __init__(self, code, failures, killed, output=""):
        self.code, self.failures, self.killed = code, failures, killed
        self.output = output  # the end of what the shown ranks and mpiexec printed

    def already_shown(self):
        """Whether the output shown has already told the user why the first failing rank failed. A failure of
        rank 0 (whose output is shown) is not always there: when another rank fails at the same moment, its abort
        can stop MPI from passing on what rank 0 printed."""
        return bool(self.failures) and self.failures[0]["message"] in self.output

    def describe(self):
        """One line for the user: which rank failed first and why, or how the launcher ended."""
        if self.failures:
            first = self.failures[0]
            text = f"rank {first['rank']} failed first: {first['message']}"
            others = sorted({f["rank"] for f in self.failures[1:]})
            if others:
                text += f" (then rank{'s' if len(others) > 1 else ''} {', '.join(map(str, others))})"
            return text
        if self.killed:
            return "; ".join(f"rank {k['rank']} (pid {k['pid']} on {k['host']}) {k['how']} without recording an "
                             f"error, and MPI stopped the other ranks" for k in self.killed)
        if self.code < 0:
            return f"mpiexec was stopped by signal {-self.code}"
        return (f"mpiexec ended with exit code {self.code} before any rank recorded an error (see the output "
                f"above)")


# How MPI launchers report a rank that ended abnormally: MPICH's Hydra names its pid, Open MPI its rank too.
_HYDRA_REPORT = re.compile(r"PID (\d+) RUNNING AT (\S+)\s*=+\s*EXIT CODE: (\d+)")
_OPEN_MPI_REPORT = re.compile(r"process rank (\d+) with PID (\d+) on node (\S+) exited on signal (\d+)")


def _how(code):
    try:
        return f"was killed by signal {code} ({signal.Signals(code).name})"
    except ValueError:
        return f"ended with exit code {code}"


def _killed(report, starts):
    killed = []
    for pid, host, code in _HYDRA_REPORT.findall(report):
        record = starts.get(int(pid))
        killed.append({"rank": record["rank"] if record else "?", "pid": int(pid), "host": host,
                       "how": _how(int(code))})
    for rank, pid, host, code in _OPEN_MPI_REPORT.findall(report):
        killed.append({"rank": int(rank), "pid": int(pid), "host": host, "how": _how(int(code))})
    return killed


_TAIL_BYTES = 1 << 16  # of mpiexec's output, kept to read its report of a rank that was killed


def _pump(source, sink, tail):
    """Copy a pipe to ``sink`` as it comes (progress bars included), keeping its last bytes in ``tail``."""
    while True:
        chunk = os.read(source.fileno(), 1 << 14)
        if not chunk:
            return
        sink.write(chunk)
        sink.flush()
        tail.extend(chunk)
        del tail[:-_TAIL_BYTES]


def _wait(process):
    """Wait for mpiexec; each Ctrl+C here is passed on to it (the first asks the ranks to stop, a second makes
    it abort them)."""
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            process.send_signal(signal.SIGINT)


def launch(target, nproc_per_node, hosts=(), env=None, stdout=None, stderr=None, shown_ranks=None):
    """Run the ranks to the end, their output copied to ``stdout`` and ``stderr`` (binary streams; by default
    this process's), only that of the local ranks in ``shown_ranks`` when it is given, and return their
    ``Outcome``."""
    if not target:
        raise LaunchError("no script to run")
    command = mpiexec_command(nproc_per_node, list(hosts), list(target))
    env = dict(os.environ if env is None else env)
    env.setdefault("OMP_NUM_THREADS", str(rank_threads(nproc_per_node)))
    if shown_ranks is not None:
        env[SHOWN_RANKS_VARIABLE] = ",".join(str(int(r)) for r in shown_ranks)
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    sinks = (stdout or sys.stdout.buffer, stderr or sys.stderr.buffer)
    with tempfile.TemporaryDirectory(prefix="layerlab-ranks-") as folder:
        env[ERRORS_VARIABLE] = folder
        # In a session of its own, so that a terminal's Ctrl+C reaches the ranks once, forwarded by mpiexec.
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   start_new_session=True)
        tails = (bytearray(), bytearray())
        pumps = [threading.Thread(target=_pump, args=(pipe, sink, tail), daemon=True)
                 for pipe, sink, tail in zip((process.stdout, process.stderr), sinks, tails)]
        for pump in pumps:
            pump.start()
        forward = threading.current_thread() is threading.main_thread()  # signal handlers are set only there
        previous = signal.signal(signal.SIGTERM, lambda signum, frame: process.send_signal(signum)) \
            if forward else None
        try:
            code = _wait(process)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)
            for pump in pumps:
                pump.join()
        report = b"".join(tails).decode("utf-8", "replace")
        return Outcome(code, read_failures(folder), _killed(report, read_starts(folder)) if code else [], report)


def _ranks(text):
    try:
        return [int(r) for r in text.split(",") if r.strip()]
    except ValueError:
        raise LaunchError(f"--local-ranks-filter takes rank numbers separated by commas, got {text!r}") from None


def _parser():
    p = argparse.ArgumentParser(prog="python -m engine.distributed.run",
                                description="Start N processes of a script per host, as torchrun does, on MPI.")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1, metavar="N",
                   help="processes on each host (default 1)")
    p.add_argument("--hosts", default="", metavar="HOST[,HOST...]",
                   help="the hosts to run on, each running N processes (default: this machine only)")
    p.add_argument("--local-ranks-filter", metavar="R[,R...]",
                   help="show the output of these local ranks only (default: all); the others' errors are still "
                        "reported")
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
        shown = None if args.local_ranks_filter is None else _ranks(args.local_ranks_filter)
        outcome = launch(target, args.nproc_per_node, hosts, shown_ranks=shown)
    except LaunchError as e:
        print(f"python -m engine.distributed.run: {e}", file=sys.stderr)
        return 2
    if outcome.code != 0:
        print(f"python -m engine.distributed.run: {outcome.describe()}", file=sys.stderr)
    return outcome.code


if __name__ == "__main__":
    sys.exit(main())
