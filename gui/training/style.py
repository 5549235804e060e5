"""Colours and the common look of the training plots: a quiet grid, clear text, one colour per meaning
(training orange, validation blue), on a light or a dark background to match the application's theme."""

import math
from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtGui import QColor

from gui import theme

TRAIN = "#f57c00"  # orange: training curves
VALIDATION = "#1e88e5"  # blue: validation curves
LEARNING_RATE = "#8e24aa"
WARNING_STYLE = ("QLabel { background: #fff3e0; color: #bf360c; border: 1px solid #ffab91; border-radius: 4px; "
                 "padding: 6px; }")
MUTED_STYLE = "color: #78909c;"
AXIS_WIDTH = 62  # the same for every plot, so that plots stacked in a column line up
TITLE_HEIGHT = 22  # pixels: pyqtgraph reserves 30 for a title, much of a short plot
MIN_LABEL_GAP = {"vertical": 30, "horizontal": 64}  # pixels between labelled ticks, at least
LABEL_MARGIN = {"vertical": 8, "horizontal": 24}  # pixels from the axis's ends within which a label gets cut

# tab20's strong half then its light half: distinct lines for up to 20 layers, then repeating
LAYER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
                "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
                "#dbdb8d", "#9edae5")


@dataclass(frozen=True)
class Scheme:
    background: str
    foreground: str
    axis: str
    shading: tuple  # RGBA of every other epoch's band
    legend_brush: tuple
    legend_pen: str
    grid_alpha: float


SCHEMES = {
    "light": Scheme("#ffffff", "#37474f", "#b0bec5", (96, 125, 139, 22), (255, 255, 255, 215), "#cfd8dc", 0.12),
    "dark": Scheme("#1e2126", "#d5dbe0", "#546e7a", (255, 255, 255, 14), (30, 33, 38, 215), "#455a64", 0.16),
}


def scheme():
    """The scheme of the application's current theme."""
    return SCHEMES.get(theme.current_theme(), SCHEMES["light"])


def layer_color(index):
    return LAYER_COLORS[index % len(LAYER_COLORS)]


def faint(color, alpha=70):
    c = QColor(color)
    c.setAlpha(alpha)
    return c


def style_plot(plot, title, left, bottom, s=None, grid=True, axis_width=AXIS_WIDTH):
    """Give a ``pg.PlotItem`` the common look (again, after a theme change). ``axis_width``: of the left axis in
    pixels, or None for as wide as its labels."""
    s = s or scheme()
    plot.setTitle(f"<span style='color:{s.foreground};font-size:10pt;font-weight:600'>{title}</span>")
    plot.titleLabel.setMaximumHeight(TITLE_HEIGHT)
    plot.layout.setRowFixedHeight(0, TITLE_HEIGHT)
    for side, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(s.axis))
        axis.setTextPen(pg.mkPen(s.foreground))
        axis.setLabel(f"<span style='color:{s.foreground}'>{label}</span>" if label else "")
    plot.getAxis("left").setWidth(axis_width)
    plot.showGrid(x=grid, y=grid, alpha=s.grid_alpha)
    plot.getViewBox().setBackgroundColor(s.background)
    plot.setMenuEnabled(False)
    return plot


class PlotStyler:
    """Styles a widget's plots and styles them again when the application's theme changes (call ``apply``
    from the widget's ``changeEvent`` on a palette change)."""

    def __init__(self):
        self._plots = []  # (PlotItem, title, left label, bottom label, style_plot's options)
        self._views = []  # GraphicsViews whose background follows the scheme

    def plot(self, plot, title, left, bottom, **options):
        """Style ``plot`` now and after every theme change; ``options``: ``style_plot``'s grid and axis_width."""
        self._plots.append((plot, title, left, bottom, options))
        return style_plot(plot, title, left, bottom, **options)

    def relabel(self, plot, title, left=None, bottom=None):
        """Give ``plot`` (styled here) a new title and, where given, new axis labels, kept across theme changes."""
        for k, (styled, _title, old_left, old_bottom, options) in enumerate(self._plots):
            if styled is plot:
                labels = (left or old_left, bottom or old_bottom)
                self._plots[k] = (plot, title, *labels, options)
                style_plot(plot, title, *labels, **options)

    def widget(self, title, left, bottom, axes=None, **options):
        """A new ``pg.PlotWidget`` and its styled ``PlotItem``; ``axes``: {side: AxisItem} in place of the sparse
        ones."""
        axes = {"left": SparseAxis("left"), "bottom": SparseAxis("bottom"), **(axes or {})}
        widget = pg.PlotWidget(background=scheme().background, axisItems=axes)
        self._views.append(widget)
        return widget, self.plot(widget.getPlotItem(), title, left, bottom, **options)

    def view(self, view):
        view.setBackground(scheme().background)
        self._views.append(view)
        return view

    def apply(self):
        s = scheme()
        for view in self._views:
            view.setBackground(s.background)
        for plot, title, left, bottom, options in self._plots:
            style_plot(plot, title, left, bottom, s, **options)
            if plot.legend is not None:
                plot.legend.setBrush(pg.mkBrush(*s.legend_brush))
                plot.legend.setPen(pg.mkPen(s.legend_pen))
                plot.legend.setLabelTextColor(s.foreground)
                for _sample, label in plot.legend.items:  # pyqtgraph re-colours a label only when set again
                    label.setText(label.text, color=s.foreground)


def integer_ticks(axis, count):
    """Label whole numbers only (epochs), about ten of them for ``count``."""
    major = max(1, math.ceil(count / 10))
    axis.setTickSpacing(major, major)


def legend(plot, offset=(-8, 8)):
    """A legend in the corner of ``plot``'s data area, shown only while it has entries."""
    s = scheme()
    plot.legend = _Legend(offset=offset, brush=pg.mkBrush(*s.legend_brush), pen=pg.mkPen(s.legend_pen),
                          labelTextColor=s.foreground, labelTextSize="8pt")
    plot.legend.setParentItem(plot.getViewBox())
    return plot.legend


class _Legend(pg.LegendItem):
    """pyqtgraph draws an empty legend as a small box over the data: hide it until it has an entry."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.setVisible(False)

    def addItem(self, item, name):
        super().addItem(item, name)
        self.setVisible(True)

    def removeItem(self, item):
        super().removeItem(item)
        self.setVisible(bool(self.items))

    def clear(self):
        super().clear()
        self.setVisible(False)


class SparseAxis(pg.AxisItem):
    """An axis whose labelled ticks stay ``MIN_LABEL_GAP`` pixels apart however short the plot (pyqtgraph labels
    at least two or three ticks, and on a short axis their texts overlap), keeping at least one labelled tick far
    enough from the ends to be drawn; the minor ticks go unlabelled."""

    def __init__(self, orientation, **kwargs):
        super().__init__(orientation, **kwargs)
        self.setStyle(maxTextLevel=0)

    def tickSpacing(self, minVal, maxVal, size):
        levels = super().tickSpacing(minVal, maxVal, size)
        span = abs(maxVal - minVal)
        if self._tickSpacing is not None or not levels or span == 0 or size <= 0:  # fixed spacing: as set
            return levels
        direction = "vertical" if self.orientation in ("left", "right") else "horizontal"
        margin = LABEL_MARGIN[direction] * span / size  # pyqtgraph drops a label that would stick out of the axis
        low, high = min(minVal, maxVal) + margin, max(minVal, maxVal) - margin
        coarser = [levels[0][0]]
        while coarser[-1] < span:
            coarser.append(_next_nice(coarser[-1]))
        labelled = [c for c in coarser if _has_multiple(c, low, high)]
        if labelled:
            apart = [c for c in labelled if c * size / span >= MIN_LABEL_GAP[direction]]
            major = apart[0] if apart else labelled[-1]
        else:  # on a short axis the usual spacings may tick only at the ends: a finer one ticks between them
            major = levels[0][0]
            for _ in range(3):
                major = _previous_nice(major)
                if _has_multiple(major, low, high):
                    break
        return [(major, 0), *((spacing, offset) for spacing, offset in levels[1:] if spacing < major)]


def _has_multiple(spacing, low, high):
    """Whether a multiple of ``spacing`` (a tick) lies in ``[low, high]``."""
    return math.ceil(low / spacing) * spacing <= high


def _previous_nice(spacing):
    """The next of 1, 2, 5, 10, 20, ... times a power of ten below ``spacing``."""
    power = 10.0 ** math.floor(math.log10(spacing) + 1e-9)
    mantissa = spacing / power
    return power * (0.5 if mantissa < 1.5 else 1 if mantissa < 3.5 else 2)


def _next_nice(spacing):
    """The next of 1, 2, 5, 10, 20, ... times a power of ten above ``spacing``."""
    power = 10.0 ** math.floor(math.log10(spacing) + 1e-9)
    mantissa = spacing / power
    return power * (2 if mantissa < 1.5 else 5 if mantissa < 3.5 else 10)


class LogAxis(pg.AxisItem):
    """A log axis that labels only 1, 2 and 5 times a power of ten (pyqtgraph labels every minor tick, and
    their texts overlap)."""

    def logTickStrings(self, values, scale, spacing):
        return [f"{10.0 ** (v * scale):g}" if _one_two_five(10.0 ** (v * scale)) else "" for v in values]


def _one_two_five(value):
    """Whether ``value`` is 1, 2 or 5 times a power of ten."""
    if not (math.isfinite(value) and value > 0):
        return False
    mantissa = value / 10.0 ** math.floor(math.log10(value) + 1e-9)
    return min(abs(mantissa - m) for m in (1, 2, 5)) < 1e-6
