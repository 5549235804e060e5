"""Copied nodes on the system clipboard: the document's JSON fragment under LayerLab's own MIME type,
with the same JSON as text so it can be pasted into a file or a message."""

import atexit
import functools
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

NODES_MIME = "application/x-layerlab-nodes"


def put_fragment(fragment):
    data = json.dumps(fragment, ensure_ascii=False)
    mime = QMimeData()
    mime.setData(NODES_MIME, data.encode())
    mime.setText(data)
    QApplication.clipboard().setMimeData(mime)
    _release_at_exit()


def get_fragment():
    """The fragment on the clipboard, or None when it holds no LayerLab nodes."""
    mime = QApplication.clipboard().mimeData()
    if mime is None or not mime.hasFormat(NODES_MIME):
        return None
    try:
        fragment = json.loads(bytes(mime.data(NODES_MIME)).decode())
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    return fragment if isinstance(fragment, dict) else None


@functools.cache
def _release_at_exit():
    """PySide6 crashes the process at exit (a double delete) while the clipboard still holds a QMimeData made
    in Python; clear LayerLab's nodes from it before the interpreter shuts down."""
    atexit.register(release_clipboard)


def release_clipboard():
    app = QApplication.instance()
    if app is not None:
        mime = app.clipboard().mimeData()
        if mime is not None and mime.hasFormat(NODES_MIME):
            app.clipboard().clear()
