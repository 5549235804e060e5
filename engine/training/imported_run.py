"""An imported model's weights as a finished run (``<network>.runs/imported/``), so evaluation, prediction,
export and fine-tuning start from them as from any trained run."""

import os
import shutil

from ..graph.fileformat import save_network
from ..graph.import_builder import weighted_module
from .runs import create_run, runs_folder, timestamp

IMPORTED_RUN = "imported"


def imported_run_folder(network_path):
    return os.path.join(runs_folder(network_path), IMPORTED_RUN)


def save_imported_run(network, arrays, network_path, source, classes=(), replace=False):
    """Write the run folder of an import of ``source`` saved as ``network_path``: the document, its weights
    (``arrays``: ``state_dict`` name -> array) and ``classes``; an existing one is replaced only with
    ``replace``. Returns the ``Run``."""
    folder = imported_run_folder(network_path)
    if replace and os.path.isdir(folder):
        shutil.rmtree(folder)
    run = create_run(network, folder=folder)
    run.save_weights(weighted_module(network, arrays))
    run.status, run.classes, run.started, run.epochs = "finished", list(classes), timestamp(), 0  # none trained
    run.finish(message=f"imported from {os.path.basename(os.fspath(source))}")
    return run


def save_import(imported, network_path, source, replace=False):
    """Write an ``Imported`` model: the document as ``network_path`` and its weights as the finished run
    ``imported_run_folder(network_path)`` (replaced only with ``replace``). Returns the ``Run``."""
    save_network(imported.network, network_path)
    return save_imported_run(imported.network, imported.arrays, network_path, source, imported.classes, replace)
