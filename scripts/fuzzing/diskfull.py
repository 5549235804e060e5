"""Full disk: each kind of write into a small tmpfs (root only; elsewhere ``OSError(ENOSPC)`` is injected at
``os.fsync``) that is full but for a few KiB. The write must fail with the kind's error (a ``FileError``), the
file written before must stay whole, and no temporary file may stay behind."""

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from unittest import mock

from engine.utils.files import FileError

from .runner import Pool
from .writers import WRITERS, leftovers

ROOM = 8192  # bytes left free: the write starts, then runs out


@dataclass
class DiskTally:
    kind: str
    how: str
    error: str = ""
    clean: bool = False
    old_whole: bool = False
    leftovers: int = 0
    problem: str = ""

    @property
    def bad(self):
        return not (self.clean and self.old_whole and not self.leftovers)


def _fill(mount):
    """Fill the file system at ``mount`` but for ``ROOM`` bytes."""
    path = os.path.join(mount, "filler")
    block = bytes(1 << 16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):
            while os.write(fd, block):
                pass
    finally:
        os.close(fd)
    size = os.path.getsize(path)
    os.truncate(path, max(0, size - ROOM))


def _write_when_full(name, folder, mount):
    write = WRITERS[name].start(folder)
    write(0, 1)
    detail = {}
    if mount:
        _fill(mount)
        patch = contextlib.nullcontext()
    else:
        patch = mock.patch.object(os, "fsync", side_effect=OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
    try:
        with patch:
            write(1, 1)
        detail["error"] = "none: the write succeeded"
    except FileError as e:
        detail.update(error=type(e).__name__, clean=True, message=str(e)[:200])
    except Exception as e:  # the wrong kind of error is what we report
        detail.update(error=type(e).__name__, message=str(e)[:200])
    try:
        detail["old_whole"] = WRITERS[name].check(folder) == 0
    except Exception as e:  # a damaged old file
        detail.update(old_whole=False, problem=f"{type(e).__name__}: {str(e)[:200]}")
    detail["leftovers"] = len(leftovers(folder))
    return (0, detail)


def _mount(folder):
    if os.geteuid() != 0:
        return "not root"
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", folder], capture_output=True,
                            text=True, check=False)
    return "" if result.returncode == 0 else result.stderr.strip() or "mount failed"


def disk_full(names=None):
    """A ``DiskTally`` per kind of write, and a line saying how the disk was filled."""
    base = tempfile.mkdtemp(prefix="fuzz-disk-")
    refusal = _mount(base)
    how = "tmpfs of 2 MiB" if not refusal else f"ENOSPC injected at os.fsync (no tmpfs: {refusal})"
    tallies = []
    try:
        for name in names or WRITERS:
            folder = os.path.join(base, name.replace(".", "_"))
            os.makedirs(folder)
            tally = DiskTally(name, how)
            pool = Pool(jobs=1, hang_seconds=60)
            pool.submit(lambda n=name, f=folder: _write_when_full(n, f, None if refusal else base),
                        lambda outcome, t=tally: _record(t, outcome))
            pool.drain()
            tallies.append(tally)
            for entry in os.listdir(base):
                target = os.path.join(base, entry)
                shutil.rmtree(target) if os.path.isdir(target) else os.remove(target)
    finally:
        if not refusal:
            subprocess.run(["umount", base], check=False)
        shutil.rmtree(base, ignore_errors=True)
    return tallies, how


def _record(tally, outcome):
    detail = outcome.detail
    tally.error = f"{detail.get('error', outcome.status)}: {detail.get('message', '')}".strip(": ")
    tally.clean = bool(detail.get("clean"))
    tally.old_whole = bool(detail.get("old_whole"))
    tally.leftovers = int(detail.get("leftovers", 0))
    tally.problem = detail.get("problem", "" if outcome.status == "loaded" else f"{outcome.status}: {detail}")
