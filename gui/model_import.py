"""File ▸ Import Model…: an ONNX file, or a model class of a Python file or the engine's vision models (File ▸
Import Known Architecture…), becomes a network document saved where the user says (beside the model by
default), its weights the finished run ``imported`` of that network, and the window opens it. The import runs
the network beside its source once (onnxruntime, or the model itself) and says how closely they agree."""

import os
import threading

from PySide6.QtCore import QEventLoop, Qt
from PySide6.QtWidgets import QApplication, QProgressDialog

from engine.graph import EXTENSIONS
from engine.graph.module_import import TraceRefused
from engine.training.imported_run import imported_run_folder, save_import
from engine.training.model_import import import_class, import_file
from engine.utils.files import FileError

MODEL_EXTENSIONS = (".onnx", ".py")  # an ONNX file, or a Python file of model classes
MODEL_FILTER = "Models (*.onnx *.py);;ONNX models (*.onnx);;PyTorch model classes (*.py);;All files (*)"


def import_model(window, model_path=None):
    """Ask for a model (an ONNX file, or a Python file whose class the window then asks for) unless given, import
    it, ask where to save the network and open it; returns the saved network's path, or None when refused,
    failed or cancelled (then nothing is written)."""
    if not window.maybe_save():
        return None
    model_path = model_path or window.ask_import_path()
    if not model_path:
        return None
    if model_path.lower().endswith(".py"):
        choice = window.ask_model_class(model_path)
        return _import(window, choice, choice[0]) if choice else None
    return _import(window, None, model_path)


def import_architecture(window):
    """File ▸ Import Known Architecture…: an engine vision model, as ``import_model`` does for files."""
    if not window.maybe_save():
        return None
    choice = window.ask_model_class(None)
    return _import(window, choice, choice[0]) if choice else None


def run_busy(window, text, work):
    """``work()`` run in a thread while the window shows that it is busy and keeps painting (a large model takes
    seconds); returns its result or raises its exception. The dialog is modal, so nothing else starts meanwhile.
    ``work`` touches no Qt object."""
    busy = QProgressDialog(text, None, 0, 0, window)
    busy.setWindowModality(Qt.WindowModal)
    busy.setMinimumDuration(400)
    busy.setWindowTitle("Importing")
    outcome = {}

    def target():
        try:
            outcome["result"] = work()
        except BaseException as e:  # handed to the GUI thread, which raises it
            outcome["error"] = e

    thread = threading.Thread(target=target, name="layerlab-import", daemon=True)
    thread.start()
    while thread.is_alive():
        QApplication.processEvents(QEventLoop.AllEvents, 30)
        thread.join(0.02)
    busy.close()
    busy.deleteLater()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]


def _imported(window, choice, source):
    """The ``ModelImport`` of ``source``, or None when refused (the window says why)."""
    try:
        if choice is None:
            return run_busy(window, f"Importing {os.path.basename(source)}…", lambda: import_file(source))
        return run_busy(window, f"Importing {source}…", lambda: import_class(*choice))
    except (FileError, OSError, TraceRefused) as e:
        window.show_error("Cannot import the model", f"{source}: {e}" if isinstance(e, OSError) else str(e))
        return None


def _import(window, choice, source):
    """Import ``source`` (an ONNX path, or with ``choice``, a class's ``(spec, kwargs, shape, weights)``), ask
    where to save it and open it."""
    done = _imported(window, choice, source)
    if done is None:
        return None
    imported = done.imported
    # beside the model file; an architecture's, where files were last opened
    default = os.path.join(window.dialog_dir(), done.default_path) + EXTENSIONS[0]
    network_path = window.ask_import_save_path(default)
    if not network_path:
        return None
    if not network_path.lower().endswith(EXTENSIONS):
        network_path += EXTENSIONS[0]
    folder = imported_run_folder(network_path)
    if os.path.exists(folder) and not window.ask_replace_imported_run(folder):
        return None
    try:
        save_import(imported, network_path, source, replace=True)
    except (FileError, OSError) as e:
        window.show_error("Cannot save the imported network", str(e))
        return None
    window.open_file(network_path)
    notes = " ".join(f"Note: {note}." for note in imported.notes)
    window.statusBar().showMessage(
        f"Imported {os.path.basename(source)}: {len(imported.network.nodes)} layers, agreeing with {done.reference} "
        f"to {done.difference:.2g}; its weights are the run 'imported'. {notes}", 20000)
    return network_path
