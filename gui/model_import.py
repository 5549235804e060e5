"""File ▸ Import Model…: an ONNX file becomes a network document saved where the user says (beside the model
by default), its weights the finished run ``imported`` of that network, and the window opens it. The import
runs the network beside onnxruntime once and says how closely they agree."""

import os

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from engine.graph import EXTENSIONS
from engine.graph.onnx_import.check import import_checked
from engine.training.imported_run import imported_run_folder, save_import
from engine.utils.files import FileError

ONNX_FILTER = "ONNX models (*.onnx);;All files (*)"


def default_network_path(model_path):
    return os.path.splitext(model_path)[0] + EXTENSIONS[0]


def import_model(window, model_path=None):
    """Ask for an ONNX model (unless given), import it, ask where to save the network and open it; returns the
    saved network's path, or None when refused, failed or cancelled (then nothing is written)."""
    if not window.maybe_save():
        return None
    model_path = model_path or window.ask_import_path()
    if not model_path:
        return None
    QApplication.setOverrideCursor(Qt.WaitCursor)
    try:
        imported, difference = import_checked(model_path)
    except (FileError, OSError) as e:
        window.show_error("Cannot import the model", str(e) if isinstance(e, FileError) else f"{model_path}: {e}")
        return None
    finally:
        QApplication.restoreOverrideCursor()
    network_path = window.ask_import_save_path(default_network_path(model_path))
    if not network_path:
        return None
    if not network_path.lower().endswith(EXTENSIONS):
        network_path += EXTENSIONS[0]
    folder = imported_run_folder(network_path)
    if os.path.exists(folder) and not window.ask_replace_imported_run(folder):
        return None
    try:
        save_import(imported, network_path, model_path, replace=True)
    except (FileError, OSError) as e:
        window.show_error("Cannot save the imported network", str(e))
        return None
    window.open_file(network_path)
    notes = " ".join(f"Note: {note}." for note in imported.notes)
    window.statusBar().showMessage(
        f"Imported {os.path.basename(model_path)}: {len(imported.network.nodes)} layers, agreeing with onnxruntime "
        f"to {difference:.2g}; its weights are the run 'imported'. {notes}", 20000)
    return network_path
