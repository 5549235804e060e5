"""The export dialog writes every format of the export layer, with the given weights and class names, and
refuses a network with errors, saying why; it suggests a file beside the document that follows the format,
asks before replacing files, and keeps its size and place after an export."""

import json
import os

import numpy as np
import onnx
import pytest
from PySide6.QtCore import QStandardPaths

from engine.graph.export import FORMATS, load_weights
from gui.training.export_dialog import ExportDialog


@pytest.fixture
def trained(fashion_doc):
    model = fashion_doc.build()
    return {k: v.numpy() + 0.5 for k, v in model.state_dict().items()}  # weights no fresh model has


def test_every_format_is_offered_and_weights_come_back(qtbot, fashion_doc, trained, tmp_path):
    dialog = ExportDialog(fashion_doc, trained, "run 1", str(tmp_path / "net.llnet"))
    qtbot.addWidget(dialog)
    assert dialog.formats.count() == len(FORMATS) and dialog.export_button.isEnabled()
    assert dialog.path.text() == str(tmp_path / "net.safetensors") and "run 1" in dialog.weights.text()
    dialog.formats.setCurrentRow(list(FORMATS).index("onnx"))
    assert dialog.path.text() == str(tmp_path / "net.onnx") and "ONNX" in dialog.description.text()

    for fmt in ("safetensors", "npz", "llw"):
        written = dialog.export(fmt, str(tmp_path / f"w_{fmt}"))
        assert written == [str(tmp_path / f"w_{fmt}{FORMATS[fmt].extension}")]
        loaded = load_weights(written[0])
        assert set(loaded) == set(trained)
        for key, value in trained.items():
            np.testing.assert_array_equal(np.asarray(loaded[key]), value)
        assert "Written" in dialog.status.full_text
    for fmt in ("onnx", "pytorch", "engine"):
        written = dialog.export(fmt, str(tmp_path / f"x_{fmt}"))
        assert written and all(os.path.getsize(p) > 0 for p in written)


def test_a_network_with_errors_is_refused_with_the_reason(qtbot, fashion_doc, tmp_path):
    fc3 = fashion_doc.node_by_name("fc3")
    fashion_doc.set_params(fc3.id, {"out_features": 4})  # 4 scores for 10 classes
    dialog = ExportDialog(fashion_doc)
    qtbot.addWidget(dialog)
    assert not dialog.export_button.isEnabled()
    assert dialog.status.full_text.startswith("Cannot export") and "10 class scores" in dialog.status.full_text
    assert dialog.export("safetensors", str(tmp_path / "w")) == [] and not os.listdir(tmp_path)


def test_untrained_weights_are_said_to_be_so(qtbot, fashion_doc, tmp_path):
    dialog = ExportDialog(fashion_doc)
    qtbot.addWidget(dialog)
    assert "freshly initialised" in dialog.weights.text()
    assert dialog.export("safetensors", "") == [] and "Choose a file" in dialog.status.full_text
    written = dialog.export("safetensors", str(tmp_path / "fresh"))
    assert set(load_weights(written[0])) == set(fashion_doc.build().state_dict())


def select(dialog, fmt):
    dialog.formats.setCurrentRow(list(FORMATS).index(fmt))
    return dialog.path.text()


def test_the_suggested_file_follows_the_format_and_keeps_a_typed_name(qtbot, fashion_doc, tmp_path):
    dialog = ExportDialog(fashion_doc, network_path=str(tmp_path / "shirts.llnet"))
    qtbot.addWidget(dialog)
    assert [select(dialog, f) for f in ("onnx", "pytorch", "engine", "npz")] == [
        str(tmp_path / name) for name in ("shirts.onnx", "shirts_pytorch.py", "shirts_engine.py", "shirts.npz")]
    dialog.path.setText(str(tmp_path / "mine.npz"))
    assert [select(dialog, f) for f in ("onnx", "pytorch", "llw")] == [
        str(tmp_path / name) for name in ("mine.onnx", "mine.py", "mine.llw")]
    dialog.path.setText(str(tmp_path / "v1.2"))  # no export extension: kept whole
    assert select(dialog, "onnx") == str(tmp_path / "v1.2.onnx")


@pytest.mark.parametrize("has_documents", [True, False])
def test_an_unsaved_network_is_exported_to_the_documents_folder_under_its_title(qtbot, fashion_doc, tmp_path,
                                                                                 monkeypatch, has_documents):
    monkeypatch.setenv("HOME", str(tmp_path))
    documents = tmp_path / "Documents"
    monkeypatch.setattr(QStandardPaths, "writableLocation", lambda location: str(documents))
    if has_documents:
        documents.mkdir()
    dialog = ExportDialog(fashion_doc)
    qtbot.addWidget(dialog)
    assert fashion_doc.title == "MLP (Fashion-MNIST)"
    folder = documents if has_documents else tmp_path
    assert dialog.path.text() == str(folder / "MLP_Fashion-MNIST.safetensors")


@pytest.mark.parametrize("answer", [False, True])
def test_existing_files_are_replaced_only_when_the_user_says_so(qtbot, fashion_doc, trained, tmp_path, answer):
    dialog = ExportDialog(fashion_doc, trained, "run 1", str(tmp_path / "net.llnet"))
    qtbot.addWidget(dialog)
    (tmp_path / "net_pytorch.safetensors").write_bytes(b"older weights")
    asked = []
    dialog.ask_overwrite = lambda paths: asked.append(paths) or answer
    written = dialog.export("pytorch", select(dialog, "pytorch"))
    assert asked == [[str(tmp_path / "net_pytorch.safetensors")]]
    if answer:
        assert written == [str(tmp_path / "net_pytorch.py"), str(tmp_path / "net_pytorch.safetensors")]
        assert set(load_weights(written[1])) == set(trained)
    else:
        assert written == [] and "kept the existing net_pytorch.safetensors" in dialog.status.full_text
        assert (tmp_path / "net_pytorch.safetensors").read_bytes() == b"older weights"
        assert not (tmp_path / "net_pytorch.py").exists()
    asked.clear()
    assert dialog.export("onnx", str(tmp_path / "fresh")) and asked == []  # nothing there: no question


def test_an_export_keeps_the_dialogs_size_and_place(qtbot, fashion_doc, trained, tmp_path):
    folder = tmp_path.joinpath(*["a_rather_long_folder_name"] * 6)
    folder.mkdir(parents=True)
    dialog = ExportDialog(fashion_doc, trained, "run 1", str(folder / "net.llnet"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    geometry = dialog.geometry()

    def assert_unmoved():
        qtbot.wait(50)
        assert dialog.geometry() == geometry
        for widget in (dialog.description, dialog.status):  # and nothing is squeezed to stay in it
            needed = widget.heightForWidth(widget.width()) if widget.hasHeightForWidth() else widget.sizeHint().height()
            assert widget.height() >= needed

    assert dialog.export("pytorch", select(dialog, "pytorch"))
    assert dialog.status.full_text.startswith("Written net_pytorch.py and net_pytorch.safetensors in ")
    assert_unmoved()
    fc3 = fashion_doc.node_by_name("fc3")
    fashion_doc.set_params(fc3.id, {"out_features": 4})  # fails on export with a multi-line message
    assert dialog.export("onnx", select(dialog, "onnx")) == []
    assert dialog.status.full_text.startswith("Export failed") and "\n" in dialog.status.toolTip()
    assert_unmoved()


def test_the_class_names_given_reach_the_exported_model(qtbot, fashion_doc, trained, tmp_path):
    classes = tuple(f"kind {k}" for k in range(10))
    dialog = ExportDialog(fashion_doc, trained, "run 1", str(tmp_path / "net.llnet"), classes)
    qtbot.addWidget(dialog)
    (path,) = dialog.export("onnx", select(dialog, "onnx"))
    metadata = {p.key: p.value for p in onnx.load(path).metadata_props}
    assert json.loads(metadata["class_names"]) == list(classes)
