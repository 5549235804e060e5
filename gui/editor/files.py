"""Recent files and crash recovery.

Autosave writes the open network to a recovery file every minute while it has unsaved changes, and
removes it once the changes are saved or the window closes normally. A recovery file left behind by a
process that is no longer running is therefore the work of a crashed session, offered back at start.
Each process writes its own file (``recovery-<pid>.llnet``), so two running windows never take each
other's recovery for a crash.
"""

import json
import os
import time

from PySide6.QtCore import QObject, QSettings, QStandardPaths, QTimer

from engine.graph import load_network, save_network
from engine.utils.files import atomic_write_text

RECENT_KEY = "files/recent"
MAX_RECENT = 10
AUTOSAVE_MS = 60_000


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
    except OSError:
        return False
    return True


class Recovery:
    """A recovery file found at start: the network and where it was saved last (None if never)."""

    def __init__(self, path):
        self.path = path
        self.meta_path = os.path.splitext(path)[0] + ".json"
        try:
            with open(self.meta_path, encoding="utf-8") as f:
                meta = json.load(f)
        except (OSError, ValueError):
            meta = {}
        self.original_path = meta.get("original_path") if isinstance(meta, dict) else None
        self.saved_at = meta.get("saved_at") if isinstance(meta, dict) else None

    def load(self):
        return load_network(self.path)

    def discard(self):
        for p in (self.path, self.meta_path):
            if os.path.exists(p):
                os.remove(p)


class Autosave(QObject):
    def __init__(self, document, undo_stack, directory=None, interval_ms=AUTOSAVE_MS, parent=None):
        super().__init__(parent)
        self.document, self.undo_stack = document, undo_stack
        self.directory = directory or default_recovery_dir()
        self.path = os.path.join(self.directory, f"recovery-{os.getpid()}.llnet")
        self.original_path = None
        self._saved_state = None
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.save_now)
        self.timer.start()

    def _state(self):
        return (self.document.revision, self.undo_stack.index())

    def save_now(self):
        """Write the recovery file if there are unsaved changes not yet in it; drop it when all is saved."""
        if self.undo_stack.isClean():
            self.discard()
            return False
        if self._state() == self._saved_state and os.path.exists(self.path):
            return False
        os.makedirs(self.directory, exist_ok=True)
        save_network(self.document, self.path)
        meta = {"original_path": self.original_path, "saved_at": time.time(), "pid": os.getpid()}
        atomic_write_text(os.path.splitext(self.path)[0] + ".json", json.dumps(meta))
        self._saved_state = self._state()
        return True

    def discard(self):
        Recovery(self.path).discard()
        self._saved_state = None

    def stop(self):
        """The window closes normally: no recovery needed."""
        self.timer.stop()
        self.discard()

    def left_behind(self):
        """Recovery files of sessions that ended without closing (newest first)."""
        if not os.path.isdir(self.directory):
            return []
        found = []
        for fname in os.listdir(self.directory):
            stem, ext = os.path.splitext(fname)
            if ext != ".llnet" or not stem.startswith("recovery-") or not stem[9:].isdigit():
                continue
            pid = int(stem[9:])
            if pid != os.getpid() and not _running(pid):
                found.append(os.path.join(self.directory, fname))
        found.sort(key=os.path.getmtime, reverse=True)
        return [Recovery(p) for p in found]

