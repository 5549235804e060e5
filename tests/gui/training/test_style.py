"""The plots' sparse axes: labelled ticks far enough apart not to overlap on a short plot, and always at least one
far enough from the axis's ends to be drawn (pyqtgraph drops a label that would stick out)."""

import pytest

from gui.training import style


def _labelled(low, high, size, orientation="left"):
    axis = style.SparseAxis(orientation)
    levels = axis.tickValues(low, high, size)
    return [v for v in levels[0][1] if low <= v <= high]


@pytest.mark.parametrize(("low", "high", "size"), [
    (2.187, 2.400, 61),  # a loss that barely moves: 2.2 is the only tenth in view, 3 px from the bottom
    (-6e-05, 0.00106, 61),  # a constant learning rate: 0 and 0.001 sit at the ends
    (-4.0, 104.0, 61),  # accuracy: 0 and 100 at the ends
    (0.0, 100.0, 70),
    (-3.0, 1e5, 40),
])
def test_a_short_axis_labels_a_tick_clear_of_its_ends(qapp, low, high, size):
    margin = style.LABEL_MARGIN["vertical"] * (high - low) / size
    inside = [v for v in _labelled(low, high, size) if low + margin <= v <= high - margin]
    assert inside, f"no labelled tick clear of the ends of [{low}, {high}] on {size} px"


def test_labelled_ticks_stay_apart_where_the_range_allows(qapp):
    labelled = _labelled(0.0, 100.0, 70)
    assert len(labelled) >= 2
    assert (labelled[1] - labelled[0]) * 70 / 100.0 >= style.MIN_LABEL_GAP["vertical"]
    steps = _labelled(0.0, 300.0, 300, "bottom")
    assert (steps[1] - steps[0]) * 300 / 300.0 >= style.MIN_LABEL_GAP["horizontal"]
