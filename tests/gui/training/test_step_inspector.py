"""The step inspector in the window: open it, pause and step a run, click a connection, see the output and the
gradient of its source layer with feature maps; click a convolution, see its filters; close it and nothing is
recorded or kept."""


import numpy as np
import pytest
from panel_support import make_cifar
from PySide6.QtCore import Qt

from engine.graph import save_network
from engine.graph.templates import load_template
from gui.training.step_inspector import GAP, filter_tiles, mosaic


@pytest.fixture
def window(workbench_window):
    return workbench_window


def open_lenet(window, tmp_path):
    network = load_template("lenet_cifar10")
    network.set_settings({"data_dir": str(make_cifar(tmp_path / "data")), "batch_size": 8, "epochs": 1,
                          "val_split": 0.0})
    path = tmp_path / "lenet.llnet"
    save_network(network, path)
    assert window.open_file(str(path))


def node_id(window, name):
    return next(n.id for n in window.document.nodes.values() if n.name == name)


def test_pause_step_click_a_connection_and_a_convolution(window, qtbot, tmp_path):
    open_lenet(window, tmp_path)
    panel = window.training_panel
    c = panel.controller
    inspector = panel.open_step_inspector()
    assert "Open while training" in inspector.heading.text() and c.capturing
    panel.start_action.trigger()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=20000)
    assert c.worker.capture.armed
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: inspector.snapshot is not None, timeout=10000)
    assert inspector.snapshot.step == 1 and "click a connection" in inspector.heading.text()

    conv1, relu1 = node_id(window, "conv1"), node_id(window, "relu1")
    edge_item = next(item for edge, item in window.scene.edge_items.items() if (edge.src, edge.dst) == (conv1, relu1))
    window.view.centerOn(edge_item)
    qtbot.wait(50)
    middle = edge_item.path().pointAtPercent(0.5)
    qtbot.mouseClick(window.view.viewport(), Qt.LeftButton, pos=window.view.mapFromScene(edge_item.mapToScene(middle)))
    assert window.scene.selected_edges() == [edge_item.edge]
    assert "<b>conv1</b> at step 1" in inspector.heading.text()
    assert "[8×6×28×28]" in inspector.forward.stats.text() and "mean" in inspector.gradient.stats.text()
    maps = inspector.forward.maps.image
    assert maps.shape == (2 * 28 + GAP, 3 * 28 + 2 * GAP)  # six channels of one sample, three to a row
    assert not inspector.filters_box.isVisible()  # a connection shows tensors, not filters

    window.select_node(conv1)
    assert inspector.filters_box.isVisible() and "6 × 5×5 (RGB)" in inspector.filters_label.text()
    assert inspector.filters.image.shape[-1] == 3
    window.select_node(node_id(window, "conv2"))
    assert inspector.channel.isVisible() and "input channel 0" in inspector.filters_label.text()

    inspector.close()
    assert not c.capturing and not c.worker.capture.armed and inspector.snapshot is None
    panel.resume_action.trigger()
    qtbot.waitUntil(lambda: not c.busy, timeout=30000)
    assert c.worker.capture.latest is None  # closed: nothing recorded


def test_mosaics_scale_each_tile_and_show_filters_in_colour():
    maps = np.stack([np.zeros((2, 2)), np.arange(4.0).reshape(2, 2), np.full((2, 2), 7.0)])
    image = mosaic(maps)
    assert image.shape == (2 * 2 + GAP, 2 * 2 + GAP)
    assert np.allclose(image[:2, :2], 0.5) and np.allclose(image[:2, 3:], [[0, 1 / 3], [2 / 3, 1]])
    assert np.isnan(image[2]).all() and np.isnan(image[3:, 3:]).all()  # the gap and the missing fourth tile
    weight = np.random.default_rng(0).standard_normal((4, 3, 5, 5))
    assert filter_tiles(weight, 0).shape == (4, 5, 5, 3)
    weight = np.random.default_rng(0).standard_normal((4, 6, 5, 5))
    assert np.array_equal(filter_tiles(weight, 2), weight[:, 2].astype(np.float32))
