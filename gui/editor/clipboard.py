"""Copied nodes on the system clipboard: the document's JSON fragment under LayerLab's own MIME type,
with the same JSON as text so it can be pasted into a file or a message."""

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
