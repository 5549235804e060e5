"""Files: save/open, the unsaved mark and the question on close, damaged files, recent files, dropping a
file on the window, templates, and the recovery file after a crash."""

import json
import os
import subprocess
import sys
import textwrap
import warnings

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from engine.graph import save_network
from engine.graph.templates import load_template

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def test_title_shows_file_and_unsaved_mark(lenet, tmp_path):
    assert lenet.windowTitle().startswith("LeNet (CIFAR-10 tutorial)")
    assert not lenet.isWindowModified()
    lenet.set_param("n2", "out_channels", 8)
    assert lenet.isWindowModified()
    path = tmp_path / "net.llnet"
    assert lenet.save_file(str(path))
    assert lenet.windowTitle().startswith("net.llnet") and not lenet.isWindowModified()
    lenet.undo_action.trigger()
    assert lenet.isWindowModified()
    lenet.redo_action.trigger()
    assert not lenet.isWindowModified()  # back at the saved state


def test_save_as_asks_for_a_path_and_adds_the_extension(lenet, tmp_path):
    lenet.answers["save_path"] = str(tmp_path / "copy")
    lenet.save_as_action.trigger()
    assert (tmp_path / "copy.llnet").exists()
    assert lenet.current_path == str(tmp_path / "copy.llnet")
    assert lenet.recent.paths()[0] == str(tmp_path / "copy.llnet")


def test_damaged_or_foreign_files_leave_the_network_untouched(lenet, tmp_path):
    document = lenet.document
    before = lenet.snapshot()
    lenet.set_param("n2", "out_channels", 8)
    edited = lenet.snapshot()
    cases = {"bad.llnet": '{"format": "layerlab.network", "version": 2, "nodes": [', "foreign.json": '{"a": 1}',
             "binary.llnet": b"\x89PNG\r\n\x1a\n\x00\xff"}
    for name, content in cases.items():
        path = tmp_path / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        assert not lenet.open_file(str(path))
        assert name in lenet.errors[-1]
        assert lenet.document is document and lenet.snapshot() == edited
        assert lenet.undo_stack.count() == 1 and lenet.isWindowModified()
    assert "bad JSON" in lenet.errors[0] and "not a LayerLab network" in lenet.errors[1]
    assert lenet.snapshot() != before


def test_open_keeps_one_document_object(editor, tmp_path):
    path = tmp_path / "resnet.llnet"
    save_network(load_template("resnet_cifar10"), str(path))
    document = editor.document
    seen = []
    document.subscribe(lambda event, payload: seen.append(event))
    assert editor.open_file(str(path))
    assert editor.document is document and len(document.nodes) == 40
    assert "reset" in seen
    assert len(editor.scene.node_items) == 40 and len(editor.scene.edge_items) == len(document.edges)
    assert editor.summary.table.rowCount() == 40
    assert editor.recent.paths() == [str(path)]
    assert editor.undo_stack.count() == 0 and not editor.isWindowModified()


def test_closing_with_unsaved_changes_asks(lenet, tmp_path):
    lenet.set_param("n2", "out_channels", 8)
    asked = []
    lenet.window.ask_save_changes = lambda: asked.append(1) or "cancel"
    assert not lenet.window.close()
    assert lenet.isVisible() and asked
    lenet.answers["save_path"] = str(tmp_path / "saved.llnet")
    lenet.window.ask_save_changes = lambda: "save"
    assert lenet.window.close()
    assert (tmp_path / "saved.llnet").exists()


def test_new_from_template_asks_first_and_replaces_the_network(lenet):
    lenet.set_param("n2", "out_channels", 8)
    lenet.answers["save_changes"] = "cancel"
    (resnet,) = [a for a in lenet.new_menu.actions() if a.text() == "ResNet (CIFAR-10)"]
    resnet.trigger()
    assert len(lenet.document.nodes) == 14  # cancelled
    lenet.answers["save_changes"] = "discard"
    resnet.trigger()
    assert len(lenet.document.nodes) == 40 and lenet.document.infer().total_params == 152_026
    lenet.new_action.trigger()
    assert lenet.document.nodes == {}


def test_dropping_a_network_file_on_the_window_opens_it(editor, tmp_path):
    path = tmp_path / "dropped.llnet"
    save_network(load_template("mlp_fashion_mnist"), str(path))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    with warnings.catch_warnings():  # PySide marks this constructor deprecated but has no other
        warnings.simplefilter("ignore", DeprecationWarning)
        enter = QDragEnterEvent(QPoint(300, 300), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    QApplication.sendEvent(editor.view.viewport(), enter)  # the canvas passes files on to the window
    assert enter.isAccepted()
    QApplication.sendEvent(editor.window, QDropEvent(QPoint(300, 300), Qt.CopyAction, mime, Qt.LeftButton,
                                                     Qt.NoModifier))
    assert editor.current_path == str(path)
    assert editor.document.input_node().params["dataset"] == "Fashion-MNIST"


def test_recent_files_menu(editor, tmp_path):
    paths = []
    for key in ("lenet_cifar10", "vgg_cifar10"):
        paths.append(str(tmp_path / f"{key}.llnet"))
        save_network(load_template(key), paths[-1])
        editor.open_file(paths[-1])
    editor.recent_menu.aboutToShow.emit()
    names = [a.text() for a in editor.recent_menu.actions() if a.text()]
    assert names[:2] == ["vgg_cifar10.llnet", "lenet_cifar10.llnet"]
    editor.recent_menu.actions()[1].trigger()
    assert editor.current_path == paths[0]
    os.remove(paths[1])
    editor.recent_menu.aboutToShow.emit()
    editor.recent_menu.actions()[1].trigger()  # gone: says so and forgets it
    assert "no longer exists" in editor.errors[-1]
    assert editor.recent.paths() == [paths[0]]


def test_autosave_writes_and_removes_the_recovery_file(lenet, tmp_path):
    autosave = lenet.autosave
    assert autosave.timer.interval() == 60_000 and autosave.timer.isActive()
    assert not autosave.save_now() and not os.path.exists(autosave.path)  # nothing unsaved
    lenet.set_param("n2", "out_channels", 8)
    assert autosave.save_now() and os.path.exists(autosave.path)
    assert not autosave.save_now()  # nothing new since
    lenet.answers["save_path"] = str(tmp_path / "saved.llnet")
    lenet.save_file()
    assert not os.path.exists(autosave.path)


SESSION = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
sys.path.insert(0, {repo!r})
from gui.app import create_app
from gui.main_window import MainWindow
app = create_app()
window = MainWindow(recovery_dir={recovery!r})
window.new_from_template("lenet_cifar10")
"""


def run_session(tmp_path, actions, **values):
    """Run an editor session with the LeNet template in a new process: ``actions`` is Python that uses
    ``window``; returns the CompletedProcess. The session keeps to its own settings folder."""
    script = textwrap.dedent(SESSION + actions).format(repo=REPO, recovery=str(tmp_path / "recovery"), **values)
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}  # not the user's recent files
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=env)


CRASHING_ACTIONS = """
window.controller.set_params("n2", {{"out_channels": 7}})
window.controller.rename("n9", "hidden")
window.save_file({saved!r})
window.controller.set_params("n5", {{"out_channels": 12}})
window.autosave.save_now()
os._exit(3)  # a crash: no clean close
"""


def test_recovery_after_a_crash(editor, tmp_path):
    recovery, saved = str(tmp_path / "recovery"), str(tmp_path / "work.llnet")
    result = run_session(tmp_path, CRASHING_ACTIONS, saved=saved)
    assert result.returncode == 3, result.stderr
    (left,) = [f for f in os.listdir(recovery) if f.endswith(".llnet")]
    with open(os.path.join(recovery, left.replace(".llnet", ".json"))) as f:
        assert json.load(f)["original_path"] == saved
    editor.autosave.directory = recovery
    editor.answers["restore"] = True
    assert editor.offer_recovery()
    doc = editor.document
    assert doc.node("n2").params["out_channels"] == 7 and doc.node("n5").params["out_channels"] == 12
    assert doc.node("n9").name == "hidden"
    assert editor.current_path == saved and editor.isWindowModified()
    assert not os.path.exists(os.path.join(recovery, left))  # offered once
    assert not editor.offer_recovery()


def test_declined_recovery_is_discarded(editor, tmp_path):
    recovery = tmp_path / "recovery"
    recovery.mkdir()
    save_network(load_template("lenet_cifar10"), str(recovery / "recovery-999999999.llnet"))  # no such process
    editor.autosave.directory = str(recovery)
    editor.answers["restore"] = False
    assert not editor.offer_recovery()
    assert editor.document.nodes == {}
    assert os.listdir(recovery) == []


def test_quitting_with_nodes_on_the_clipboard_exits_cleanly(tmp_path):
    """PySide6 double-deletes a Python-made QMimeData still on the clipboard at exit (a segfault)."""
    result = run_session(tmp_path, 'window.controller.copy(["n2", "n3"])\n')
    assert result.returncode == 0, result.stderr
