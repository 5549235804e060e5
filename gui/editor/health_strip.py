"""The health strip under a node while a run measures it: the chosen measure's latest value and a sparkline of
its history, framed amber or red when the value leaves its band; the tooltip says what the measure means and
what people usually do about it. The editor only draws what it is given (``HealthBadge``); the training side
decides the values and levels."""

import math
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

HEIGHT = 22.0
GAP = 5.0  # between the node's body and the strip
SPARK_WIDTH = 60.0
SPARK_POINTS = 120  # the latest measurements a sparkline draws


@dataclass(frozen=True, eq=False)
class HealthBadge:
    text: str  # "Δw/w 3.1e-3"
    level: int  # 0 fine, 1 amber, 2 red
    series: np.ndarray  # the measure's latest SPARK_POINTS samples (NaN: not measured), log-scaled if ``log_scale``
    log_scale: bool
    tooltip: str


class HealthStrip(QGraphicsItem):
    def __init__(self, parent, width):
        super().__init__(parent)
        self.width = width
        self.badge = None
        self._path = None
        self.setZValue(2)
        self.setVisible(False)
        self.setAcceptedMouseButtons(Qt.NoButton)
        self.setCacheMode(QGraphicsItem.DeviceCoordinateCache)

    @property
    def level(self):
        """The shown badge's level, 0 without one."""
        return self.badge.level if self.badge is not None else 0

    def show_badge(self, badge):
        if badge is self.badge:  # the same record shown again (a document sync): nothing to redraw
            return
        self.badge = badge
        self.setToolTip(badge.tooltip if badge else "")
        self.setVisible(badge is not None)
        self._path = None if badge is None else sparkline(
            badge.series, badge.log_scale,
            QRectF(self.width - SPARK_WIDTH - 5.5, 4.5, SPARK_WIDTH, HEIGHT - 9))
        self.update()

    def boundingRect(self):
        return QRectF(0, 0, self.width, HEIGHT)

    def paint(self, painter, option, widget=None):
        badge = self.badge
        if badge is None:
            return
        style = self.scene().style
        colour = level_colour(style, badge.level)
        rect = self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(colour if badge.level else style.node_border, 1.6 if badge.level else 1.0))
        painter.setBrush(style.node_body)
        painter.drawRoundedRect(rect, 5, 5)
        if badge.level:
            tint = QColor(colour)
            tint.setAlpha(40)
            painter.setBrush(tint)
            painter.drawRoundedRect(rect, 5, 5)
        font = QFont()
        font.setPixelSize(11)
        painter.setFont(font)
        painter.setPen(colour if badge.level else style.text)
        text_rect = rect.adjusted(6, 0, -SPARK_WIDTH - 8, 0)
        painter.drawText(text_rect, Qt.AlignVCenter | Qt.AlignLeft,
                         painter.fontMetrics().elidedText(badge.text, Qt.ElideRight, int(text_rect.width())))
        if self._path is not None:
            painter.setPen(QPen(colour, 1.3))
            painter.setBrush(Qt.NoBrush)
            painter.drawPath(self._path)


def level_colour(style, level):
    """The colour of a health level (0 fine, 1 amber, 2 red) in a canvas style (``gui.theme.CanvasStyle``)."""
    return (style.text_dim, style.warning, style.error)[level]


def sparkline(series, log_scale, rect):
    """The path of ``series`` (its finite values) scaled into ``rect``, or None with fewer than two."""
    values = np.asarray(series, np.float64)
    if log_scale:
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.log10(values)
    x = np.nonzero(np.isfinite(values))[0]
    if len(x) < 2:
        return None
    y = values[x]
    low, high = float(y.min()), float(y.max())
    span = high - low if high > low else 1.0
    first, last = x[0], x[-1]
    path = QPainterPath()
    for k, (i, v) in enumerate(zip(x.tolist(), y.tolist(), strict=True)):
        point = QPointF(rect.left() + rect.width() * (i - first) / max(last - first, 1),
                        rect.bottom() - rect.height() * ((v - low) / span if high > low else 0.5))
        if k == 0:
            path.moveTo(point)
        else:
            path.lineTo(point)
    return path


def compact(value, share=False):
    """A value in at most about six characters: 0.0031 -> '3.1e-3', 0.25 -> '0.25', 1234 -> '1.2e3'; a share
    as a percentage (0.25 -> '25%')."""
    if share and math.isfinite(value):
        return f"{100 * value:.0f}%"
    if math.isnan(value):
        return "–"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0 or 0.01 <= abs(value) < 999.5:
        return f"{value:.3g}" if abs(value) >= 1 else f"{value:.2g}"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{float(mantissa):g}e{int(exponent)}"
