"""Recent files and crash recovery.

Autosave writes the open network to a recovery file every minute while it has unsaved changes, and
removes it once the changes are saved or the window closes normally. A recovery file left behind by a
process that is no longer running is therefore the work of a crashed session, offered back at start.
Each process writes its own file (``recovery-<pid>.llnet``), so two running windows never take each
other's recovery for a crash.

Recovery files are untrusted like any file: each is read within the document's budgets and handled on its
own, so a damaged one (set aside as ``*.llnet.damaged``) never costs the good ones, and metadata that makes
no sense (a time of 1e300, a path that is a number) is ignored. Autosave never raises out of its timer: a
failed write is reported through ``failed``.
"""

import contextlib
import json
import math
import os
import time

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer, Signal

from engine.graph import load_network, save_network
from engine.utils.files import FileError, atomic_write_text, read_limited, remove_stale_temporaries

RECENT_KEY = "files/recent"
MAX_RECENT = 10
AUTOSAVE_MS = 60_000
META_BYTES = 64 * 1024  # the metadata beside a recovery file is a few hundred bytes
DAMAGED_SUFFIX = ".damaged"


class RecentFiles:
    """The most recently opened or saved networks, newest first, kept in QSettings."""

    def paths(self):
        value = QSettings().value(RECENT_KEY, [])
        paths = [value] if isinstance(value, str) else list(value or [])
        return [p for p in paths if isinstance(p, str)]

    def add(self, path):
        path = os.path.abspath(path)
        paths = [path] + [p for p in self.paths() if p != path]
        QSettings().setValue(RECENT_KEY, paths[:MAX_RECENT])

    def remove(self, path):
        QSettings().setValue(RECENT_KEY, [p for p in self.paths() if p != os.path.abspath(path)])

    def clear(self):
        QSettings().setValue(RECENT_KEY, [])


def default_recovery_dir():
    base = QStandardPaths.writableLocation(QStandardPaths.AppDataLocation) or os.path.expanduser("~/.layerlab")
    return os.path.join(base, "recovery")


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except (OSError, OverflowError):  # OverflowError: a number no process can have
        return False
    return True


def _read_meta(path):
    """The metadata object beside a recovery file, or {} when it is missing, too big or not a JSON object."""
    try:
        meta = json.loads(read_limited(path, META_BYTES, FileError).decode("utf-8"))
    except (FileError, ValueError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _moment(value):
    """``value`` as a time a clock can show (seconds since the epoch), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return None
    try:
        time.localtime(value)
    except (OverflowError, OSError, ValueError):
        return None
    return value


class Recovery:
    """A recovery file found at start: the network and where it was saved last (None if never, or unknown)."""

    def __init__(self, path):
        self.path = path
        self.meta_path = os.path.splitext(path)[0] + ".json"
        meta = _read_meta(self.meta_path)
        original = meta.get("original_path")
        self.original_path = original if isinstance(original, str) and 0 < len(original) <= 4096 else None
        self.saved_at = _moment(meta.get("saved_at"))

    @property
    def saved_label(self):
        """When it was saved, as the question at start shows it ('14:05 on 05 Dec'), or '' when unknown."""
        return "" if self.saved_at is None else time.strftime("%H:%M on %d %b", time.localtime(self.saved_at))

    def load(self):
        """The network (``NetworkFileError`` when the file is damaged)."""
        return load_network(self.path)

    def discard(self):
        """Remove the file and its metadata; one that cannot be removed (a read-only folder) stays, and is
        offered again at the next start rather than stopping this one."""
        for p in (self.path, self.meta_path):
            with contextlib.suppress(OSError):
                os.remove(p)

    def set_aside(self):
        """Rename a damaged recovery file so it is not offered again but kept for the user; returns its new
        path, or None when it could not be renamed (it is then left where it is)."""
        target = self.path + DAMAGED_SUFFIX
        try:
            os.replace(self.path, target)
        except OSError:
            return None
        with contextlib.suppress(OSError):
            os.replace(self.meta_path, self.meta_path + DAMAGED_SUFFIX)
        return target


class Autosave(QObject):
    failed = Signal(str)  # why the last automatic save failed (the timer's; the window shows it)

    def __init__(self, document, undo_stack, directory=None, interval_ms=AUTOSAVE_MS, parent=None):
        super().__init__(parent)
        self.document, self.undo_stack = document, undo_stack
        self.directory = directory or default_recovery_dir()
        self.path = os.path.join(self.directory, f"recovery-{os.getpid()}.llnet")
        self.original_path = None
        self._saved_state = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._on_timer)
        self.timer.start()

    def _state(self):
        return (self.document.revision, self.undo_stack.index())

    def save_now(self):
        """Write the recovery file if there are unsaved changes not yet in it; drop it when all is saved.
        Returns whether it wrote; a failure (full disk, unwritable folder) is not raised but reported through
        ``failed``, and the next call tries again."""
        if self.undo_stack.isClean():
            self.discard()
            return False
        if self._state() == self._saved_state and os.path.exists(self.path):
            return False
        try:
            os.makedirs(self.directory, exist_ok=True)
            save_network(self.document, self.path)
            meta = {"original_path": self.original_path, "saved_at": time.time(), "pid": os.getpid()}
            atomic_write_text(os.path.splitext(self.path)[0] + ".json", json.dumps(meta))
        except (FileError, OSError) as e:
            self.failed.emit(f"Autosave failed: {e if isinstance(e, FileError) else f'{self.path}: {e.strerror or e}'}")
            return False
        self._saved_state = self._state()
        return True

    def _on_timer(self):
        self.save_now()

    def discard(self):
        Recovery(self.path).discard()
        self._saved_state = None

    def stop(self):
        """The window closes normally: no recovery needed."""
        self.timer.stop()
        self.discard()

    def left_behind(self):
        """Recovery files of sessions that ended without closing (newest first); the temporary files of their
        interrupted writes are removed."""
        remove_stale_temporaries(self.directory)
        try:
            names = os.listdir(self.directory)
        except OSError:
            return []
        found = []
        for fname in names:
            stem, ext = os.path.splitext(fname)
            if ext != ".llnet" or not stem.startswith("recovery-") or not stem[9:].isdigit() or len(stem) > 30:
                continue
            pid = int(stem[9:])
            path = os.path.join(self.directory, fname)
            if pid != os.getpid() and not _running(pid):
                with contextlib.suppress(OSError):  # gone meanwhile
                    found.append((os.path.getmtime(path), path))
        found.sort(reverse=True)
        return [Recovery(p) for _, p in found]

