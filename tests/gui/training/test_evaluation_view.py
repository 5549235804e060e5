"""The evaluation charts in both themes and at small sizes: every class is named on the side axes (after a
theme change too), the bar values follow the theme, and the counts in the confusion matrix shrink, then hide,
rather than overlap."""

from types import SimpleNamespace

import numpy as np
import pytest
from PySide6.QtGui import QFontMetrics, QImage, QPainter

from gui import theme
from gui.training import style
from gui.training.evaluation import EvaluationView

CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


def evaluation_data():
    rng = np.random.default_rng(0)
    confusion = rng.integers(0, 1000, (10, 10))
    np.fill_diagonal(confusion, 900)
    images = rng.integers(0, 256, (100, 32, 32, 3), dtype=np.uint8)
    result = SimpleNamespace(accuracy=0.5, loss=1.2, count=10_000, per_class_accuracy=np.linspace(0, 1, 10),
                             confusion=confusion, predictions=rng.integers(0, 10, 100),
                             targets=rng.integers(0, 10, 100), losses=None, predicted_probability=None)
    return SimpleNamespace(result=result, classes=CLASSES, dataset=SimpleNamespace(arrays=lambda: (images,)),
                           samples=None, val_dataset=None, model=None)


def drawn_texts(axis):
    """The tick labels pyqtgraph would draw on ``axis`` now (it silently drops those that do not fit)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        _axis, _ticks, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [text for _rect, _flags, text in texts]


@pytest.fixture
def view(qtbot, qapp):
    view = EvaluationView()
    qtbot.addWidget(view)
    view.resize(900, 420)
    view.show_evaluation(evaluation_data())  # filled while hidden, as in its tab
    view.show()
    qtbot.waitExposed(view)
    yield view
    theme.apply_theme(qapp, "light")


def test_every_class_is_named_in_both_themes(view, qapp, qtbot):
    for name in ("dark", "light"):
        theme.apply_theme(qapp, name)
        qtbot.wait(20)
        for axis in (view.per_class_plot.getAxis("left"), view.matrix_plot.getAxis("left")):
            assert drawn_texts(axis) == list(CLASSES), name
        outside = [label.color.name() for label in view.outside_labels]
        assert outside and set(outside) == {style.SCHEMES[name].foreground}
        assert len(drawn_texts(view.matrix_plot.getAxis("bottom"))) == len(CLASSES)
    assert view.per_class_widget.minimumHeight() >= 10 * 12  # a row for every name


def test_matrix_counts_take_a_font_that_fits_their_cells_or_hide(view, qtbot):
    def cells():
        box = view.matrix_plot.getViewBox().boundingRect()
        return box.width() / len(CLASSES), box.height() / len(CLASSES)

    def fit():
        width, height = cells()
        for label in view.cell_labels:
            metrics = QFontMetrics(label.textItem.font())
            assert metrics.horizontalAdvance(label.textItem.toPlainText()) <= width
            assert metrics.height() <= height

    assert all(label.isVisible() for label in view.cell_labels)
    fit()
    view.resize(560, 420)  # narrow cells: a smaller font, or none
    qtbot.wait(20)
    visible = [label.isVisible() for label in view.cell_labels]
    assert all(visible) or not any(visible)
    if all(visible):
        fit()
    view.resize(330, 420)
    qtbot.wait(20)
    assert not any(label.isVisible() for label in view.cell_labels)
