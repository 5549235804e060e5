"""The fork server: the engine is imported once, then every case runs in a child made by ``os.fork()``.

A child loads its case through the kind's entry point (or the command line) under a memory cap and reports
through a pipe; the parent kills a child that has used more than ``HANG_SECONDS`` of CPU time (or has run
``BLOCKED_SECONDS``, blocked) and reads its peak memory from ``os.wait4``'s rusage. Outcomes: ``loaded``,
``clean`` (a ``FileError``: the kind's error), ``traceback`` (any other exception), ``hang``; a command-line
run is ``cli-bad`` when it printed a traceback or accepted a file the loader refused."""

import contextlib
import io
import json
import os
import resource
import signal
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import cli
from engine.utils.files import FileError

PROJECT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HANG_SECONDS = 5.0  # of CPU time: on a shared machine a child can wait for a core longer than that
BLOCKED_SECONDS = 15.0  # of wall time: a child blocked (on a FIFO, a lock) uses no CPU
MEMORY_CAP = 3 << 30  # RLIMIT_AS of a child: a bomb fails there instead of taking the machine down
RSS_LIMIT_KIB = 2 << 20  # a child above 2 GiB counts as a failure
CODES = {0: "loaded", 1: "clean", 2: "traceback", 3: "cli-bad"}


@dataclass
class Outcome:
    status: str
    seconds: float  # CPU time
    max_rss_kib: int
    detail: dict = field(default_factory=dict)


def _describe(error):
    """The exception's type, message and where it was raised: the innermost frames, and the innermost one in
    the project when those are all in the standard library."""
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if f.filename.startswith(PROJECT) and "/scripts/" not in f.filename]
    chosen = ([ours[-1]] if ours and ours[-1] not in frames[-3:] else []) + frames[-3:]
    where = [f"{os.path.relpath(f.filename, PROJECT)}:{f.lineno} {f.name}" for f in chosen]
    return {"type": type(error).__name__, "message": str(error)[:500], "where": where}


def load_outcome(load):
    """Run ``load()``: ``(code, detail)``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            load()
    except FileError as e:
        return 1, {"type": type(e).__name__, "message": str(e)[:300]}
    except BaseException as e:  # every other escape is what we are looking for
        return 2, _describe(e)
    return 0, {}


def cli_outcome(argv, bad_file):
    """Run ``cli.main(argv)`` with stderr captured: code 3 when it printed a traceback or raised, or when it
    exited 0 on a file the loader refused (``bad_file``)."""
    stderr, stdout = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout), warnings.catch_warnings():
            warnings.simplefilter("default")
            code = cli.main(argv)
    except SystemExit as e:
        code = e.code
    except BaseException as e:  # a traceback the user would see
        return 3, {**_describe(e), "cli": argv[0], "problem": "cli.main raised"}
    text = stderr.getvalue()
    detail = {"cli": argv[0], "exit": code, "stderr": text[-400:]}
    if "Traceback" in text:
        return 3, {**detail, "type": "CLI", "problem": "printed a traceback"}
    if bad_file and code == 0:
        return 3, {**detail, "type": "CLI", "problem": "exit code 0 for a file the loader refused"}
    return (1 if code else 0), detail


def _child(work, write_fd):
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    code = 2
    try:
        try:
            code, detail = work()
        except BaseException as e:  # the harness's own work failed: report it like any traceback
            code, detail = 2, {**_describe(e), "harness": True}
        os.write(write_fd, json.dumps(detail, default=str)[:8000].encode())
    finally:
        os._exit(code)


@dataclass
class _Child:
    start: float
    read_fd: int
    done: object
    chunks: list = field(default_factory=list)
    killed: bool = False

    def read(self):
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(self.read_fd, 65536):
                self.chunks.append(chunk)


class Pool:
    """Up to ``jobs`` children at once. ``submit(work, done)`` forks a child running ``work()`` (which returns
    ``(code, detail)``) and later calls ``done(Outcome)``; ``drain()`` waits for all."""

    def __init__(self, jobs=2, hang_seconds=HANG_SECONDS, blocked_seconds=BLOCKED_SECONDS):
        self.jobs, self.hang_seconds, self.blocked_seconds = jobs, hang_seconds, blocked_seconds
        self.running = {}  # pid -> _Child

    def submit(self, work, done):
        while len(self.running) >= self.jobs:
            self._reap()
        read_fd, write_fd = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(work, write_fd)
        os.close(write_fd)
        os.set_blocking(read_fd, False)
        self.running[pid] = _Child(time.monotonic(), read_fd, done)

    def drain(self):
        while self.running:
            self._reap()

    def _reap(self):
        """Finish every child that has exited, kill those over time; sleep a little when none was done."""
        finished = False
        for pid, child in list(self.running.items()):
            child.read()
            exited, status, usage = os.wait4(pid, os.WNOHANG)
            if not exited and self._overdue(pid, child):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                child.killed = True
                exited, status, usage = os.wait4(pid, 0)
            if exited:
                self._finish(self.running.pop(pid), status, usage)
                finished = True
        if not finished:
            time.sleep(0.002)

    def _overdue(self, pid, child):
        wall = time.monotonic() - child.start
        return wall > self.blocked_seconds or (wall > self.hang_seconds and _cpu_seconds(pid) > self.hang_seconds)

    @staticmethod
    def _finish(child, status, usage):
        child.read()
        os.close(child.read_fd)
        raw = b"".join(child.chunks)
        try:
            detail = json.loads(raw) if raw else {}
        except ValueError:
            detail = {"message": raw[:200].decode("utf-8", "replace")}
        if child.killed:
            state = "hang"
        elif os.WIFEXITED(status):
            state = CODES.get(os.WEXITSTATUS(status), "traceback")
        else:
            state = "traceback"
            detail = {"type": "signal", "message": f"killed by signal {os.WTERMSIG(status)}"}
        child.done(Outcome(state, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, detail))


def _cpu_seconds(pid):
    """CPU time used so far by the running process ``pid`` (Linux /proc; elsewhere its wall time counts)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return float("inf")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
