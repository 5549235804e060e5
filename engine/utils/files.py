"""Atomic file writes: a file is written under a temporary name beside its target, synced, then renamed
over it, so a reader or a crash never sees half of it."""

import contextlib
import os
import secrets


def atomic_write(path, write):
    """Call ``write(fileobj)`` on a temporary file next to ``path``, fsync it, then rename it over ``path``."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{path}: parent directory {directory} does not exist")
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            # O_EXCL: never clobber someone else's file; mode 0o666 lets the umask decide, like open()
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh, tmp)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    """Make the rename durable (POSIX); a no-op where directories cannot be opened."""
    try:
        dfd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_text(path, text):
    """Write ``text`` (UTF-8) to ``path`` atomically, creating its folder if needed."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    atomic_write(path, lambda fh, _tmp: fh.write(text.encode("utf-8")))
