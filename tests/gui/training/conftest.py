"""Fixtures for the training panel tests: a small Fashion-MNIST run (Debian's copy, no download), run
folders in the test's tmp_path, and panels that are always shut down, leaving no training thread."""

import pytest
from panel_support import Slow, training_threads

from engine.graph.templates import load_template


@pytest.fixture(autouse=True)
def runs_dir(tmp_path, monkeypatch):
    """Runs of unsaved networks go to $LAYERLAB_RUNS: keep them in the test's folder."""
    folder = tmp_path / "runs"
    monkeypatch.setenv("LAYERLAB_RUNS", str(folder))
    return folder


@pytest.fixture
def fashion_doc():
    """The MLP template on 512 Fashion-MNIST images, batch 32: 16 steps an epoch, 2 epochs."""
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"train_limit": 512, "epochs": 2, "batch_size": 32})
    return network


@pytest.fixture
def make_panel(qtbot):
    """``make_panel(document, path=None, slow=None)``: a shown TrainingPanel; ``slow`` seconds per step."""
    from gui.training import TrainingPanel

    panels = []

    def make(document, path=None, slow=None):
        panel = TrainingPanel(document, lambda: path)
        qtbot.addWidget(panel)
        panel.resize(1400, 820)
        panel.show()
        if slow:
            panel.controller.extra_callbacks = (Slow(slow),)
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        panel.shutdown()
    assert not training_threads()
