"""The settings form edits and follows the document, takes the wheel only when focused and is never cut off;
the gradient-norm lines and legend talk to the editor; zooming stops following the run and "Follow run" brings
it back; before a run the plots invite one, and short plots label few ticks."""

import itertools
import math

import numpy as np
from panel_support import wait_idle
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel, QSpinBox
from wheel_support import turn_wheel

from engine.graph import SETTINGS_SPECS
from engine.graph.settings import OPTIMIZERS, SCHEDULERS
from engine.graph.templates import load_template
from gui.training import style


def test_the_form_is_generated_from_the_settings_specs_and_edits_the_document(make_panel, fashion_doc, qtbot):
    form = make_panel(fashion_doc).settings_form
    assert set(form.editors) == set(SETTINGS_SPECS)
    assert form.editors["train_limit"].value() == 512
    lr = form.editors["lr"].spin
    assert lr.text() == "0.001"  # not 0.00100000
    lr.lineEdit().selectAll()
    qtbot.keyClicks(lr, "3e-4")
    qtbot.keyClick(lr, Qt.Key.Key_Return)
    assert fashion_doc.settings["lr"] == 0.0003

    optimizer = form.editors["optimizer"].combo
    optimizer.activated.emit(optimizer.findText("SGD"))
    assert fashion_doc.settings["optimizer"] == "SGD"
    form.editors["momentum"].spin.setValue(0.5)
    assert fashion_doc.settings["momentum"] == 0.5
    hidden = {name for name, (_, field) in form._rows.items() if field.isHidden()}
    assert {"beta1", "beta2", "step_size", "patience"} <= hidden and "nesterov" not in hidden

    fashion_doc.set_settings({"epochs": 7, "scheduler": "MultiStepLR", "milestones": (3, 5)})  # e.g. an undo
    assert form.editors["epochs"].value() == 7 and form.editors["milestones"].field.text() == "3, 5"
    assert not form._rows["milestones"][1].isHidden()

    milestones = form.editors["milestones"].field
    milestones.setText("3, soon")
    milestones.editingFinished.emit()
    assert form.error.isVisible() and "milestones" in form.error.text()
    assert fashion_doc.settings["milestones"] == (3, 5)
    milestones.setText("0, 5")  # parses, but the document refuses it: the form shows the document's value again
    milestones.editingFinished.emit()
    assert "milestones" in form.error.text() and milestones.text() == "3, 5"

    form.editors["train_limit"].spin.setValue(0)
    assert fashion_doc.settings["train_limit"] == 0 and form.editors["train_limit"].spin.text() == "all"
    assert not form.error.isVisible()


def test_the_form_shows_exactly_the_options_whose_spec_applies(make_panel, fashion_doc):
    form = make_panel(fashion_doc).settings_form
    for optimizer, scheduler in itertools.product(OPTIMIZERS, SCHEDULERS):
        fashion_doc.set_settings({"optimizer": optimizer, "scheduler": scheduler})
        hidden = {name for name, (_, field) in form._rows.items() if field.isHidden()}
        assert hidden == {name for name, spec in SETTINGS_SPECS.items() if not spec.applies_to(fashion_doc.settings)}
    assert form.editors["momentum"].toolTip() == "SGD and RMSprop only (between 0 and 0.9999)"


def test_the_dataset_choice_is_the_input_nodes(make_panel, fashion_doc):
    form = make_panel(fashion_doc).settings_form
    form.dataset.activated.emit(form.dataset.findText("MNIST"))
    params = fashion_doc.input_node().params
    assert params["dataset"] == "MNIST" and params["shape"] == (1, 28, 28)
    fashion_doc.set_params(fashion_doc.input_node().id, {"dataset": "Fashion-MNIST"})
    assert form.dataset.currentText() == "Fashion-MNIST"
    device = form.editors["device"].combo
    assert device.model().item(device.findText("cuda")).isEnabled() in (True, False)  # present, maybe disabled
    assert isinstance(form.editors["seed"].spin, QSpinBox)


def test_gradient_lines_and_legend_select_layers_and_follow_the_editor(make_panel, fashion_doc, qtbot):
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    plots = panel.plots
    assert list(plots.grad_curves) == ["fc1", "fc2", "fc3"]
    activated = []
    panel.layerActivated.connect(activated.append)

    legend = plots.legend
    rect = legend.visualItemRect(legend.item(1))
    qtbot.mouseClick(legend.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert activated == ["fc2"] and plots.highlighted_layer == "fc2"
    assert plots.grad_curves["fc2"].opts["pen"].widthF() > plots.grad_curves["fc1"].opts["pen"].widthF()

    panel.highlight_layer("fc3")  # the editor selected fc3
    assert plots.highlighted_layer == "fc3" and legend.item(2).isSelected() and not legend.item(1).isSelected()
    panel.highlight_layer(None)
    assert plots.highlighted_layer is None

    # click on fc1's line itself, where it is drawn (the view is in log10 units on y)
    panel.highlight_layer("fc1")  # on top, so the click lands on it
    x, y = plots.grad_curves["fc1"].getData()
    k = int(np.flatnonzero(np.isfinite(y))[len(y) // 2])
    vb = plots.grad_plot.getViewBox()
    scene = vb.mapViewToScene(QPointF(x[k], y[k]))
    activated.clear()
    qtbot.mouseClick(plots.graphics.viewport(), Qt.MouseButton.LeftButton, pos=plots.graphics.mapFromScene(scene))
    assert activated == ["fc1"]


def test_zooming_stops_following_and_follow_run_restores_the_whole_run(make_panel, fashion_doc, qtbot):
    panel = make_panel(fashion_doc)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    plots = panel.plots
    (x0, x1), _ = plots.loss_plot.getViewBox().viewRange()
    assert x0 <= 1 and x1 >= 32 and plots.following
    vb = plots.loss_plot.getViewBox()
    (_, _), (y0, y1) = vb.viewRange()
    viewport = plots.graphics.viewport()
    at = plots.graphics.mapFromScene(vb.mapViewToScene(QPointF(20, (y0 + y1) / 2)))
    wheel = QWheelEvent(QPointF(at), QPointF(viewport.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 720),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(viewport, wheel)  # zoom in around step 20
    assert not plots.following and not plots.follow_button.isChecked()
    qtbot.wait(80)  # the redraw of the newly visible part
    xs, _ = plots.loss_raw.getData()
    (z0, z1), _ = vb.viewRange()
    assert xs.min() >= math.floor(z0) - 1 and xs.max() <= math.ceil(z1) + 1 and len(xs) < 32
    plots.follow_button.click()
    assert plots.following
    (x0, x1), _ = vb.viewRange()
    assert x0 <= 1 and x1 >= 32 and len(plots.loss_raw.getData()[0]) == 32


def test_plots_follow_a_theme_change_titles_included(make_panel, fashion_doc, qapp, qtbot):
    from gui import theme

    panel = make_panel(fashion_doc)
    theme.apply_theme(qapp, "dark")
    try:
        qtbot.waitUntil(lambda: panel.plots.loss_plot.getViewBox().background.brush().color().name()
                        == style.SCHEMES["dark"].background)
        assert all(style.SCHEMES["dark"].foreground in plot.titleLabel.text for plot in panel.plots.plots)
    finally:
        theme.apply_theme(qapp, "light")


def test_controls_take_the_wheel_only_when_focused(make_panel, fashion_doc, qtbot):
    """Scrolling over the settings once switched the optimizer: an unfocused control leaves the wheel to the
    scroll area around it."""
    panel = make_panel(fashion_doc)
    form, smoothing = panel.settings_form, panel.plots.smoothing
    optimizer = form.editors["optimizer"].combo
    controls = (optimizer, form.editors["lr"].spin, form.editors["epochs"].spin, form.dataset, smoothing)
    settings, dataset, weight = dict(fashion_doc.settings), form.dataset.currentText(), smoothing.value()
    for control in controls:
        assert control.focusPolicy() == Qt.FocusPolicy.StrongFocus
        assert not turn_wheel(control, -1) and not turn_wheel(control, 1)
    assert fashion_doc.settings == settings and form.dataset.currentText() == dataset and smoothing.value() == weight

    panel.activateWindow()
    optimizer.setFocus()
    qtbot.waitUntil(optimizer.hasFocus)
    assert turn_wheel(optimizer, -1)  # clicked into, it is the user's to turn
    assert fashion_doc.settings["optimizer"] != settings["optimizer"]


def test_the_settings_form_keeps_its_labels_in_view_once_a_run_starts(make_panel, fashion_doc, qtbot, monkeypatch,
                                                                     tmp_path):
    """A long run folder in the line under the progress bar once widened the panel past its window, and the
    squeezed form lost the first letters of its labels."""
    monkeypatch.setenv("LAYERLAB_RUNS", str(tmp_path / ("a-rather-long-folder-name/" * 8)))
    panel = make_panel(fashion_doc)
    panel.resize(1000, 500)
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    qtbot.wait(20)
    assert "a-rather-long-folder-name" in panel.run_label.text() and panel.width() == 1000
    form = panel.settings_form
    viewport = form.viewport()
    assert form.horizontalScrollBar().maximum() == 0 and form.widget().width() <= viewport.width()
    labels = [label for label in form.widget().findChildren(QLabel) if label.isVisible() and label.text()]
    for label in labels:
        left = label.mapTo(viewport, QPoint(0, 0)).x()
        assert left >= 0 and left + label.sizeHint().width() <= viewport.width(), label.text()


def test_the_smoothing_moves_only_when_the_user_moves_it(make_panel, fashion_doc, qtbot):
    """It once jumped from 0.90 to a weight of its own choosing when a run started."""
    panel = make_panel(fashion_doc)
    plots = panel.plots
    assert plots.smoothing.value() == 90
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    assert plots.smoothing.value() == 90 and panel.controller.history.smoothing == 0.9
    plots.smoothing.setValue(70)
    assert plots.smoothing_value.text() == "0.70" and panel.controller.history.smoothing == 0.7


def test_before_a_run_the_plots_invite_one_and_short_plots_label_few_ticks(make_panel, fashion_doc, qtbot):
    panel = make_panel(fashion_doc)
    plots = panel.plots
    assert plots.pages.currentWidget() is plots.empty_message and "Start" in plots.empty_message.text()
    panel.start_action.trigger()
    wait_idle(qtbot, panel)
    assert plots.pages.currentWidget() is not plots.empty_message and plots.graphics.isVisible()

    panel.resize(1272, 398)  # the training dock of a 1280×720 window while it trains
    qtbot.wait(50)
    assert panel.body.verticalScrollBar().maximum() == 0  # the plots fit: no scrolling at the reference size
    assert plots.graphics.height() >= 2 * 110
    for plot in (plots.loss_plot, plots.lr_plot, plots.accuracy_plot):
        axis = plot.getAxis("left")
        low, high = axis.range
        size = axis.geometry().height()
        spacing, _values = axis.tickValues(low, high, size)[0]
        assert spacing * size / (high - low) >= style.MIN_LABEL_GAP["vertical"]

    fashion_doc.assign(load_template("mlp_fashion_mnist"))  # another network: its plots are empty again
    assert plots.pages.currentWidget() is plots.empty_message
