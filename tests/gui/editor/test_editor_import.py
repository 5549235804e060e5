"""File ▸ Import Model…: an ONNX file becomes a saved network with its weights as the run 'imported', opened in
the window; a file that cannot be imported is shown and changes nothing; a cancelled save writes nothing."""

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.graph.export import export_network
from engine.graph.templates import load_template
from engine.training import load_run
from gui.model_import import import_model

pytest.importorskip("onnxruntime")


@pytest.fixture
def onnx_file(tmp_path):
    network = load_template("resnet_cifar10")
    (path,) = export_network(network, network.build().state_dict(), "onnx", tmp_path / "resnet.onnx")
    return path


def answer_import(editor, save_as, replace=True):
    editor.window.ask_import_save_path = lambda default: save_as
    editor.window.ask_replace_imported_run = lambda folder: replace


def test_import_saves_opens_and_keeps_the_weights_as_a_run(lenet, onnx_file, tmp_path):
    answer_import(lenet, str(tmp_path / "mine.llnet"))
    lenet.window.ask_import_path = lambda: str(onnx_file)
    lenet.import_action.trigger()
    assert not lenet.errors
    assert lenet.current_path == str(tmp_path / "mine.llnet")
    assert lenet.document.title == "ResNet (CIFAR-10)"
    assert len(lenet.document.nodes) == 33 and len(lenet.scene.node_items) == 33
    assert load_run(tmp_path / "mine.runs" / "imported").status == "finished"
    assert "agreeing with onnxruntime" in lenet.statusBar().currentMessage()


def test_the_default_save_path_is_beside_the_model_and_a_cancel_writes_nothing(lenet, onnx_file, tmp_path):
    offered = []
    lenet.window.ask_import_save_path = lambda default: offered.append(default)
    lenet.window.ask_import_path = lambda: str(onnx_file)
    before = lenet.document.title
    lenet.import_action.trigger()
    assert offered == [str(tmp_path / "resnet.llnet")]
    assert lenet.document.title == before and not (tmp_path / "resnet.runs").exists()


def test_a_bad_file_is_shown_and_changes_nothing(lenet, tmp_path):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"nothing useful")
    answer_import(lenet, str(tmp_path / "bad.llnet"))
    lenet.window.ask_import_path = lambda: str(bad)
    nodes = dict(lenet.document.nodes)
    lenet.import_action.trigger()
    assert lenet.errors and lenet.errors[0].startswith(f"{bad}: not an ONNX model")
    assert lenet.document.nodes == nodes and not (tmp_path / "bad.llnet").exists()


def test_an_earlier_import_is_replaced_only_when_the_user_agrees(lenet, onnx_file, tmp_path):
    answer_import(lenet, str(tmp_path / "net.llnet"))
    lenet.window.ask_import_path = lambda: str(onnx_file)
    lenet.import_action.trigger()
    record = tmp_path / "net.runs" / "imported" / "run.json"
    stamp = record.stat().st_mtime_ns
    answer_import(lenet, str(tmp_path / "net.llnet"), replace=False)
    assert import_model(lenet.window, str(onnx_file)) is None
    assert record.stat().st_mtime_ns == stamp


def test_dropping_an_onnx_file_imports_it(lenet, onnx_file, tmp_path):
    answer_import(lenet, str(tmp_path / "dropped.llnet"))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(onnx_file))])
    event = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    lenet.window.dropEvent(event)
    assert lenet.current_path == str(tmp_path / "dropped.llnet")
