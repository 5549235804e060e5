"""kill -9 during writes: a child writes one kind of file over and over, alternating two contents; the parent
SIGKILLs it at a random moment, then checks the file is whole (one of the two contents, or absent before
the first write ended) and counts the atomic writes' temporary files left behind."""

import os
import random
import resource
import select
import signal
import tempfile
import time
from dataclasses import dataclass, field

from .writers import WRITERS, leftovers

SCALE = 8  # contents of a few MB: a write takes some milliseconds


@dataclass
class KillTally:
    kind: str
    kills: int = 0
    whole: int = 0
    absent: int = 0
    half_written: int = 0
    leftovers: int = 0  # temporary files after the kills
    leftovers_after_write: int = 0  # ... still there after a following complete write
    problems: list = field(default_factory=list)


def _fork_writer(name, folder, forever):
    """A child that writes (forever, or once): ``(pid, whether it got ready to write within 30 s)``."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid != 0:
        os.close(write_fd)
        ready = select.select([read_fd], [], [], 30)[0] and os.read(read_fd, 1)
        os.close(read_fd)
        return pid, bool(ready)
    os.close(read_fd)
    code = 1
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        write = WRITERS[name].start(folder)
        os.write(write_fd, b"r")
        k = 0
        while True:
            write(k, SCALE)
            k ^= 1
            if not forever:
                break
        code = 0
    finally:
        os._exit(code)


def _check(tally, name, folder, note):
    try:
        found = WRITERS[name].check(folder)
    except Exception as e:  # anything but one of the two contents is a half-written file
        tally.half_written += 1
        tally.problems.append(f"{note}: {type(e).__name__}: {str(e)[:200]}")
        return
    if found is None:
        tally.absent += 1
    else:
        tally.whole += 1


def kill_writes(name, kills, seed, keep):
    """``kills`` kill -9 of a child writing files of kind ``name``; the ``KillTally``. A damaged file is
    copied into ``keep``."""
    tally = KillTally(name)
    rng = random.Random(f"{seed}:kill:{name}")
    folder = tempfile.mkdtemp(prefix=f"fuzz-kill-{name.replace('.', '_')}-")
    for i in range(kills):
        pid, ready = _fork_writer(name, folder, forever=True)
        if not ready:
            tally.problems.append(f"kill {i}: the writer did not start")
        time.sleep(rng.uniform(0, 0.25))
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        tally.kills += 1
        before = tally.half_written
        _check(tally, name, folder, f"kill {i}")
        if tally.half_written > before:
            os.makedirs(keep, exist_ok=True)
            os.rename(folder, os.path.join(keep, f"kill-{name}-{i}"))
            folder = tempfile.mkdtemp(prefix=f"fuzz-kill-{name.replace('.', '_')}-")
    tally.leftovers = len(leftovers(folder))
    pid, _ready = _fork_writer(name, folder, forever=False)
    _, status = os.waitpid(pid, 0)
    if not os.WIFEXITED(status) or os.WEXITSTATUS(status):
        tally.problems.append("the following complete write failed")
    tally.leftovers_after_write = len(leftovers(folder))
    _check(tally, name, folder, "after a complete write")
    return tally


def kill_all(total, seed, keep, names=None):
    names = list(names or WRITERS)
    each = -(-total // len(names))
    return [kill_writes(name, each, seed, keep) for name in names]
