"""The start page: a panel in the middle of an empty canvas that says how to begin and offers the
templates as cards (as MATLAB's Deep Network Designer does). The canvas shows it while the network has
no nodes; it takes only the room it needs, so drops and double-clicks around it still reach the canvas. Where
even its most compact arrangement does not fit (a short canvas under a raised training panel), the cards
scroll rather than shrink, so every title stays readable.
"""

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QScrollArea, QVBoxLayout, QWidget

HOW_TO_START = "Drag layers from the palette, press Tab on the canvas, or start from a template:"
MARGIN = 12  # between the panel and the canvas's edges
# (columns, whether cards show their lead line, whether the how-to line shows), from the roomiest arrangement
# to the most compact (a short canvas, under a raised training panel, keeps the templates' titles readable)
ARRANGEMENTS = ((3, True, True), (2, True, True), (1, True, True), (3, False, True), (2, False, True),
                (1, False, True), (3, False, False), (2, False, False), (1, False, False), (5, False, False))


def lead(description):
    """A description's lead: what comes before its first colon or full stop ("A small ResNet")."""
    cut = min((k for k in (description.find(": "), description.find(". ")) if k > 0), default=len(description))
    return description[:cut].rstrip(".")


class TemplateCard(QPushButton):
    """A template's title in bold over its lead line; the tooltip has the whole description."""

    def __init__(self, template, parent=None):
        super().__init__(parent)
        self.key = template.key
        self.setToolTip(template.description)
        self.setCursor(Qt.PointingHandCursor)
        self.title = QLabel(template.title)
        font = QFont(self.title.font())
        font.setBold(True)
        self.title.setFont(font)
        self.lead = QLabel(lead(template.description))
        self.lead.setForegroundRole(QPalette.PlaceholderText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        for label in (self.title, self.lead):
            label.setAttribute(Qt.WA_TransparentForMouseEvents)
            layout.addWidget(label)

    def sizeHint(self):  # a push button sizes itself by its own text, of which a card has none
        return self.layout().sizeHint()

    def minimumSizeHint(self):
        return self.layout().minimumSize()


class CardScroll(QScrollArea):
    """The cards, asking for the room they need; given less, they scroll (vertically) instead of shrinking."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setFrameShape(QFrame.NoFrame)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.viewport().setAutoFillBackground(False)
        box = QWidget()
        box.setAutoFillBackground(False)
        self.grid = QGridLayout(box)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(8)
        self.setWidget(box)

    def sizeHint(self):
        return self.widget().sizeHint()

    def minimumSizeHint(self):
        hint = self.widget().sizeHint()
        return QSize(hint.width() + self.verticalScrollBar().sizeHint().width(), 0)


class StartPage(QFrame):
    templateChosen = Signal(str)  # a template's key

    def __init__(self, templates, parent=None):
        super().__init__(parent)
        self.setObjectName("start_page")
        self.setFrameShape(QFrame.StyledPanel)
        self.setAutoFillBackground(True)
        self.setBackgroundRole(QPalette.Base)
        heading = QLabel("Start a network")
        font = QFont(heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        heading.setFont(font)
        self.how_to = QLabel(HOW_TO_START)
        self.how_to.setWordWrap(True)
        self.cards = [TemplateCard(t) for t in templates]
        for card in self.cards:
            card.clicked.connect(lambda checked=False, key=card.key: self.templateChosen.emit(key))
        self.scroll = CardScroll()
        self.grid = self.scroll.grid
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 14, 18, 16)
        layout.setSpacing(8)
        layout.addWidget(heading)
        layout.addWidget(self.how_to)
        layout.addWidget(self.scroll, 1)
        self.arrangement = None
        self._arrange(*ARRANGEMENTS[0])

    def _arrange(self, columns, leads, how_to):
        if self.arrangement == (columns, leads, how_to):
            return
        self.arrangement = (columns, leads, how_to)
        self.how_to.setVisible(how_to)
        for k, card in enumerate(self.cards):
            self.grid.addWidget(card, k // columns, k % columns)
            card.lead.setVisible(leads)
        self.grid.invalidate()
        self.scroll.updateGeometry()
        self.layout().invalidate()

    def place(self, area):
        """Centre the panel in ``area`` (the canvas's rectangle) in the roomiest arrangement that fits (or, where
        none does, the one that overflows least)."""
        room = area.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN)
        overflows = []
        for arrangement in ARRANGEMENTS:
            self._arrange(*arrangement)
            hint = self.sizeHint()
            overflow = max(0, hint.width() - room.width()) + max(0, hint.height() - room.height())
            if overflow == 0:
                break
            overflows.append((overflow, arrangement))
        else:  # nothing fits: the arrangement that overflows least
            self._arrange(*min(overflows)[1])
        size = self.sizeHint().boundedTo(room.size())
        self.setGeometry(QRect(room.center() - QPoint(size.width() // 2, size.height() // 2), size))
