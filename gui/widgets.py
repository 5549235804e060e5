"""Behaviour shared by the application's controls.

``wheel_only_when_focused``: a combo box, spin box or slider changes its value with the mouse wheel only
after the user has clicked or tabbed into it. A wheel turned over it while scrolling a form goes on to the
scroll area around it, so scrolling the training settings cannot switch the optimizer by accident.

``size_to_current_page``: a stack of pages (tabs) as small as the page on show allows.
"""

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QSizePolicy


class _PassUnfocusedWheel(QObject):
    """Event filter: the watched control ignores a wheel event unless it has the focus. Returning True with the
    event not accepted keeps the control from handling it while Qt still offers it to the parents."""

    def eventFilter(self, watched, event):
        if event.type() == QEvent.Type.Wheel and not watched.hasFocus():
            event.ignore()
            return True
        return False


def wheel_only_when_focused(control):
    """Make ``control`` take the wheel only when focused (and take the focus only by click or Tab, not by the
    wheel itself); returns it."""
    control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
    control.installEventFilter(_PassUnfocusedWheel(control))
    return control


def size_to_current_page(pages):
    """Let only the page on show of ``pages`` (a QStackedWidget or QTabWidget) set its minimum size, now and
    after every change of page: Qt takes the largest page's, so one tall page would make every page scroll."""

    def fit(_index=None):
        for index in range(pages.count()):
            page = pages.widget(index)
            policy = QSizePolicy.Policy.Preferred if page is pages.currentWidget() else QSizePolicy.Policy.Ignored
            page.setSizePolicy(policy, policy)

    pages.currentChanged.connect(fit)
    fit()
