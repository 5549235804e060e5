"""The Runs tab compares runs through its own controls: sorting by value from the header, titles, tags and notes
from the Notes… dialog, the trash, any metric on any alignment, runs that differ only in seed averaged, the
parallel-coordinates chart, and the HTML report."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from run_support import saved_network, train_run

from engine.training.health import HealthMonitor
from engine.training.run_compare import curve, health_layers, mean_spread
from engine.training.run_notes import load_notes
from engine.training.run_table import RunRow
from engine.training.runs import list_runs
from gui.training import runs_view as runs_view_module
from gui.training import style
from gui.training.run_notes_dialog import RunNotesDialog
from gui.training.runs_view import RunsView, run_matches

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


@pytest.fixture(scope="module")
def net_and_runs(tmp_path_factory):
    """Four runs: batch sizes 8, 16 and 4 (seed 0), and batch 8 again with seed 1."""
    folder = tmp_path_factory.mktemp("compare")
    document, path = saved_network(folder)
    runs = [train_run(document, path, epochs=2, batch_size=batch, seed=seed)
            for batch, seed in ((8, 0), (16, 0), (4, 0), (8, 1))]
    return document, path, runs


@pytest.fixture
def view(qtbot, net_and_runs):
    document, path, _runs = net_and_runs
    view = RunsView(lambda: list_runs(path), lambda: document)
    qtbot.addWidget(view)
    view.resize(1200, 700)
    view.show()
    view.refresh(str(path.parent))
    return view


def column(view, label):
    head = view.tree.headerItem()
    return next(k for k in range(view.tree.columnCount()) if head.text(k) == label)


def texts(view, label):
    k = column(view, label)
    return [view.tree.topLevelItem(i).text(k) for i in range(view.tree.topLevelItemCount())]


def click_header(qtbot, view, label):
    header = view.tree.header()
    k = column(view, label)
    point = QPoint(header.sectionViewportPosition(k) + header.sectionSize(k) // 2, header.height() // 2)
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_a_header_click_sorts_by_value_not_text(view, net_and_runs, qtbot):
    _document, _path, runs = net_and_runs
    assert texts(view, "Run") == [r.name for r in reversed(runs)]  # newest first
    click_header(qtbot, view, "batch_size")
    assert texts(view, "batch_size") == ["4", "8", "8", "16"]  # as numbers: "16" < "4" as text
    click_header(qtbot, view, "batch_size")
    assert texts(view, "batch_size") == ["16", "8", "8", "4"]


def test_a_missing_value_sorts_last_either_way(qtbot, tmp_path):
    document, path = saved_network(tmp_path)
    for accuracy in (0.25, None, 0.75):
        train_run(document, path, epochs=1, test_accuracy=accuracy)
    view = RunsView(lambda: list_runs(path), lambda: document)
    qtbot.addWidget(view)
    view.show()
    view.refresh(str(tmp_path))
    click_header(qtbot, view, "Test")
    assert texts(view, "Test") == ["25.00%", "75.00%", "—"]
    click_header(qtbot, view, "Test")
    assert texts(view, "Test") == ["75.00%", "25.00%", "—"]


def test_notes_from_the_dialog_give_the_title_tags_and_tooltip(qtbot, tmp_path):
    document, path = saved_network(tmp_path)
    runs = [train_run(document, path, epochs=1)]
    view = RunsView(lambda: list_runs(path), lambda: document)
    qtbot.addWidget(view)
    view.refresh(str(tmp_path))
    assert view.tree.isColumnHidden(column(view, "Tags"))  # no run has tags yet
    view.select(runs[0].name)
    view.buttons["notes"].click()
    dialog = view.findChild(RunNotesDialog)
    assert dialog is not None and dialog.isVisible()
    dialog.title.setText("small batches")
    dialog.tags.setText("keep, baseline")
    dialog.note.setPlainText("the first try")
    dialog.accept()
    notes = load_notes(runs[0].folder)
    assert (notes.title, notes.tags, notes.note) == ("small batches", ["keep", "baseline"], "the first try")
    item = view.item_of(runs[0].name)
    assert item.text(0) == "small batches" and item.text(column(view, "Tags")) == "keep baseline"
    assert not view.tree.isColumnHidden(column(view, "Tags")) and "the first try" in item.toolTip(0)
    assert view.selected_run().name == runs[0].name  # still selected after the refresh

    view.buttons["notes"].click()
    again = [d for d in view.findChildren(RunNotesDialog) if d.isVisible()][-1]
    again.tags.setText("two words!,")
    again.title.setText("line one\nline two")
    again.accept()
    assert again.isVisible() and "one line" in again.problem.text()  # refused, the dialog stays open
    again.reject()
    assert load_notes(runs[0].folder).title == "small batches"


def test_any_metric_on_any_alignment(view, net_and_runs):
    _document, _path, runs = net_and_runs
    view.set_checked([runs[0].name, runs[1].name])
    overlay = view.overlay
    overlay.set_metric(0, "lr")
    overlay.align_combo.setCurrentIndex(overlay.align_combo.findData("epoch"))
    drawn = dict(zip(overlay.drawn[0], overlay.curve_data(0)))
    assert set(drawn) == {runs[0].name, runs[1].name}
    expected = curve(runs[0], "lr", "epoch", smoothing=0.9)
    np.testing.assert_allclose(drawn[runs[0].name][0], expected.x)
    np.testing.assert_allclose(drawn[runs[0].name][1], expected.y)
    assert ">epoch<" in overlay.plots[0][1].getAxis("bottom").labelText

    overlay.set_metric(1, "train_accuracy")
    overlay.align_combo.setCurrentIndex(overlay.align_combo.findData("time"))
    x, y = dict(zip(overlay.drawn[1], overlay.curve_data(1)))[runs[1].name]
    np.testing.assert_allclose(x, np.cumsum(runs[1].metrics().epochs["seconds"]))
    np.testing.assert_allclose(y, 100 * runs[1].metrics().epochs["train_accuracy"])


def test_runs_differing_only_in_seed_are_averaged(view, net_and_runs):
    _document, _path, runs = net_and_runs
    view.set_checked([r.name for r in runs])
    overlay = view.overlay
    overlay.align_combo.setCurrentIndex(overlay.align_combo.findData("epoch"))
    assert len(overlay.drawn[1]) == 4
    overlay.seeds_box.setChecked(True)
    names = overlay.drawn[1]
    assert len(names) == 3 and f"{runs[0].name} + 1 seed (mean ± std)" in names
    x, mean = dict(zip(names, overlay.curve_data(1)))[f"{runs[0].name} + 1 seed (mean ± std)"]
    expected = mean_spread([curve(runs[0], "val_accuracy", "epoch"), curve(runs[3], "val_accuracy", "epoch")])
    np.testing.assert_allclose(x, expected[0])
    np.testing.assert_allclose(mean, 100 * expected[1])
    assert len(overlay.plots[1][1].items) > len(overlay.drawn[1])  # the band's bounds and fill are drawn too


def test_parallel_coordinates_show_the_ticked_runs(view, net_and_runs):
    _document, _path, runs = net_and_runs
    view.set_checked([r.name for r in runs])
    view.comparison.setCurrentIndex(1)
    chart = view.coordinates
    assert [row.name for row in chart.rows] == [r.name for r in runs]
    assert chart.settings == ["batch_size", "seed"]
    view.result_combo.setCurrentIndex(view.result_combo.findData("test_accuracy"))
    assert chart.metric_key == "test_accuracy"
    chart.runClicked.emit(runs[2].name)  # a click on its line
    assert view.selected_run().name == runs[2].name
    view.set_checked([])
    assert chart.rows == []


def test_the_report_holds_the_ticked_runs(view, net_and_runs, tmp_path, monkeypatch):
    _document, _path, runs = net_and_runs
    view.set_checked([runs[0].name, runs[2].name])
    target = tmp_path / "report.html"
    monkeypatch.setattr(view, "ask_report_path", lambda: str(target))
    view.buttons["report"].click()
    text = target.read_text()
    assert f"<td>{runs[0].name}</td>" in text and f"<td>{runs[2].name}</td>" in text
    assert f"<td>{runs[1].name}</td>" not in text
    assert "data:image/png;base64," in text


def test_trash_moves_the_selected_run_and_refreshes(qtbot, tmp_path, monkeypatch):
    document, path = saved_network(tmp_path)
    keep, doomed = (train_run(document, path, epochs=1, lr=lr) for lr in (0.01, 0.1))
    view = RunsView(lambda: list_runs(path), lambda: document, is_live=lambda folder: folder == keep.folder)
    qtbot.addWidget(view)
    view.refresh(str(tmp_path))
    view.select(keep.name)
    assert not view.buttons["trash"].isEnabled()  # this window is training in it

    def trash_elsewhere(folder):  # the real trash, in a process whose trash is in the test's folder
        code = "import sys; from engine.training.run_notes import trash_run; trash_run(sys.argv[1])"
        subprocess.run([sys.executable, "-c", code, folder], cwd=REPO, check=True,
                       env={**os.environ, "XDG_DATA_HOME": str(tmp_path / "data")})

    monkeypatch.setattr(runs_view_module, "trash_run", trash_elsewhere)
    asked = []
    monkeypatch.setattr(view, "confirm_trash", lambda run, running: asked.append((run.name, running)) or True)
    view.select(doomed.name)
    view.buttons["trash"].click()
    assert asked == [(doomed.name, False)]
    assert [r.name for r in view.runs] == [keep.name] and not os.path.exists(doomed.folder)
    assert (tmp_path / "data" / "Trash" / "files" / doomed.name / "run.json").is_file()


def test_reopening_a_run_restores_its_network_and_settings_undoably(workbench_window, tmp_path):
    window, panel = workbench_window, workbench_window.training_panel
    document, path = saved_network(tmp_path)
    run = train_run(document, path, epochs=1, lr=0.05, batch_size=16)
    assert window.open_file(str(path))
    conv1 = window.document.node_by_name("conv1").id
    assert window.controller.set_settings({"lr": 0.2}) is None
    assert window.controller.set_params(conv1, {"out_channels": 8}) is None
    panel.tabs.setCurrentWidget(panel.runs_view)
    view = panel.runs_view
    view.select(run.name)
    assert view.item_of(run.name).text(view.tree.columnCount() - 1) == "4 changes"  # lr, batch size, epochs and conv1
    view.buttons["restore"].click()
    assert window.document.settings["lr"] == 0.05 and window.document.settings["batch_size"] == 16
    assert window.document.nodes[conv1].params["out_channels"] == 6
    assert view.selected_run().name == run.name and view.continue_button.isEnabled()
    assert view.item_of(run.name).text(view.tree.columnCount() - 1) == "no changes"
    assert window.isWindowModified()
    window.undo_action.trigger()
    assert window.document.settings["lr"] == 0.2 and window.document.nodes[conv1].params["out_channels"] == 8
    window.redo_action.trigger()
    assert window.document.settings["lr"] == 0.05 and window.document.nodes[conv1].params["out_channels"] == 6


def test_a_health_measure_of_one_layer_or_the_median(qtbot, tmp_path):
    document, path = saved_network(tmp_path)
    run = train_run(document, path, epochs=2, health=HealthMonitor(every=1))
    view = RunsView(lambda: list_runs(path), lambda: document)
    qtbot.addWidget(view)
    view.refresh(str(tmp_path))
    view.set_checked([run.name])
    overlay = view.overlay
    assert overlay.layer_combo.isHidden()  # loss and accuracy: no layer to choose
    overlay.set_metric(0, "health:grad_norm")
    assert not overlay.layer_combo.isHidden()
    layers = [overlay.layer_combo.itemText(k) for k in range(1, overlay.layer_combo.count())]
    assert layers == health_layers(run) and len(layers) >= 2
    assert overlay.is_log(0)  # gradient norms span decades
    (_x, y), = overlay.curve_data(0)
    np.testing.assert_allclose(10 ** y, curve(run, "health:grad_norm").y, rtol=1e-6)
    overlay.layer_combo.setCurrentIndex(3)
    (_x, y), = overlay.curve_data(0)
    np.testing.assert_allclose(10 ** y, curve(run, "health:grad_norm", layer=layers[2]).y, rtol=1e-6)
    assert layers[2] in overlay.plots[0][1].titleLabel.text
    overlay.layer_combo.setCurrentIndex(2)  # the ReLU: no weights, no gradient norm
    assert overlay.curve_data(0) == [] and f"{run.name}: no gradient norm" in overlay.problems.text()


def test_the_filter_and_the_colour_key(view, net_and_runs):
    _document, _path, runs = net_and_runs
    view.filter_edit.setText("batch_size=16")
    assert [item.run.name for item in view._items() if not item.isHidden()] == [runs[1].name]
    view.filter_edit.setText("FINISHED batch_size=8 seed=1")
    assert [item.run.name for item in view._items() if not item.isHidden()] == [runs[3].name]
    # a name no other run's contains (runs made in the same second are named "...-220629" and "...-220629-2")
    named = next(run for run in runs[2:] + runs[:2] if sum(run.name in other.name for other in runs) == 1)
    view.filter_edit.setText(named.name)
    assert [item.run.name for item in view._items() if not item.isHidden()] == [named.name]
    view.refresh()
    assert [item.run.name for item in view._items() if not item.isHidden()] == [named.name]  # kept
    view.filter_edit.clear()
    assert not any(item.isHidden() for item in view._items())
    view.set_checked([runs[1].name])
    item = view.item_of(runs[1].name)
    assert item.data(0, Qt.ItemDataRole.DecorationRole).name() == style.layer_color(1)
    assert view.item_of(runs[0].name).data(0, Qt.ItemDataRole.DecorationRole) is None


def test_a_filter_word_matches_a_title_tag_note_or_setting():
    row = RunRow("20261206-101010", "/runs/x", "finished", title="Baseline", tags=["keep"], note="Try AdamW next",
                 settings={"lr": 0.01, "optimizer": "SGD"})
    assert all(run_matches(row, word) for word in ("baseline", "KEEP", "adamw", "1010", "finish", "lr=0.01",
                                                  "optimizer=SGD"))
    assert not any(run_matches(row, word) for word in ("lr=0.1", "optimizer=sgd", "momentum=0.9", "failed"))
