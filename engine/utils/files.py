"""Files the engine reads and writes: atomic writes (a file is written under a temporary name beside its
target, synced, then renamed over it, so a reader or a crash never sees half of it), bounded reads of files
users give us, and ``FileError``, the base of every file kind's error.

A temporary file is named ``.<target>.<pid>-<random>.tmp`` after the process writing it, so that one left by
a writer killed mid-write (SIGKILL, power loss) can be told from one still being written: the next atomic
write of the same target removes those whose process is gone, and those of the older ``.<target>.<random>.tmp``
form an hour old."""

import contextlib
import csv
import io
import os
import re
import secrets
import stat
import time

OLD_STYLE_TMP_AGE = 3600  # seconds after which a temporary file without a pid counts as abandoned
# Bytes of the target's name a temporary name keeps: 255 (a file name's limit) less ".", ".<pid>-", 12 hex
# digits and ".tmp" with the largest Linux pid (2**22), so a long target name still gets a temporary file.
TMP_BASE_BYTES = 255 - 26


class FileError(Exception):
    """A file the user gave (or we wrote) that cannot be used. Each file kind has its own subclass (documents,
    weights and checkpoints, datasets, images, run folders, recovery files); all name the file in ``path``
    and what is wrong in ``problem``, and read ``"<path>: <problem>"``. The command line prints one as a line
    without a traceback, the GUI shows it in a dialog."""

    def __init__(self, path, problem):
        self.path = os.fspath(path) if isinstance(path, (str, os.PathLike)) else str(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class FileWarning(UserWarning):
    """Something in a file that was read but not used (an unknown key, ...), issued with ``warnings.warn``;
    the message names the file and what was ignored. The command line prints it as a 'warning:' line, the GUI
    in its status bar."""


def _size_text(n):
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} bytes"


@contextlib.contextmanager
def open_regular(path, limit, error):
    """A binary file object on the regular file ``path``, refused with ``error(path, problem)`` when it is a
    folder, device or FIFO (opened without blocking, so a FIFO or ``/dev/zero`` cannot hang us or eat memory),
    cannot be opened, or is larger than ``limit`` bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise error(path, f"cannot read the file: {e.strerror or e}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            kind = "a folder" if stat.S_ISDIR(info.st_mode) else "not a regular file (a device, FIFO or socket)"
            raise error(path, f"cannot read it: it is {kind}")
        if info.st_size > limit:
            raise error(path, f"the file is {_size_text(info.st_size)}, over the {_size_text(limit)} a file of "
                              "this kind may have")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        fh = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with fh:
        yield fh


def read_limited(path, limit, error):
    """The bytes of the regular file ``path`` (see ``open_regular``); a file that grows past ``limit`` while
    it is read is refused too."""
    with open_regular(path, limit, error) as fh:
        size = os.fstat(fh.fileno()).st_size
        data = fh.read(size + 1)  # read(n) allocates n bytes first: ask for what the file holds, not the budget
        if len(data) > size:
            data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise error(path, f"the file is over the {_size_text(limit)} a file of this kind may have")
    return data


def atomic_write(path, write, error=None):
    """Call ``write(fileobj, tmp_path)`` on a temporary file next to ``path``, fsync it, then rename it over
    ``path``. The file gets the mode a new file gets from ``open()`` (0o666 less the umask), even when
    ``write`` replaced the temporary file through its own handle (safetensors writes a 0o600 file and renames it).
    On failure the temporary file is removed and ``path`` is left as it was; an ``OSError`` that names no file,
    or the temporary one (a full disk), is raised naming ``path``, or as ``error(path, problem)`` (the file
    kind's ``FileError``) when ``error`` is given."""
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        if error is not None:
            raise error(path, f"cannot write the file: its folder {directory} does not exist")
        raise FileNotFoundError(f"{path}: parent directory {directory} does not exist")
    if error is None:
        _atomic_write(path, write)
        return
    try:
        _atomic_write(path, write)
    except OSError as e:
        raise error(path, f"cannot write the file: {e.strerror or e}") from e


def _atomic_write(path, write):
    directory, base = os.path.split(os.path.abspath(path))
    fd, tmp = _create_beside(directory, base)
    mode = stat.S_IMODE(os.fstat(fd).st_mode)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh, tmp)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError) and e.errno is not None and e.filename in (None, tmp):
            raise OSError(e.errno, e.strerror, os.fspath(path)) from e
        raise
    _fsync_directory(directory)


def _create_beside(directory, base):
    """Open a new hidden file ``.<base>.<pid>-<random>.tmp`` in ``directory``: ``(fd, path)``, after removing
    those that writers no longer running left there. O_EXCL never clobbers someone else's file; mode 0o666 lets the
    umask decide, as ``open()`` does (``mkstemp`` would give 0o600). An ``OSError`` names the target, not the
    temporary file."""
    remove_stale_temporaries(directory, base)
    while True:
        tmp = os.path.join(directory, f"{_tmp_prefix(base)}{os.getpid()}-{secrets.token_hex(6)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), tmp
        except FileExistsError:
            continue
        except OSError as e:
            raise OSError(e.errno, e.strerror, os.path.join(directory, base)) from None


def remove_stale_temporaries(directory, base=None):
    """Remove the temporary files of target ``base`` (None: of any target, for a folder whose targets change
    names, as the recovery files' do) in ``directory`` that no running writer owns: those whose pid is not a
    running process, and those without a pid (the older form) not modified for an hour. A file whose process is
    alive, this one's included, is never touched; a file that cannot be removed is left."""
    prefix = "." if base is None else _tmp_prefix(base)
    pattern = re.compile(re.escape(prefix) + (r".+\." if base is None else "") + r"(?:(\d+)-)?[0-9a-f]{12}\.tmp")
    try:
        names = [name for name in os.listdir(directory) if name.startswith(prefix) and name.endswith(".tmp")]
    except OSError:
        return
    for name in names:
        match = pattern.fullmatch(name)
        if match is None:
            continue
        path = os.path.join(directory, name)
        with contextlib.suppress(OSError):
            if match[1] is None:
                stale = time.time() - os.lstat(path).st_mtime > OLD_STYLE_TMP_AGE
            else:
                stale = not _process_exists(int(match[1]))
            if stale:
                os.unlink(path)


def _tmp_prefix(base):
    """``.<base>.``, with ``base`` cut to at most ``TMP_BASE_BYTES`` bytes (whole characters)."""
    while len(os.fsencode(base)) > TMP_BASE_BYTES:
        base = base[:-1]
    return f".{base}."


def _process_exists(pid):
    """Whether a process ``pid`` runs; one of another user counts, and so does any doubt (on Windows,
    ``os.kill`` would end the process, so there every pid counts as running)."""
    if pid == os.getpid() or os.name == "nt":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OverflowError, OSError):
        return True
    return True


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


def atomic_write_text(path, text, error=None):
    """Write ``text`` (UTF-8) to ``path`` atomically, creating its folder if needed (``error``: as
    ``atomic_write``)."""
    try:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    except OSError as e:
        if error is None:
            raise
        raise error(path, f"cannot make its folder: {e.strerror or e}") from e
    atomic_write(path, lambda fh, _tmp: fh.write(text.encode("utf-8")), error)


def csv_text(header, rows):
    """CSV text of ``header`` and ``rows`` (sequences of values, written with ``str``), lines ending in ``\\n``."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return text.getvalue()


def write_csv(path, header, rows, error=None):
    """Write ``csv_text(header, rows)`` to ``path`` atomically, creating its folder if needed (``error``: as
    ``atomic_write``)."""
    atomic_write_text(path, csv_text(header, rows), error)
