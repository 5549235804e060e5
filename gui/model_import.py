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
from engine.graph.onnx_import.check import import_checked
from engine.training.class_import import import_class
from engine.training.imported_run import imported_run_folder, save_import
from engine.utils.files import FileError

MODEL_FILTER = "Models (*.onnx *.py);;ONNX models (*.onnx);;PyTorch model classes (*.py);;All files (*)"


def default_network_path(model_path):
    return os.path.splitext(model_path)[0] + EXTENSIONS[0]


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
    """``(Imported, difference, default network path, what it was checked against)``, or None when refused."""
    name = os.path.basename(source.rpartition(":")[0] if choice and ":" in source else source)
    try:
        if choice is None:
            imported, difference = run_busy(window, f"Importing {name}…", lambda: import_checked(source))
            return imported, difference, default_network_path(source), "onnxruntime"
        done = run_busy(window, f"Importing {source.rpartition(':')[2]} from {name}…", lambda: import_class(*choice))
        default = os.path.join(window.dialog_dir(), done.default_path)  # an architecture: where files were opened
        return done.imported, done.difference, default + EXTENSIONS[0], "the model itself"
    except (FileError, OSError, TraceRefused) as e:
        window.show_error("Cannot import the model", f"{source}: {e}" if isinstance(e, OSError) else str(e))
        return None


def _import(window, choice, source):
    """Import ``source`` (an ONNX path, or with ``choice``, a class's ``(spec, kwargs, shape, weights)``), ask
    where to save it and open it."""
    result = _imported(window, choice, source)
    if result is None:
        return None
    imported, difference, default, reference = result
    model_path = source
    network_path = window.ask_import_save_path(default)
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
        f"Imported {os.path.basename(model_path)}: {len(imported.network.nodes)} layers, agreeing with {reference} "
        f"to {difference:.2g}; its weights are the run 'imported'. {notes}", 20000)
    return network_path
