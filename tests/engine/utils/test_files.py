"""Atomic writes under faults: a writer killed with SIGKILL leaves the target whole (old or new, never part)
and a temporary file named after its pid, which the next write of that target removes; a live process's
temporary file is never removed; a full disk leaves the old file whole and nothing behind, and its error names
the target."""

import errno
import os
import signal
import subprocess
import sys
import tempfile
import time

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.utils import files
from engine.utils.files import atomic_write, atomic_write_text, temporary_file_beside

SIZE = 4 * 1024 * 1024
# A writer in its own interpreter that loads only engine/utils/files.py (fast to start), then writes TARGET
# atomically, alternating a file of 'A's and one of 'B's, in 64 KiB pieces; with "pause" it stops for good
# half-way through its first write.
WRITER = f"""
import importlib.util, sys
spec = importlib.util.spec_from_file_location("files", {files.__file__!r})
files = importlib.util.module_from_spec(spec)
spec.loader.exec_module(files)
target, mode = sys.argv[1], sys.argv[2]

def write(letter):
    def fill(fh, _tmp):
        for i in range({SIZE} // 65536):
            fh.write(letter * 65536)
            if mode == "pause" and i == 32:
                fh.flush()
                print("half-way", flush=True)
                sys.stdin.read()
    return fill

print("started", flush=True)
for n in range(10**9):
    files.atomic_write(target, write(b"AB"[n % 2:n % 2 + 1]))
"""


def start_writer(target, mode):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target), mode], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "started\n"
    return proc


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    proc.stdin.close()
    proc.stdout.close()


def temporaries(folder):
    return sorted(name for name in os.listdir(folder) if name.endswith(".tmp"))


def assert_whole(path):
    """The file holds one whole write: SIZE bytes of one letter."""
    data = path.read_bytes()
    assert len(data) == SIZE and data in (b"A" * SIZE, b"B" * SIZE)


def test_kill_9_mid_write_keeps_the_old_file_and_the_next_write_removes_the_leftover(tmp_path):
    target = tmp_path / "weights.bin"
    target.write_bytes(b"old")
    proc = start_writer(target, "pause")
    assert proc.stdout.readline() == "half-way\n"
    kill(proc)
    assert target.read_bytes() == b"old"
    (leftover,) = temporaries(tmp_path)
    assert leftover.startswith(f".weights.bin.{proc.pid}-")
    atomic_write_text(target, "new")
    assert target.read_text() == "new" and temporaries(tmp_path) == []


@pytest.mark.parametrize("delay", [0.05, 0.15, 0.3])
def test_kill_9_at_any_moment_leaves_the_target_absent_or_whole(tmp_path, delay):
    target = tmp_path / "data.bin"
    proc = start_writer(target, "loop")
    time.sleep(delay)
    kill(proc)
    if target.exists():
        assert_whole(target)
    assert all(name.startswith(f".data.bin.{proc.pid}-") for name in temporaries(tmp_path))
    atomic_write(target, lambda fh, _tmp: fh.write(b"A" * SIZE))
    assert_whole(target)
    assert temporaries(tmp_path) == []


def test_a_live_process_keeps_its_temporary_file(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = tmp_path / f".t.{sleeper.pid}-0123456789ab.tmp"
        ours = tmp_path / f".t.{os.getpid()}-0123456789ab.tmp"
        theirs.write_bytes(b"being written")
        ours.write_bytes(b"being written by another thread")
        atomic_write_text(tmp_path / "t", "x")
        assert theirs.exists() and ours.exists()
    finally:
        sleeper.kill()
        sleeper.wait(10)
    with temporary_file_beside(tmp_path / "t"):
        assert not theirs.exists() and ours.exists()


def test_old_names_go_after_an_hour_and_other_targets_are_left_alone(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = int(gone.stdout)
    old = tmp_path / ".t.0123456789ab.tmp"
    recent = tmp_path / ".t.abcdef012345.tmp"
    other_target = tmp_path / f".t.x.{dead}-0123456789ab.tmp"
    not_ours = tmp_path / f".t.{dead}-notatempfile.tmp"
    for path in (old, recent, other_target, not_ours):
        path.write_bytes(b"")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    atomic_write_text(tmp_path / "t", "x")
    assert not old.exists()
    assert recent.exists() and other_target.exists() and not_ours.exists()
    atomic_write_text(tmp_path / "t.x", "y")
    assert not other_target.exists()


def test_temporary_names_carry_the_pid(tmp_path):
    with temporary_file_beside(tmp_path / "x") as tmp:
        assert os.path.basename(tmp).startswith(f".x.{os.getpid()}-") and tmp.endswith(".tmp")


def full_disk(*_args):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_while_writing_keeps_the_old_file_and_leaves_nothing(tmp_path):
    target = tmp_path / "net.llnet"
    target.write_text("old document")

    def write(fh, _tmp):
        fh.write(b"new document, first half")
        full_disk()

    with pytest.raises(OSError) as caught:
        atomic_write(target, write)
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_text() == "old document" and os.listdir(tmp_path) == ["net.llnet"]


def test_a_full_disk_while_syncing_keeps_the_old_file_and_leaves_nothing(tmp_path, monkeypatch):
    target = tmp_path / "net.llnet"
    target.write_text("old document")
    monkeypatch.setattr(files.os, "fsync", full_disk)
    with pytest.raises(OSError) as caught:
        atomic_write_text(target, "new document")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(target)
    assert target.read_text() == "old document" and os.listdir(tmp_path) == ["net.llnet"]


def test_a_refused_temporary_file_is_reported_under_the_target_name(tmp_path, monkeypatch):
    real_open = os.open

    def no_space(path, *args, **kwargs):
        if os.path.basename(path).endswith(".tmp"):
            full_disk()
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(files.os, "open", no_space)
    with pytest.raises(OSError) as caught:
        atomic_write_text(tmp_path / "run.json", "{}")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "run.json")
    assert os.listdir(tmp_path) == []


@pytest.fixture(scope="module")
def dead_pid():
    """The pid of a process that has ended (and been reaped)."""
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(done.stdout)


names = st.text(st.characters(blacklist_characters="/\0", blacklist_categories=("Cs",)), min_size=1).filter(
    lambda name: name not in (".", "..") and len(name.encode()) <= 255)


@settings(max_examples=60, deadline=None)
@given(base=names)
@example(base="a" * 255)
@example(base="é" * 127 + "x")  # 255 bytes, cut inside a character
@example(base=".x.123-0123456789ab.tmp")
def test_any_file_name_gets_a_temporary_file_and_its_leftovers_are_found(dead_pid, base):
    with tempfile.TemporaryDirectory() as folder:
        target = os.path.join(folder, base)
        with temporary_file_beside(target) as live:
            mine = os.path.basename(live)
            assert mine.startswith(".") and mine.endswith(".tmp") and len(mine.encode()) <= 255  # whole characters
            head, tail = mine.rsplit(f".{os.getpid()}-", 1)
            leftover = os.path.join(folder, f"{head}.{dead_pid}-{tail}")
            open(leftover, "wb").close()
            atomic_write_text(target, "content")
            assert os.path.exists(live) and not os.path.exists(leftover)
        with open(target) as fh:
            assert fh.read() == "content"
        assert os.listdir(folder) == [base]
