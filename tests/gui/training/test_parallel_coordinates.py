"""Parallel coordinates of runs: which scale each axis gets and where values sit on it, the ticks it labels; the
chart draws a line per run through those positions, coloured along viridis by the metric (grey and dashed
without one), highlights the run clicked or named, follows the theme and invites runs when it has none."""

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from engine.training.run_table import RunRow
from gui import theme
from gui.training.coordinate_axes import CATEGORY, LINEAR, LOG, axis_for, format_number
from gui.training.parallel_coordinates import (
    NO_METRIC_COLOR,
    NO_RUNS_TEXT,
    SAME_SETTINGS_TEXT,
    ParallelCoordinates,
    polyline_distance,
)

# ----- the axes -----


@pytest.mark.parametrize(("values", "kind"), [
    ([1e-4, 1e-3, 1e-2], LOG),  # a factor 100
    ([0.01, 0.1, None], LINEAR),  # a factor 10
    ([32, 64, 128, 256], LINEAR),  # a factor 8
    ([0.0, 0.001, 0.1], LINEAR),  # zero has no logarithm
    ([-1.0, 5.0, 1000.0], LINEAR),
    (["sgd", "adam"], CATEGORY),
    ([True, False], CATEGORY),
    ([1, "auto"], CATEGORY),
    ([None, float("nan")], CATEGORY),  # nothing known: an empty axis
])
def test_the_scale_of_an_axis_follows_its_values(values, kind):
    assert axis_for("x", values).kind == kind


def test_a_percent_axis_is_linear_however_wide_its_range():
    assert axis_for("acc", [0.01, 0.9], percent=True).kind == LINEAR


def test_positions_on_a_log_axis_are_even_in_the_exponent():
    axis = axis_for("lr", [1e-4, 1e-2, 1e-3])
    assert [axis.position(v) for v in (1e-4, 1e-3, 1e-2)] == pytest.approx([0.0, 0.5, 1.0])
    assert axis.position(10 ** -3.5) == pytest.approx(0.25)


def test_positions_on_a_linear_axis_are_even_in_the_value():
    axis = axis_for("batch_size", [32, 128, 64])
    assert [axis.position(v) for v in (32, 64, 128)] == pytest.approx([0.0, 1 / 3, 1.0])


def test_categories_are_sorted_when_they_sort_else_in_the_order_seen():
    optimizer = axis_for("optimizer", ["sgd", "adam", "sgd", "adamw"])
    assert optimizer.categories == ("adam", "adamw", "sgd")
    assert [optimizer.position(v) for v in ("adam", "adamw", "sgd")] == [0.0, 0.5, 1.0]
    mixed = axis_for("m", ["auto", 3, True])
    assert mixed.categories == ("auto", 3, True)
    assert (mixed.position(3), mixed.position(True)) == (0.5, 1.0)
    assert math.isnan(mixed.position(1))  # True is a category of its own, not the number 1
    assert axis_for("flag", [True, False]).categories == (False, True)


@pytest.mark.parametrize("missing", [None, float("nan"), float("inf")])
def test_a_missing_value_has_no_position(missing):
    for axis in (axis_for("lr", [1e-4, 1e-1]), axis_for("b", [1, 2]), axis_for("o", ["a", "b"])):
        assert math.isnan(axis.position(missing))
    assert math.isnan(axis_for("o", ["a", "b"]).position("c"))  # not one of its categories
    assert math.isnan(axis_for("lr", [1e-4, 1e-1]).position(-1.0))  # no logarithm


@pytest.mark.parametrize("values", [[0.1, 0.1, None], ["adam", "adam"], [7]])
def test_a_single_value_sits_in_the_middle(values):
    axis = axis_for("x", values)
    assert axis.position(values[0]) == 0.5
    assert [position for position, _ in axis.ticks()] == [0.5]


@pytest.mark.parametrize(("value", "text"), [(1e-3, "1e-3"), (0.05, "0.05"), (128, "128"), (2.5e-4, "2.5e-4"),
                                             (0.3, "0.3"), (1024, "1024"), (12345.6, "1.23e4"), (0, "0"),
                                             (-0.002, "-2e-3")])
def test_numbers_are_written_compactly(value, text):
    assert format_number(value) == text


def test_ticks_of_a_few_values_are_the_values_and_of_many_round_numbers():
    assert axis_for("batch_size", [32, 64, 128]).ticks() == [(0.0, "32"), (pytest.approx(1 / 3), "64"), (1.0, "128")]
    lr = axis_for("lr", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1])
    assert [label for _, label in lr.ticks()] == ["1e-4", "1e-3", "0.01", "0.1"]
    assert [p for p, _ in lr.ticks()] == pytest.approx([0, 1 / 3, 2 / 3, 1])
    narrow_log = axis_for("lr", [1e-3, 2e-3, 4e-3, 8e-3, 0.016, 0.032, 0.064])
    assert [label for _, label in narrow_log.ticks()] == ["1e-3", "3e-3", "0.01", "0.03"]
    accuracy = axis_for("acc", [0.612, 0.744, 0.835], percent=True, value_ticks=False)
    assert [label for _, label in accuracy.ticks()] == ["65 %", "70 %", "75 %", "80 %"]
    assert accuracy.ticks()[0][0] == pytest.approx((0.65 - 0.612) / (0.835 - 0.612))


def test_ticks_keep_their_distance_and_categories_are_all_labelled():
    assert [label for _, label in axis_for("o", ["sgd", "adam", "adamw"]).ticks()] == ["adam", "adamw", "sgd"]
    crowded = axis_for("dropout", [0.1, 0.11, 0.5])
    assert [label for _, label in crowded.ticks(min_gap=0.1)] == ["0.1", "0.5"]


def test_the_readout_shows_percentages_and_missing_values():
    assert axis_for("acc", [0.5, 0.9], percent=True).text(0.8123) == "81.23 %"
    assert axis_for("lr", [1e-4, 0.1]).text(None) == "—"
    assert axis_for("lr", [1e-4, 0.1]).text(3e-4) == "0.0003"


def test_the_distance_to_a_polyline_skips_its_gaps():
    xs, ys = [0.0, 1.0, 2.0], [0.0, math.nan, 1.0]
    assert polyline_distance((0.5, 0.0), xs, ys, (1.0, 1.0)) == math.inf  # no segment is drawn
    assert polyline_distance((0.5, 0.1), [0.0, 1.0], [0.0, 0.0], (0.01, 0.01)) == pytest.approx(10.0)


# ----- the chart -----

RUNS = [("r1", 1e-4, 32, "sgd", 0.61), ("r2", 1e-3, 64, "adam", 0.83), ("r3", 1e-2, 128, "adamw", 0.74),
        ("r4", 1e-1, 64, "sgd", None), ("r5", 1e-3, None, "adam", 0.70)]
SETTINGS = ["lr", "batch_size", "optimizer"]


def make_rows(specs=RUNS):
    return [RunRow(name, f"/runs/{name}", "finished", best_val_accuracy=accuracy,
                   settings={"lr": lr, "batch_size": batch, "optimizer": optimizer, "epochs": 3})
            for name, lr, batch, optimizer, accuracy in specs]


@pytest.fixture
def chart(qtbot):
    widget = ParallelCoordinates()
    qtbot.addWidget(widget)
    widget.resize(900, 360)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_runs(make_rows(), SETTINGS, "best_val_accuracy", "Best val accuracy")
    return widget


def test_a_line_per_run_through_its_positions_on_the_axes(chart):
    assert list(chart.lines) == ["r1", "r2", "r3", "r4", "r5"]
    assert [axis.name for axis in chart.axes] == [*SETTINGS, "Best val accuracy"]
    assert [axis.kind for axis in chart.axes] == [LOG, LINEAR, CATEGORY, LINEAR]
    x, y = chart.lines["r2"].getData()
    assert list(x) == [0, 1, 2, 3]
    expected = [chart.axes[0].position(1e-3), chart.axes[1].position(64), chart.axes[2].position("adam"),
                chart.axes[3].position(0.83)]
    assert y == pytest.approx(expected)
    assert y == pytest.approx([1 / 3, 1 / 3, 0.0, 1.0])
    _, broken = chart.lines["r5"].getData()
    assert math.isnan(broken[1]) and np.isfinite(broken[[0, 2, 3]]).all()  # no batch size: the line breaks


def _lightness(chart, name):
    """The luminance of the run's line, which viridis raises steadily from its low end to its high end."""
    color = chart.lines[name].opts["pen"].color()
    return 0.2126 * color.redF() + 0.7152 * color.greenF() + 0.0722 * color.blueF()


def test_the_colours_follow_the_metric_and_runs_without_it_are_grey_and_dashed(chart):
    by_metric = sorted((row.best_val_accuracy, row.name) for row in chart.rows if row.best_val_accuracy is not None)
    lightness = [_lightness(chart, name) for _, name in by_metric]
    assert lightness == sorted(lightness) and lightness[0] < lightness[-1]  # viridis brightens as it rises
    pen = chart.lines["r4"].opts["pen"]
    assert pen.color().name() == NO_METRIC_COLOR and pen.style() == Qt.PenStyle.DashLine
    assert chart.lines["r2"].opts["pen"].style() == Qt.PenStyle.SolidLine


def test_the_metric_axis_labels_percentages_and_each_setting_its_name(chart):
    texts = {item.textItem.toPlainText() for item, *_ in chart._placed}
    assert {"lr", "batch_size", "optimizer", "Best val accuracy", "1e-4", "0.1", "64", "adamw"} <= texts
    assert any(text.endswith(" %") for text in texts)


def _click_line(qtbot, chart, name):
    """Click halfway between the first two axes on ``name``'s line."""
    _, y = chart.lines[name].getData()
    scene = chart.view_box.mapViewToScene(QPointF(0.5, (y[0] + y[1]) / 2))
    pos = chart.plot_widget.mapFromScene(scene)
    qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_clicking_a_line_selects_its_run(chart, qtbot):
    with qtbot.waitSignal(chart.runClicked, timeout=2000) as clicked:
        _click_line(qtbot, chart, "r3")
    assert clicked.args == ["r3"]
    assert chart.highlighted() == "r3"
    assert chart.lines["r3"].opts["pen"].widthF() > chart.lines["r1"].opts["pen"].widthF()
    assert chart.lines["r1"].opts["pen"].color().alpha() < 255
    assert "r3" in chart.info.text() and "adamw" in chart.info.text() and "74.00 %" in chart.info.text()
    scene = chart.view_box.mapViewToScene(QPointF(1.5, 1.05))  # above every line: selects nothing
    qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=chart.plot_widget.mapFromScene(scene))
    assert chart.highlighted() is None


def test_hovering_shows_a_run_and_highlight_names_one(chart):
    _, y = chart.lines["r1"].getData()
    chart._on_mouse_moved(chart.view_box.mapViewToScene(QPointF(0.5, (y[0] + y[1]) / 2)))
    assert chart.highlighted() == "r1" and "r1" in chart.info.text()
    chart._on_mouse_moved(chart.view_box.mapViewToScene(QPointF(1.5, 1.05)))
    assert chart.highlighted() is None
    chart.highlight("r5")
    assert chart.highlighted() == "r5" and "batch_size —" in chart.info.text()
    chart.highlight("no such run")
    assert chart.highlighted() is None


def test_the_chart_follows_the_theme(chart, qapp, qtbot):
    light = chart.plot_widget.backgroundBrush().color().name()
    theme.apply_theme(qapp, "dark")
    qtbot.waitUntil(lambda: chart.plot_widget.backgroundBrush().color().name() != light)
    assert chart.plot_widget.backgroundBrush().color().lightnessF() < 0.3
    assert _lightness(chart, "r1") > 0.2  # the dark end of viridis is cut: no line vanishes on the background
    assert set(chart.lines) == {"r1", "r2", "r3", "r4", "r5"}


def test_without_runs_or_differing_settings_it_invites_some(chart):
    chart.set_runs([], [], "best_val_accuracy", "Best val accuracy")
    assert chart.pages.currentWidget() is chart.message and chart.message.text() == NO_RUNS_TEXT
    chart.set_runs(make_rows(), [], "best_val_accuracy", "Best val accuracy")
    assert chart.message.text() == SAME_SETTINGS_TEXT and not chart.lines
    chart.set_runs(make_rows()[:2], ["lr"], "test_accuracy", "Test accuracy")  # no test accuracy yet
    assert chart.pages.currentIndex() == 1 and len(chart.lines) == 2
    assert all(item.opts["pen"].style() == Qt.PenStyle.DashLine for item in chart.lines.values())


def _drag(qtbot, chart, x, y_from, y_to):
    viewport = chart.plot_widget.viewport()

    def at(y):
        return chart.plot_widget.mapFromScene(chart.view_box.mapViewToScene(QPointF(x, y)))

    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=at(y_from))
    for k in range(1, 6):
        qtbot.mouseMove(viewport, at(y_from + (y_to - y_from) * k / 5))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=at(y_to))


def test_dragging_along_an_axis_keeps_the_runs_in_its_range(chart, qtbot):
    _drag(qtbot, chart, 0.0, 0.5, -0.02)  # lr from 10^-2.5 down: r1 (1e-4), r2 and r5 (1e-3)
    assert chart.brushes[0][0] == 0.0 and chart.brushes[0][1] == pytest.approx(0.5, abs=0.02)
    assert chart.kept_runs() == ["r1", "r2", "r5"]
    assert chart.lines["r3"].opts["pen"].color().alpha() < chart.lines["r2"].opts["pen"].color().alpha()
    chart.brush(1, 0.2, 0.5)  # batch size 64 only; r5 has none
    assert chart.kept_runs() == ["r2"]
    _, y = chart.lines["r3"].getData()
    chart._on_mouse_moved(chart.view_box.mapViewToScene(QPointF(0.5, (y[0] + y[1]) / 2)))
    assert chart.highlighted() is None  # a line filtered out cannot be picked
    scene = chart.view_box.mapViewToScene(QPointF(1.0, 0.9))
    qtbot.mouseClick(chart.plot_widget.viewport(), Qt.MouseButton.LeftButton, pos=chart.plot_widget.mapFromScene(scene))
    assert list(chart.brushes) == [0] and chart.kept_runs() == ["r1", "r2", "r5"]  # the click cleared that axis
    chart.set_runs(make_rows(), SETTINGS, "best_val_accuracy", "Best val accuracy")
    assert chart.brushes == {} and len(chart.kept_runs()) == 5
