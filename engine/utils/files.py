"""Atomic file writes: a file is written under a temporary name beside its target, synced, then renamed
over it, so a reader or a crash never sees half of it."""

import contextlib
import os
import secrets
import stat


def atomic_write(path, write):
    """Call ``write(fileobj, tmp_path)`` on a temporary file next to ``path``, fsync it, then rename it over
    ``path``. The file gets the mode a new file gets from ``open()`` (0o666 less the umask), even when
    ``write`` replaced the temporary file through its own handle (safetensors writes a 0o600 file and renames it)."""
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{path}: parent directory {directory} does not exist")
    fd, tmp = _create_beside(directory, base)
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh, tmp)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_directory(directory)


def _create_beside(directory, base):
    """Open a new hidden file ``.<base>.<random>.tmp`` in ``directory``: ``(fd, path)``. O_EXCL never clobbers
    someone else's file; mode 0o666 lets the umask decide, as ``open()`` does (``mkstemp`` would give 0o600)."""
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue


@contextlib.contextmanager
def temporary_file_beside(path):
    """The path of a new, empty hidden file beside ``path`` with the normal mode of a new file, for work that
    ends by renaming it over ``path``; removed unless it was renamed away."""
    directory, base = os.path.split(os.path.abspath(path))
    fd, tmp = _create_beside(directory, base)
    os.close(fd)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


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
