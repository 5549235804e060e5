"""The runs list: a column for each setting that differs between the runs, the accuracies as the metrics hold
them, what changed in the document since each run (the tooltip lists it), damaged runs, ticks and selection."""

import numpy as np
import pytest
from PySide6.QtCore import Qt
from run_support import train_run as trained_run

from engine.graph import save_network
from engine.graph.templates import load_template
from engine.training.runs import list_runs
from gui.training.run_items import TRAILING_COLUMNS
from gui.training.runs_view import RunsView


def train_run(network, net_path, epochs=2, **settings):
    return trained_run(network, net_path, epochs, 0.625, **settings)


@pytest.fixture
def document():
    return load_template("lenet_cifar10")


@pytest.fixture
def net_path(tmp_path, document):
    path = tmp_path / "lenet.llnet"
    save_network(document, path)
    return path


@pytest.fixture
def make_view(qtbot, net_path, document):
    def make():
        view = RunsView(lambda: list_runs(net_path), lambda: document)
        qtbot.addWidget(view)
        view.refresh(str(net_path.parent))
        return view
    return make


def header(view):
    head = view.tree.headerItem()
    return [head.text(k) for k in range(view.tree.columnCount())]


def cells(view):
    """``{run name: {column label: item}}``."""
    labels = header(view)
    items = [view.tree.topLevelItem(k) for k in range(view.tree.topLevelItemCount())]
    return {item.text(0): {label: (item, k) for k, label in enumerate(labels)} for item in items}


def test_the_settings_that_differ_and_the_accuracies_of_the_metrics(document, net_path, make_view):
    slow = train_run(document, net_path, epochs=3, lr=0.001)
    fast = train_run(document, net_path, lr=0.5, batch_size=16)
    view = make_view()
    assert header(view) == ["Run", "Tags", "Status", "lr", "batch_size", "epochs", *TRAILING_COLUMNS]
    assert [view.tree.topLevelItem(k).text(0) for k in range(2)] == [fast.name, slow.name]  # newest first
    table = cells(view)
    for run, lr, batch, epochs in ((slow, "0.001", "4", "3"), (fast, "0.5", "16", "2")):
        row = {label: item.text(k) for label, (item, k) in table[run.name].items()}
        accuracy = run.metrics().epochs["val_accuracy"]
        best = int(np.argmax(accuracy))
        assert (row["Status"], row["lr"], row["batch_size"], row["epochs"]) == ("finished", lr, batch, epochs)
        assert row["Best val (epoch)"] == f"{100 * accuracy[best]:.2f}% ({best + 1})"
        assert row["Final val"] == f"{100 * accuracy[-1]:.2f}%"
        assert row["Test"] == "62.50%"
        assert row["Images/s"] != "—" and row["Time"] != "—"
    item, column = table[slow.name]["Changed"]
    assert item.text(column) == "epochs 3 → 2" and item.toolTip(column) == "epochs 3 → 2"
    item, column = table[fast.name]["Changed"]
    assert item.text(column) == "2 changes" and item.toolTip(column).splitlines() == ["lr 0.5 → 0.001",
                                                                                        "batch_size 16 → 4"]


def test_the_changed_tooltip_lists_what_was_edited_after_the_run(document, net_path, make_view):
    run = train_run(document, net_path)
    conv1 = document.node_by_name("conv1")
    document.set_params(conv1.id, {"out_channels": 8})
    view = make_view()
    assert header(view) == ["Run", "Tags", "Status", *TRAILING_COLUMNS]  # one run: no setting differs
    item, column = cells(view)[run.name]["Changed"]
    assert item.text(column) == "conv1: out_channels 6 → 8"
    assert item.toolTip(column) == "conv1: out_channels 6 → 8"
    document.set_settings({"lr": 0.01})
    view.refresh()
    item, column = cells(view)[run.name]["Changed"]
    assert item.text(column) == "2 changes"
    assert item.toolTip(column).splitlines() == ["conv1: out_channels 6 → 8", "lr 0.001 → 0.01"]

    document.set_params(conv1.id, {"out_channels": 6})
    document.set_settings({"lr": 0.001})
    view.refresh()
    item, column = cells(view)[run.name]["Changed"]
    assert item.text(column) == "no changes"


def test_a_damaged_run_shows_why_and_cannot_be_continued(document, net_path, make_view):
    good = train_run(document, net_path, epochs=1)
    bad = train_run(document, net_path, epochs=1, lr=0.3)
    with open(bad.metrics_path, "w") as f:
        f.write("epoch,oops\n1,2\n")
    view = make_view()
    table = cells(view)
    item, column = table[bad.name]["Status"]
    assert item.text(column) == "damaged" and bad.metrics_path in item.toolTip(column)
    assert table[good.name]["Status"][0].text(2) == "finished"
    assert "lr" not in header(view)  # a damaged run's settings are not known
    view.tree.setCurrentItem(item)
    assert view.selected_run().name == bad.name and not view.continue_button.isEnabled()
    assert not view.predict_button.isEnabled()
    view.tree.setCurrentItem(table[good.name]["Run"][0])
    assert view.continue_button.isEnabled()  # it has a checkpoint

    view.set_checked([good.name, bad.name])
    assert view.overlay.drawn == [[good.name], [good.name]]  # the damaged run's curves are not drawn


def test_ticks_and_the_selection_survive_a_refresh(document, net_path, make_view):
    first = train_run(document, net_path, epochs=1)
    second = train_run(document, net_path, epochs=1, lr=0.2)
    view = make_view()
    view.set_checked([first.name, second.name])
    assert sorted(view.overlay.drawn[1]) == sorted([first.name, second.name])
    assert len(view.overlay.plots[1][1].listDataItems()) == 2
    view.tree.setCurrentItem(cells(view)[first.name]["Run"][0])
    third = train_run(document, net_path, epochs=1, lr=0.3)
    view.refresh()
    assert view.tree.topLevelItem(0).text(0) == third.name
    assert view.selected_run().name == first.name and view.selected_row().name == first.name
    assert sorted(view.checked_names()) == sorted([first.name, second.name])
    assert view.tree.topLevelItem(0).checkState(0) == Qt.CheckState.Unchecked
