"""Turning the mouse wheel over a control, the way the tests of the editor and of the training panel do."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication


def turn_wheel(widget, notches=1):
    """Send ``notches`` of the wheel (positive: away from the user) to the middle of ``widget``; returns whether
    the widget took the event (an ignored one goes on to the scroll area around it)."""
    at = QPointF(widget.rect().center())
    event = QWheelEvent(at, QPointF(widget.mapToGlobal(at)), QPoint(0, 0), QPoint(0, 120 * notches),
                        Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)
    return event.isAccepted()
