"""The project's writers, one per kind of file it writes, each able to write two distinguishable contents
(``k`` 0 or 1) of a chosen size (``scale``), and a check that a file on disk is one of them, whole.

``WRITERS[name].start(folder)`` runs in a child (the recovery writer needs Qt) and returns ``write(k, scale)``;
``check(folder)`` runs anywhere and returns the ``k`` it found, None when the file is absent, or raises."""

import glob
import json
import os
from dataclasses import dataclass

import numpy as np

import engine
from engine.graph import load_network, save_network
from engine.graph.templates import load_template
from engine.serialization import load_safetensors, save_safetensors
from engine.training.callbacks import MetricsLog
from engine.training.runs import Run, load_run
from engine.training.trainer import EpochInfo
from engine.utils.files import FileError

UNIT = 100_000  # elements (or characters) of a scale-1 content
DOCUMENT_TEXT = 60_000  # a document's description: under the 65,536 characters a document's text may have


class HalfWritten(Exception):
    """The file exists but is neither content."""


def _expect(condition, problem):
    if not condition:
        raise HalfWritten(problem)


def _variant(k, scale):
    return chr(ord("A") + k) * (UNIT * scale)


@dataclass
class Writer:
    name: str
    start: object  # start(folder) -> write(k, scale); in a child
    check: object  # check(folder) -> k, or None when absent


# ----------------------------------------------------------------------------------------- network
def _document(network, k):
    network.title, network.description = f"variant {k}", chr(ord("A") + k) * DOCUMENT_TEXT


def _network_start(folder):
    network = load_template("resnet_cifar10")
    path = os.path.join(folder, "net.llnet")

    def write(k, scale):
        _document(network, k)
        save_network(network, path)
    return write


def _network_check(folder):
    path = os.path.join(folder, "net.llnet")
    return _network_check_path(path) if os.path.exists(path) else None


def _network_check_path(path):
    network = load_network(path)
    k = int(network.title.split()[-1])
    _expect(set(network.description) == {chr(ord("A") + k)}, "description does not match the title")
    return k


# ----------------------------------------------------------------------------------------- safetensors
def _safetensors_start(folder):
    path = os.path.join(folder, "weights.safetensors")
    return lambda k, scale: save_safetensors({"w": np.full(UNIT * scale, k + 1, np.float32)}, path)


def _safetensors_check(folder):
    path = os.path.join(folder, "weights.safetensors")
    if not os.path.exists(path):
        return None
    values = np.unique(load_safetensors(path)["w"].numpy())
    _expect(len(values) == 1 and values[0] in (1, 2), f"values {values[:4]}")
    return int(values[0]) - 1


# ----------------------------------------------------------------------------------------- checkpoint
def _checkpoint_start(folder):
    path = os.path.join(folder, "checkpoint.llw")

    def write(k, scale):
        model = {"w": engine.full((UNIT * scale,), float(k + 1))}
        engine.save({"model": model, "optimizer": {"state": {}, "param_groups": []}, "epoch": k,
                     "global_step": k, "seed": 0, "history": []}, path)
    return write


def _checkpoint_check(folder):
    path = os.path.join(folder, "checkpoint.llw")
    if not os.path.exists(path):
        return None
    state = engine.load(path)
    k = state["epoch"]
    values = np.unique(state["model"]["w"].numpy())
    _expect(len(values) == 1 and values[0] == k + 1, f"epoch {k} with values {values[:4]}")
    return k


# ----------------------------------------------------------------------------------------- run folder
def _run_json_start(folder):
    return lambda k, scale: Run(folder, status="running", epochs=k, message=_variant(k, scale)).save()


def _run_json_check(folder):
    if not os.path.exists(os.path.join(folder, "run.json")):
        return None
    run = load_run(folder)
    _expect(run.message == _variant(run.epochs, len(run.message) // UNIT), "message does not match")
    return run.epochs


class _History:
    def __init__(self, k, scale):
        self.history = [EpochInfo(i, float(k + 1), 0.5, seconds=1.0, lr=0.1) for i in range(UNIT // 50 * scale)]


def _metrics_start(folder):
    log = MetricsLog(folder)
    return lambda k, scale: log.on_epoch_end(_History(k, scale), None)


def _metrics_check(folder):
    if not os.path.exists(os.path.join(folder, "metrics.csv")):
        return None
    epochs = Run(folder).metrics().epochs
    values = np.unique(epochs["train_loss"])
    _expect(len(values) == 1 and values[0] in (1, 2) and len(epochs["epoch"]) % (UNIT // 50) == 0,
            f"{len(epochs['epoch'])} rows, losses {values[:4]}")
    return int(values[0]) - 1


# ----------------------------------------------------------------------------------------- recovery
class _Stack:
    """What Autosave asks of an undo stack: never clean, a new index at every write."""

    def __init__(self):
        self.count = 0

    def isClean(self):
        return False

    def index(self):
        self.count += 1
        return self.count


def _recovery_start(folder):
    from PySide6.QtCore import QCoreApplication  # in the writing child only: the fork server stays Qt-free

    from gui.editor.files import Autosave

    app = QCoreApplication.instance() or QCoreApplication([])
    network = load_template("resnet_cifar10")
    autosave = Autosave(network, _Stack(), directory=folder, interval_ms=1 << 30)
    autosave.app = app
    autosave.left_behind()  # what a window does at start (offer_recovery): a new session, as each writer is

    failures = []
    if hasattr(autosave, "failed"):  # Autosave reports a failed write through this signal instead of raising
        autosave.failed.connect(failures.append)

    def write(k, scale):
        _document(network, k)
        if not autosave.save_now():
            if failures:
                raise FileError(autosave.path, f"reported through Autosave.failed: {failures[-1]}")
            raise RuntimeError("Autosave.save_now wrote nothing and reported no failure")
    return write


def _recovery_check(folder):
    """Every recovery file must be whole (each killed writer was a process of its own, with its own file);
    the ``k`` of the newest."""
    found = sorted(glob.glob(os.path.join(folder, "recovery-*.llnet")), key=os.path.getmtime)
    k = None
    for path in found:
        k = _network_check_path(path)
        meta = os.path.splitext(path)[0] + ".json"
        if os.path.exists(meta):
            with open(meta, encoding="utf-8") as f:
                _expect(isinstance(json.load(f), dict), f"{meta}: the metadata is not an object")
    return k


WRITERS = {w.name: w for w in (
    Writer("save_network", _network_start, _network_check),
    Writer("save_safetensors", _safetensors_start, _safetensors_check),
    Writer("checkpoint", _checkpoint_start, _checkpoint_check),
    Writer("run.json", _run_json_start, _run_json_check),
    Writer("metrics.csv", _metrics_start, _metrics_check),
    Writer("recovery", _recovery_start, _recovery_check),
)}


def leftovers(folder):
    """Temporary files of atomic writes left in ``folder``."""
    return sorted(glob.glob(os.path.join(folder, ".*.tmp")))
