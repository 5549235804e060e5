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


def style_plot(plot, title, left, bottom, s=None, grid=True):
    """Give a ``pg.PlotItem`` the common look (again, after a theme change)."""
    s = s or scheme()
    plot.setTitle(f"<span style='color:{s.foreground};font-size:10pt;font-weight:600'>{title}</span>")
    for side, label in (("left", left), ("bottom", bottom)):
        axis = plot.getAxis(side)
        axis.setPen(pg.mkPen(s.axis))
        axis.setTextPen(pg.mkPen(s.foreground))
        axis.setLabel(f"<span style='color:{s.foreground}'>{label}</span>" if label else "")
    plot.getAxis("left").setWidth(AXIS_WIDTH)
    plot.showGrid(x=grid, y=grid, alpha=s.grid_alpha)
    plot.getViewBox().setBackgroundColor(s.background)
    plot.setMenuEnabled(False)
    return plot


class PlotStyler:
    """Styles a widget's plots and styles them again when the application's theme changes (call ``apply``
    from the widget's ``changeEvent`` on a palette change)."""

    def __init__(self):
        self._plots = []  # (PlotItem, title, left label, bottom label, grid)
        self._views = []  # GraphicsViews whose background follows the scheme

    def plot(self, plot, title, left, bottom, grid=True):
        self._plots.append((plot, title, left, bottom, grid))
        return style_plot(plot, title, left, bottom, grid=grid)

    def widget(self, title, left, bottom, grid=True, axes=None):
        """A new ``pg.PlotWidget`` (with ``axes``: {side: AxisItem}) and its styled ``PlotItem``."""
        widget = pg.PlotWidget(background=scheme().background, axisItems=axes)
        self._views.append(widget)
        return widget, self.plot(widget.getPlotItem(), title, left, bottom, grid)

    def view(self, view):
        view.setBackground(scheme().background)
        self._views.append(view)
        return view

    def apply(self):
        s = scheme()
        for view in self._views:
            view.setBackground(s.background)
        for plot, title, left, bottom, grid in self._plots:
            style_plot(plot, title, left, bottom, s, grid)
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
    s = scheme()
    return plot.addLegend(offset=offset, brush=pg.mkBrush(*s.legend_brush), pen=pg.mkPen(s.legend_pen),
                          labelTextColor=s.foreground, labelTextSize="8pt")


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
