"""Runs' settings against a metric as parallel coordinates (TensorBoard's HParams view, W&B's panel): a vertical
axis per setting and a last one for the metric, a line per run across them coloured by its metric. Hovering a
line shows the run's values; clicking it selects the run; dragging along an axis keeps the runs whose values lie
in the dragged range (brushing) and fades the others."""

import html
import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QLabel, QStackedWidget, QVBoxLayout, QWidget

from gui import theme

from . import style
from .coordinate_axes import axis_for

NO_RUNS_TEXT = "Tick runs to compare their settings and results here"
SAME_SETTINGS_TEXT = "The ticked runs do not differ in their settings: nothing to compare across axes"
HINT_TEXT = "Hover over a line to see its run, click to select it; drag along an axis to filter, click it to clear"
NO_METRIC_COLOR = "#90a4ae"  # runs without the metric: grey, dashed
# the part of viridis that stands out from each theme's background (its dark purple end vanishes on dark grey,
# its yellow end on white)
COLORMAP_RANGE = {"light": (0.0, 0.85), "dark": (0.2, 1.0)}
LINE_WIDTH, HIGHLIGHT_WIDTH, COLOR_BAR_WIDTH = 2.0, 4.5, 9
DOT_SIZE = 5
FADED_ALPHA = 60  # the other lines while one is highlighted
FILTERED_ALPHA = 35  # the lines outside a brushed range
BRUSH_COLOR, BRUSH_WIDTH = (255, 143, 0, 110), 12  # the brushed range, drawn over its axis
AXIS_GRAB = 12  # pixels either side of an axis where a drag brushes it
HIT_PIXELS = 7  # a line within this many pixels of the pointer is under it
TICK_LENGTH, LABEL_GAP = 5, 4  # pixels
NAME_ROW, TOP_GAP, BOTTOM_MARGIN = 18, 6, 10  # pixels: a row of axis names, their gap above the axes, room below
LABEL_PIXELS = 16  # the least distance between two tick labels on one axis


def run_colormap(name=None):
    """Viridis, cut to the part that reads on the background of theme ``name`` (the current one by default)."""
    low, high = COLORMAP_RANGE.get(name or theme.current_theme(), COLORMAP_RANGE["light"])
    stops = np.linspace(low, high, 16)
    return pg.ColorMap(np.linspace(0.0, 1.0, 16), pg.colormap.get("viridis").map(stops, mode="byte"))


def polyline_distance(point, xs, ys, pixel):
    """Pixels from ``point`` (x, y in data units) to the polyline through (``xs``, ``ys``) whose NaN points break
    it; ``pixel``: the size of a pixel in data units (x, y). Infinite when it has no segment."""
    px, py = pixel
    x, y = np.asarray(xs, float) / px, np.asarray(ys, float) / py
    ax, ay, bx, by = x[:-1], y[:-1], x[1:], y[1:]
    drawn = np.isfinite(ay) & np.isfinite(by)
    if not drawn.any():
        return math.inf
    ax, ay, bx, by = ax[drawn], ay[drawn], bx[drawn], by[drawn]
    qx, qy = point[0] / px, point[1] / py
    dx, dy = bx - ax, by - ay
    t = np.clip(((qx - ax) * dx + (qy - ay) * dy) / np.maximum(dx * dx + dy * dy, 1e-12), 0.0, 1.0)
    return float(np.min(np.hypot(ax + t * dx - qx, ay + t * dy - qy)))


class _BrushViewBox(pg.ViewBox):
    """A view box whose left-button drags report their start and current points (data units) instead of panning."""

    dragged = Signal(QPointF, QPointF)

    def mouseDragEvent(self, event, axis=None):
        if event.button() != Qt.MouseButton.LeftButton:
            event.ignore()
            return
        event.accept()
        self.dragged.emit(self.mapSceneToView(event.buttonDownScenePos()), self.mapSceneToView(event.scenePos()))


class ParallelCoordinates(QWidget):
    runClicked = Signal(str)  # the name of the run whose line was clicked

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows = []
        self.settings = []
        self.metric_key, self.metric_label = "best_val_accuracy", "Best val accuracy"
        self.axes = []  # the Axis of each setting, then the metric's
        self.lines = {}  # run name -> its PlotDataItem
        self.positions = {}  # run name -> its position on each axis (NaN where missing)
        self._colors = {}  # run name -> the QColor of its metric, None without one
        self.selected = None  # the run clicked or highlighted, kept while the pointer moves
        self.hovered = None
        self._placed = []  # (TextItem, axis index, position, anchor) of the texts placed in pixels
        self.brushes = {}  # axis index -> (low, high): the range of positions kept on it
        self._brush_items = {}

        self.plot_widget = pg.PlotWidget(background=style.scheme().background, viewBox=_BrushViewBox())
        self.plot = self.plot_widget.getPlotItem()
        for side in ("left", "bottom"):
            self.plot.hideAxis(side)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.view_box = self.plot.getViewBox()
        self.view_box.setMouseEnabled(x=False, y=False)
        self.view_box.disableAutoRange()
        self.view_box.sigResized.connect(self._fit)
        self.view_box.dragged.connect(self._on_drag)
        self.plot.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_mouse_clicked)
        self.tick_marks = pg.PlotDataItem(connect="pairs")
        self.info = QLabel(HINT_TEXT)
        self.info.setWordWrap(True)
        self.info.setContentsMargins(6, 2, 6, 2)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel(NO_RUNS_TEXT)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet(style.MUTED_STYLE + " font-size: 11pt; padding: 12px;")
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.plot_widget, 1)
        chart_layout.addWidget(self.info)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.message)
        self.pages.addWidget(chart)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.pages)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # the application's theme changed
            self._draw()

    def leaveEvent(self, event):
        super().leaveEvent(event)
        self._set_hovered(None)

    # ----- what is drawn -----
    def set_runs(self, rows, settings, metric_key="best_val_accuracy", metric_label="Best val accuracy",
                 percent=None):
        """Draw ``rows`` (``RunRow``s) across an axis for each of ``settings`` (names, in order) and one for the
        metric, the rows' attribute ``metric_key`` titled ``metric_label``; ``percent``: show the metric as a
        percentage (by default when it is an accuracy)."""
        self.rows, self.settings = list(rows), list(settings)
        self.metric_key, self.metric_label = metric_key, metric_label
        percent = "accuracy" in metric_key if percent is None else percent
        self.axes = [axis_for(name, [row.settings.get(name) for row in self.rows]) for name in self.settings]
        self.axes.append(axis_for(metric_label, [self._metric(row) for row in self.rows], percent=percent,
                                  value_ticks=False))
        self.positions = {row.name: np.array([axis.position(value) for axis, value in
                                              zip(self.axes, self._values(row), strict=True)]) for row in self.rows}
        if self.selected not in self.positions:
            self.selected = None
        self.hovered, self.brushes = None, {}
        self._draw()

    def _metric(self, row):
        return getattr(row, self.metric_key, None)

    def _values(self, row):
        return [*(row.settings.get(name) for name in self.settings), self._metric(row)]

    def _draw(self):
        """Draw everything again (a few dozen items: after new runs or a theme change)."""
        self.plot.clear()
        self.lines, self._placed, self._brush_items = {}, [], {}
        self.plot_widget.setBackground(style.scheme().background)
        if not self.rows or not self.settings:
            self.message.setText(NO_RUNS_TEXT if not self.rows else SAME_SETTINGS_TEXT)
            self.pages.setCurrentIndex(0)
            return
        self.pages.setCurrentIndex(1)
        self._draw_axes()
        colormap = run_colormap()
        for row in self.rows:
            item = pg.PlotDataItem(np.arange(len(self.axes), dtype=float), self.positions[row.name],
                                   connect="finite", symbol="o", symbolPen=None)  # dots: a value between gaps
            item.setZValue(0)
            self.plot.addItem(item)
            self.lines[row.name] = item
        self._colors = {name: self._color(colormap, values[-1]) for name, values in self.positions.items()}
        self._draw_color_bar(colormap)
        for k in self.brushes:
            self._draw_brush(k)
        self._restyle_lines()
        self._fit()

    @staticmethod
    def _color(colormap, metric_position):
        if not math.isfinite(metric_position):
            return None
        return colormap.mapToQColor(np.array([metric_position]))[0]

    def _text(self, text, color, anchor, bold=False):
        backing = style.faint(style.scheme().background, 190)  # readable over the lines behind it
        item = pg.TextItem(text, color=color, anchor=anchor, fill=pg.mkBrush(backing))
        if bold:
            font = QFont(item.textItem.font())
            font.setBold(True)
            item.setFont(font)
        item.setZValue(3)
        self.plot.addItem(item)
        return item

    def _draw_axes(self):
        s = style.scheme()
        last = len(self.axes) - 1
        for k, axis in enumerate(self.axes):
            line = pg.PlotDataItem([k, k], [0.0, 1.0], pen=pg.mkPen(s.foreground if k < last else s.axis, width=1))
            line.setZValue(1)
            self.plot.addItem(line)
            name = self._text(axis.name, s.foreground, (0.5, 1.0), bold=True)
            self._placed.append((name, k, 1.0, "name"))
        self.tick_marks.setPen(pg.mkPen(s.foreground, width=1))
        self.tick_marks.setZValue(1)
        self.plot.addItem(self.tick_marks)

    def _draw_color_bar(self, colormap):
        """The metric's axis drawn in the colours of the lines, from the lowest metric to the highest."""
        if any(color is not None for color in self._colors.values()):
            bar = pg.PlotDataItem([len(self.axes) - 1] * 2, [0.0, 1.0],
                                  pen=colormap.getPen(span=(0.0, 1.0), width=COLOR_BAR_WIDTH))
            bar.setZValue(1)
            self.plot.addItem(bar)

    def _place_ticks(self, pixel_height):
        """Tick labels on each axis (left of it, right of the last) no closer than their text allows."""
        s = style.scheme()
        for item, *_ in [p for p in self._placed if p[3] != "name"]:
            self.plot.removeItem(item)
        self._placed = [p for p in self._placed if p[3] == "name"]
        last = len(self.axes) - 1
        for k, axis in enumerate(self.axes):
            for position, label in axis.ticks(min_gap=LABEL_PIXELS / max(pixel_height, 1.0)):
                side = "right" if k == last else "left"
                item = self._text(label, s.foreground, (0.0, 0.5) if side == "right" else (1.0, 0.5))
                self._placed.append((item, k, position, side))

    # ----- geometry: texts and margins in pixels -----
    @staticmethod
    def _widest(items):
        return max((item.textItem.boundingRect().width() for item in items), default=0.0)

    def _fit(self):
        """Set the range so that the first axis's labels, the last's and the names fit, and place the texts."""
        if not self.axes or not self.lines:
            return
        width, height = self.view_box.width(), self.view_box.height()
        if width < 10 or height < 10:
            return
        count = len(self.axes)
        names = [item for item, _, _, side in self._placed if side == "name"]
        staggered = self._widest(names) > (width - 120) / max(count - 1, 1)  # the names in two rows
        top = TOP_GAP + NAME_ROW * (2 if staggered else 1)
        plot_height = max(height - top - BOTTOM_MARGIN, 20.0)
        self._place_ticks(plot_height)
        first = [item for item, k, _, side in self._placed if k == 0 and side == "left"]
        last = [item for item, _, _, side in self._placed if side == "right"]
        bar = COLOR_BAR_WIDTH / 2
        left = max(self._widest(first) + TICK_LENGTH + LABEL_GAP, self._widest(names[:1]) / 2) + 2
        right = max(self._widest(last) + bar + LABEL_GAP, self._widest(names[-1:]) / 2) + 2
        per_axis = max(width - left - right, 10.0) / max(count - 1, 1)
        px, py = 1.0 / per_axis, 1.0 / plot_height
        self.view_box.setRange(xRange=(-left * px, count - 1 + right * px),
                               yRange=(-BOTTOM_MARGIN * py, 1.0 + top * py), padding=0)
        marks_x, marks_y = [], []
        for item, k, position, side in self._placed:
            if side == "name":
                row = k % 2 if staggered and 0 < k < count - 1 else 0
                item.setPos(k, 1.0 + (TOP_GAP + row * NAME_ROW) * py)
            elif side == "left":
                item.setPos(k - (TICK_LENGTH + LABEL_GAP) * px, position)
                marks_x += [k - TICK_LENGTH * px, k]
                marks_y += [position, position]
            else:
                item.setPos(k + (bar + LABEL_GAP) * px, position)
        self.tick_marks.setData(marks_x, marks_y)

    # ----- highlighting -----
    def highlight(self, name):
        """Highlight the run ``name`` (None: none) and show its values, as a click on its line does."""
        self.selected = name if name in self.lines else None
        self._restyle_lines()

    def highlighted(self):
        return self.hovered or self.selected

    def _set_hovered(self, name):
        if name != self.hovered:
            self.hovered = name
            self._restyle_lines()

    def _restyle_lines(self):
        shown = self.highlighted()
        kept = set(self.kept_runs())
        for name, item in self.lines.items():
            color = self._colors[name]
            pen_color = QColor(NO_METRIC_COLOR) if color is None else QColor(color)
            if name not in kept:
                pen_color.setAlpha(FILTERED_ALPHA)
            elif shown is not None and name != shown:
                pen_color.setAlpha(FADED_ALPHA)
            width = HIGHLIGHT_WIDTH if name == shown else LINE_WIDTH
            dash = Qt.PenStyle.DashLine if color is None else Qt.PenStyle.SolidLine
            item.setPen(pg.mkPen(pen_color, width=width, style=dash))
            item.setSymbolBrush(pg.mkBrush(pen_color))
            item.setSymbolSize(DOT_SIZE + (2 if name == shown else 0))
            item.setZValue(2 if name == shown else 0)
        self._show_info(shown)

    def _show_info(self, name):
        row = next((r for r in self.rows if r.name == name), None)
        if row is None:
            self.info.setText(HINT_TEXT)
            self.info.setStyleSheet(style.MUTED_STYLE)
            return
        values = "  ·  ".join(f"{axis.name} {axis.text(value)}" for axis, value in
                              zip(self.axes, self._values(row), strict=True))
        self.info.setText(f"<b>{html.escape(row.label)}</b>  ·  {html.escape(values)}")
        self.info.setStyleSheet("")

    def line_at(self, point):
        """The name of the run whose line is nearest ``point`` (data units) within HIT_PIXELS, or None."""
        pixel = self.view_box.viewPixelSize()
        x = np.arange(len(self.axes), dtype=float)
        distances = {name: polyline_distance(point, x, self.positions[name], pixel) for name in self.kept_runs()}
        name = min(distances, key=distances.get, default=None)
        return name if name is not None and distances[name] <= HIT_PIXELS else None

    def _view_point(self, scene_pos):
        if not self.lines or not self.view_box.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.view_box.mapSceneToView(scene_pos)
        return point.x(), point.y()

    def _on_mouse_moved(self, scene_pos):
        point = self._view_point(QPointF(scene_pos))
        self._set_hovered(None if point is None else self.line_at(point))

    def _on_mouse_clicked(self, event):
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self._view_point(event.scenePos())
        brushed = None if point is None else self._axis_at(point[0])
        if brushed in self.brushes:
            self.clear_brush(brushed)
            return
        name = None if point is None else self.line_at(point)
        self.highlight(name)
        if name is not None:
            self.runClicked.emit(name)

    # ----- brushing -----
    def kept_runs(self):
        """The names of the runs whose positions lie in every brushed range (all runs when none is brushed)."""
        return [name for name, positions in self.positions.items()
                if all(low <= positions[k] <= high for k, (low, high) in self.brushes.items())]

    def brush(self, index, low, high):
        """Keep only the runs whose position on axis ``index`` lies in [low, high] (positions, 0 to 1)."""
        low, high = sorted((max(0.0, min(1.0, low)), max(0.0, min(1.0, high))))
        self.brushes[index] = (low, high)
        self._draw_brush(index)
        self._restyle_lines()

    def clear_brush(self, index):
        self.brushes.pop(index, None)
        item = self._brush_items.pop(index, None)
        if item is not None:
            self.plot.removeItem(item)
        self._restyle_lines()

    def _draw_brush(self, index):
        low, high = self.brushes[index]
        item = self._brush_items.get(index)
        if item is None:
            item = pg.PlotDataItem(pen=pg.mkPen(BRUSH_COLOR, width=BRUSH_WIDTH))
            item.setZValue(1.5)
            self.plot.addItem(item)
            self._brush_items[index] = item
        item.setData([index, index], [low, high])

    def _axis_at(self, x):
        """The index of the axis within AXIS_GRAB pixels of ``x`` (data units), or None."""
        index = round(x)
        near = 0 <= index < len(self.axes) and abs(x - index) <= AXIS_GRAB * self.view_box.viewPixelSize()[0]
        return index if near else None

    def _on_drag(self, start, now):
        index = self._axis_at(start.x()) if self.lines else None
        if index is not None:
            self.brush(index, start.y(), now.y())
