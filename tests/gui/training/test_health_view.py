"""Network health in the window: the nodes' health strips (a learning rate of 10 turns the update ratio red at
the first step, before the loss diverges), the Health tab's table and distributions, a finished run's health
read back from its folder, and the mapping from layers to nodes."""

import csv
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from engine.graph import save_network
from engine.graph.templates import load_template
from engine.training.health import HealthRecord, Histogram
from engine.training.health_measures import BAD, KEYS
from engine.training.runs import RunFileError, load_run
from gui.training.health_badges import layer_nodes, node_badges
from gui.training.health_history import HealthHistory

needs_fashion_mnist = pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").is_dir(),
                                         reason="Debian's dataset-fashion-mnist package is not installed")


@pytest.fixture
def window(workbench_window):
    return workbench_window


def open_mlp(window, tmp_path, **settings):
    network = load_template("mlp_fashion_mnist")
    network.set_settings({"train_limit": 512, "epochs": 1, "batch_size": 32, "health_every": 1, **settings})
    path = tmp_path / "mlp.llnet"
    save_network(network, path)
    assert window.open_file(str(path))
    return path


def strip_of(window, name):
    node = next(n for n in window.document.nodes.values() if n.name == name)
    return window.scene.node_items[node.id].health


@needs_fashion_mnist
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # NumPy's overflow warnings on the way to NaN
def test_a_learning_rate_of_10_turns_the_update_ratio_red_before_the_loss_diverges(window, qtbot, tmp_path):
    open_mlp(window, tmp_path, lr=10.0, momentum=0.9)
    panel = window.training_panel
    c = panel.controller
    panel.start_action.trigger()
    panel.pause_action.trigger()
    qtbot.waitUntil(lambda: c.run_start is not None and c.worker.setup.trainer.status == "paused", timeout=20000)
    panel.step_action.trigger()
    qtbot.waitUntil(lambda: len(c.health) == 1 and len(c.history) == 1, timeout=10000)
    qtbot.waitUntil(lambda: strip_of(window, "fc1").isVisible())
    first_loss = float(c.history.column("loss")[0])
    assert np.isfinite(first_loss) and first_loss < 3.0  # the loss has not diverged yet
    badge = strip_of(window, "fc1").badge
    assert badge.level == BAD and badge.text.startswith("Δw/w ")
    assert "update ratio of 'fc1' at step 1" in badge.tooltip and "Lower the learning rate" in badge.tooltip
    assert strip_of(window, "fc1").toolTip() == badge.tooltip
    panel.resume_action.trigger()
    qtbot.waitUntil(lambda: not c.busy, timeout=30000)
    losses = c.history.column("loss")
    assert not np.all(losses[np.isfinite(losses)] < 3 * first_loss) or c.last_end.status == "failed"


@needs_fashion_mnist
def test_the_health_tab_shows_the_layers_their_levels_and_distributions(window, qtbot, tmp_path):
    open_mlp(window, tmp_path, lr=0.05)
    panel = window.training_panel
    c = panel.controller
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: not c.busy, timeout=30000)
    records = len(c.health)  # every step, or fewer within the time budget
    assert c.last_end.status == "finished" and records >= 2 and c.health.steps.column(0)[0] == 1
    view = panel.health_view
    panel.tabs.setCurrentWidget(view)
    layers = list(c.health.layers)
    assert view.table.rowCount() == len(layers) and "fc1" in layers
    assert [view.table.horizontalHeaderItem(k).text() for k in range(len(KEYS))][:2] == ["Δw/w", "‖grad‖"]
    row = layers.index("fc1")
    assert view.table.item(row, KEYS.index("update_ratio")).text() != ""
    assert "does not apply" in view.table.item(layers.index("relu1"), KEYS.index("grad_norm")).toolTip()
    assert f"Step {int(c.health.steps.column(0)[-1])}:" in view.status.text()

    selected = []
    panel.layerActivated.connect(selected.append)
    rect = view.table.visualItemRect(view.table.item(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.LeftButton, pos=rect.center())
    assert selected[-1] == "fc1" and view.selected_layer == "fc1"
    assert [n.name for n in map(window.document.nodes.get, window.scene.selected_node_ids())] == ["fc1"]
    image = view.image.image
    assert image is not None and image.shape == (64, records)  # the value grid × the sampled steps
    view.kind.setCurrentIndex(view.kind.findData("weights"))
    assert view.image.image.shape == (64, records)

    view.measure.setCurrentIndex(view.measure.findData("act_std"))  # every node has an activation std
    badges = [strip_of(window, n.name).badge for n in window.document.nodes.values()
              if n.layer_type.module is not None]
    assert all(b.text.startswith("std ") or b.level > 0 for b in badges)  # a measure out of its band goes first
    assert any(b.text.startswith("std ") for b in badges)


@needs_fashion_mnist
def test_a_finished_run_shows_its_health_from_the_run_folder(window, qtbot, tmp_path):
    path = open_mlp(window, tmp_path, lr=0.05)
    panel = window.training_panel
    panel.start_action.trigger()
    qtbot.waitUntil(lambda: not panel.controller.busy, timeout=30000)
    run = load_run(panel.controller.run.folder)
    live, records = panel.controller.health.matrix().copy(), len(panel.controller.health)
    window.open_file(str(path))  # opened again: the panel shows the last run from its folder
    qtbot.waitUntil(lambda: len(panel.controller.health) == records)
    assert np.allclose(panel.controller.health.matrix(), live, rtol=1e-5, equal_nan=True)
    assert strip_of(window, "fc1").isVisible()
    with open(run.health_path, "a") as f:
        f.write("17,1,fc1,not-a-number\n")
    with pytest.raises(RunFileError, match=r"health.csv: line \d+ has 4 values, expected"):
        HealthHistory().load_csv(run.health_path)


def test_layers_map_to_their_nodes_and_the_worst_measure_is_shown():
    network = load_template("lenet_cifar10")
    ids = {n.name: n.id for n in network.nodes.values()}
    found = layer_nodes(network, ("conv1", "conv1_r2", "fc1.inner", "nowhere", "relu1"))
    assert found == {"conv1": ids["conv1"], "conv1_r2": ids["conv1"], "fc1.inner": ids["fc1"], "relu1": ids["relu1"]}
    values = np.full((2, len(KEYS)), np.nan)
    values[0, KEYS.index("update_ratio")] = 1e-3  # fine
    values[0, KEYS.index("act_std")] = 5000.0  # red: shown in place of the chosen measure
    values[1, KEYS.index("dead_fraction")] = 0.0
    history = HealthHistory()
    history.add(HealthRecord(7, 0, ("conv1", "relu1"), values))
    badges = node_badges(network, history, "update_ratio")
    assert badges[ids["conv1"]].text == "std 5e3" and badges[ids["conv1"]].level == BAD
    lines = badges[ids["conv1"]].tooltip.splitlines()
    assert lines[0] == "activation std of 'conv1' at step 7: 5e3 (problem)" and "exploding" in lines[2]
    assert "update ratio" not in badges[ids["conv1"]].tooltip  # within its band: not listed
    assert badges[ids["relu1"]].text == "dead 0%" and badges[ids["relu1"]].level == 0
    assert set(badges) == {ids["conv1"], ids["relu1"]}


def test_histograms_share_one_value_grid():
    history = HealthHistory()
    values = np.zeros((1, len(KEYS)))
    for step, (low, high) in enumerate(((0.0, 1.0), (1.0, 3.0)), 1):
        counts = np.zeros(48, np.float32)
        counts[:] = 1.0
        history.add(HealthRecord(step, 0, ("a",), values, {("a", "weights"): Histogram(low, high, counts)}))
    image, steps, low, high = history.histogram_image("a", "weights", rows=6)
    assert (low, high) == (0.0, 3.0) and list(steps) == [1, 2]
    assert np.allclose(image.sum(1), 1.0)
    assert np.allclose(image[0], [0.5, 0.5, 0, 0, 0, 0], atol=1e-6)
    assert np.allclose(image[1], [0, 0, 0.25, 0.25, 0.25, 0.25], atol=1e-6)


def test_a_missing_health_log_leaves_the_history_empty(tmp_path):
    history = HealthHistory()
    history.load_csv(tmp_path / "health.csv")
    assert len(history) == 0
    with open(tmp_path / "health.csv", "w", newline="") as f:
        csv.writer(f).writerow(["step", "epoch", "layer", *KEYS])
    history.load_csv(tmp_path / "health.csv")
    assert len(history) == 0


def record(layers, step=1, **values):
    """A HealthRecord of ``layers`` whose measures are NaN except ``values``: {measure: [value per layer]}."""
    matrix = np.full((len(layers), len(KEYS)), np.nan)
    for key, column in values.items():
        matrix[:, KEYS.index(key)] = column
    return HealthRecord(step, 0, tuple(layers), matrix)


def test_the_table_follows_the_layers_and_leaves_the_editor_selection_alone(window, qtbot):
    panel = window.training_panel
    panel.tabs.setCurrentWidget(panel.health_view)
    view, health = panel.health_view, panel.controller.health
    activated = []
    panel.layerActivated.connect(activated.append)
    health.add(record(("conv1", "relu1"), update_ratio=[1e-3, np.nan]))
    panel._show_health()
    assert [view.table.verticalHeaderItem(r).text() for r in range(2)] == ["conv1", "relu1"]
    assert view.selected_layer == "conv1" and activated == []  # selected for the chart, not for the editor
    health.reset()
    health.add(record(("fc1", "fc2"), update_ratio=[0.5, 1e-3]))  # as many layers, other names
    panel._show_health()
    assert [view.table.verticalHeaderItem(r).text() for r in range(2)] == ["fc1", "fc2"]
    assert view.table.item(0, KEYS.index("update_ratio")).font().bold()  # red
    view.select_layer("fc2")
    assert view.selected_layer == "fc2" and activated == []


def test_a_collapsed_group_shows_its_worst_member_and_a_new_document_clears_the_graph(window, qtbot, tmp_path):
    network = load_template("resnet_cifar10")  # opens as collapsed stages
    path = tmp_path / "resnet.llnet"
    save_network(network, path)
    assert window.open_file(str(path))
    document, panel = window.document, window.training_panel
    group = next(g for g in document.groups.values() if g.collapsed)
    members = [document.nodes[m].name for m in group.members]
    panel.controller.health.add(record(members, update_ratio=[1e-3] * (len(members) - 1) + [0.5]))
    panel._show_health()
    box = window.scene.group_items[group.id].health
    assert box.isVisible() and box.badge.level == BAD and members[-1] in box.badge.tooltip
    window.open_file(str(path))  # another document (the same file again): the old run's health goes
    qtbot.waitUntil(lambda: not any(item.health.isVisible() for item in window.scene.node_items.values()))
    assert not any(item.health.isVisible() for item in window.scene.group_items.values())
