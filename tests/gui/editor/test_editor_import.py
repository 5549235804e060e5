"""File ▸ Import Model…: an ONNX file becomes a saved network with its weights as the run 'imported', opened in
the window; a file that cannot be imported is shown and changes nothing; a cancelled save writes nothing."""

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from engine.graph.export import export_network
from engine.graph.templates import load_template
from engine.training import load_run
from gui.class_import_dialog import ClassImportDialog, module_classes
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
    assert len(lenet.document.nodes) == 40 and len(lenet.scene.node_items) == 40
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


MODEL_SOURCE = '''
raise SystemExit("listing the classes must not run the file")
'''

CLASS_SOURCE = '''
import torch
from torch import nn


class Tiny(nn.Module):
    def __init__(self, width=4):
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3, padding=1)
        self.fc = nn.Linear(width * 8 * 8, 10)

    def forward(self, x):
        return self.fc(torch.flatten(torch.relu(self.conv(x)), 1))
'''


def test_the_class_dialog_lists_classes_without_running_the_file(qtbot, tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL_SOURCE + CLASS_SOURCE.replace("import torch\n", ""))
    dialog = ClassImportDialog(None, str(path))
    qtbot.addWidget(dialog)
    assert [dialog.classes.itemText(k) for k in range(dialog.classes.count())] == ["Tiny"]
    dialog.arguments.setText('{"width": 2}')
    assert dialog.values() == (f"{path}:Tiny", {"width": 2}, (3, 32, 32), None)
    dialog.arguments.setText("[2]")
    dialog._accept()
    assert "must be a JSON object" in dialog.message.text() and dialog.choice is None
    architectures = ClassImportDialog(None, None)
    qtbot.addWidget(architectures)
    assert "resnet18" in [architectures.classes.itemText(k) for k in range(architectures.classes.count())]


def test_a_python_model_class_imports_from_the_file_menu(lenet, tmp_path):
    path = tmp_path / "tiny.py"
    path.write_text(CLASS_SOURCE)
    lenet.window.ask_import_path = lambda: str(path)
    lenet.window.ask_model_class = lambda file: (f"{file}:Tiny", {"width": 2}, (3, 8, 8), None)
    offered = []
    lenet.window.ask_import_save_path = lambda default: offered.append(default) or default
    lenet.import_action.trigger()
    assert not lenet.errors, lenet.errors
    assert offered == [str(tmp_path / "Tiny.llnet")] and lenet.current_path == str(tmp_path / "Tiny.llnet")
    assert [n.type for n in lenet.document.nodes.values()] == ["Input", "Conv2d", "ReLU", "Flatten", "Linear",
                                                               "Output"]
    assert "agreeing with the model itself" in lenet.statusBar().currentMessage()


def test_a_known_architecture_imports(lenet, tmp_path):
    lenet.window.ask_model_class = lambda file: ("vision:resnet18", {"num_classes": 10}, (3, 32, 32), None)
    answer_import(lenet, str(tmp_path / "r18.llnet"))
    lenet.import_architecture_action.trigger()
    assert not lenet.errors, lenet.errors
    assert sum(n.type == "Conv2d" for n in lenet.document.nodes.values()) == 20


def test_a_class_that_cannot_be_traced_is_shown(lenet, tmp_path):
    path = tmp_path / "odd.py"
    path.write_text(CLASS_SOURCE.replace("torch.relu(", "torch.sin("))
    lenet.window.ask_model_class = lambda file: (f"{file}:Tiny", {}, (3, 8, 8), None)
    answer_import(lenet, str(tmp_path / "odd.llnet"))
    nodes = dict(lenet.document.nodes)
    assert import_model(lenet.window, str(path)) is None
    assert lenet.errors and "cannot trace" in lenet.errors[0]
    assert lenet.document.nodes == nodes and not (tmp_path / "odd.llnet").exists()


def test_subclasses_of_the_files_own_modules_are_listed(tmp_path):
    path = tmp_path / "nets.py"
    path.write_text("from torch import nn\n\nclass Small(nn.Module):\n    pass\n\nclass Big(Small):\n    pass\n\n"
                    "class Helper:\n    pass\n")
    assert module_classes(str(path)) == ["Small", "Big"]
