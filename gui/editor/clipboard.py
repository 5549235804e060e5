"""Copied nodes on the system clipboard: the document's JSON fragment under LayerLab's own MIME type,
with the same JSON as text so it can be pasted into a file or a message."""

import atexit
import functools
import json

from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication

from engine.graph.fileformat import MAX_BYTES, NetworkFileError, parse_json

NODES_MIME = "application/x-layerlab-nodes"


def put_fragment(fragment):
    data = json.dumps(fragment, ensure_ascii=False)
    mime = QMimeData()
    mime.setData(NODES_MIME, data.encode())
    mime.setText(data)
    QApplication.clipboard().setMimeData(mime)
    _release_at_exit()


def get_fragment():
    """The fragment on the clipboard, or None when it holds no LayerLab nodes; ``NetworkFileError`` naming
    'clipboard' when what is there cannot be a fragment (read within a document's budgets: another program can
    put anything under our MIME type)."""
    mime = QApplication.clipboard().mimeData()
    if mime is None or not mime.hasFormat(NODES_MIME):
        return None
    data = mime.data(NODES_MIME)
    if data.size() > MAX_BYTES:
        raise NetworkFileError("clipboard", f"the copied nodes are over {MAX_BYTES >> 20} MiB of text")
    try:
        fragment = parse_json(bytes(data).decode("utf-8"), "clipboard")
    except UnicodeDecodeError:
        raise NetworkFileError("clipboard", "the copied nodes are not UTF-8 text") from None
    if not isinstance(fragment, dict):
        raise NetworkFileError("clipboard", f"the copied nodes are a JSON {type(fragment).__name__}, not an object")
    return fragment


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
