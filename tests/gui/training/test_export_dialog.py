"""The export dialog writes every format of the export layer, with the given weights, and refuses a network
with errors, saying why."""

import os

import numpy as np
import pytest

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
        assert "Written" in dialog.status.text()
    for fmt in ("onnx", "pytorch", "engine"):
        written = dialog.export(fmt, str(tmp_path / f"x_{fmt}"))
        assert written and all(os.path.getsize(p) > 0 for p in written)


def test_a_network_with_errors_is_refused_with_the_reason(qtbot, fashion_doc, tmp_path):
    fc3 = fashion_doc.node_by_name("fc3")
    fashion_doc.set_params(fc3.id, {"out_features": 4})  # 4 scores for 10 classes
    dialog = ExportDialog(fashion_doc)
    qtbot.addWidget(dialog)
    assert not dialog.export_button.isEnabled()
    assert dialog.status.text().startswith("Cannot export") and "10 class scores" in dialog.status.text()
    assert dialog.export("safetensors", str(tmp_path / "w")) == [] and not os.listdir(tmp_path)


def test_untrained_weights_are_said_to_be_so(qtbot, fashion_doc, tmp_path):
    dialog = ExportDialog(fashion_doc)
    qtbot.addWidget(dialog)
    assert "freshly initialised" in dialog.weights.text()
    assert dialog.export("safetensors", "") == [] and "Choose a file" in dialog.status.text()
    written = dialog.export("safetensors", str(tmp_path / "fresh"))
    assert set(load_weights(written[0])) == set(fashion_doc.build().state_dict())
