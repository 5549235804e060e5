"""Light and dark looks: the Fusion palettes of the widgets, the colours of the canvas and of the layer
categories. The chosen theme is remembered in QSettings (``appearance/theme``)."""

from dataclasses import dataclass

from PySide6.QtCore import QSettings
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QProxyStyle, QStyle, QStyleFactory

THEMES = ("light", "dark")
DEFAULT_THEME = "light"
_SETTINGS_KEY = "appearance/theme"

# One hue per catalogue category (engine.graph.CATEGORIES); nodes, palette and search show it. Groups
# (gui/editor/group_items.py) have their own slate.
CATEGORY_COLOURS = {
    "Group": "#757575",
    "Input/Output": "#7e57c2",
    "Convolution": "#1e88e5",
    "Pooling": "#00897b",
    "Linear": "#f57c00",
    "Attention": "#3949ab",
    "Normalisation": "#7cb342",
    "Activation": "#d81b60",
    "Regularisation": "#8d6e63",
    "Merge": "#c79100",
    "Reshape": "#546e7a",
}


def category_colour(category):
    return QColor(CATEGORY_COLOURS.get(category, "#78909c"))


@dataclass(frozen=True)
class CanvasStyle:
    """Colours of the node canvas for one theme."""

    background: QColor
    grid_minor: QColor
    grid_major: QColor
    node_body: QColor
    node_border: QColor
    text: QColor
    text_dim: QColor
    shape_text: QColor
    edge: QColor
    selection: QColor
    valid: QColor
    error: QColor
    warning: QColor
    tip_background: QColor


_CANVAS = {
    "light": dict(background="#eceff3", grid_minor="#e1e5ea", grid_major="#d2d7de", node_body="#ffffff",
                  node_border="#b4bcc7", text="#1d232b", text_dim="#6a7480", shape_text="#1565c0", edge="#7b8794",
                  selection="#ff8f00", valid="#2e7d32", error="#d32f2f", warning="#ef8f00", tip_background="#fffdf4"),
    "dark": dict(background="#1d2025", grid_minor="#24282e", grid_major="#2e333a", node_body="#2b2f36",
                 node_border="#121417", text="#e8ebef", text_dim="#98a2ad", shape_text="#7cc4ff", edge="#8d98a5",
                 selection="#ffb300", valid="#66bb6a", error="#ef5350", warning="#ffa726", tip_background="#33373e"),
}


def canvas_style(name):
    return CanvasStyle(**{k: QColor(v) for k, v in _CANVAS[name].items()})


def palette(name):
    """The widget palette for ``name`` (the light one is Fusion's own)."""
    if name == "light":
        return QPalette(QColor("#efefef"))
    p = QPalette()
    window, base, text = QColor("#2b2e33"), QColor("#202328"), QColor("#e6e8eb")
    disabled = QColor("#7c828a")
    roles = {
        QPalette.Window: window, QPalette.WindowText: text, QPalette.Base: base,
        QPalette.AlternateBase: QColor("#282b30"), QPalette.ToolTipBase: QColor("#33373e"),
        QPalette.ToolTipText: text, QPalette.PlaceholderText: disabled, QPalette.Text: text,
        QPalette.Button: QColor("#33373d"), QPalette.ButtonText: text, QPalette.BrightText: QColor("#ff6e6e"),
        QPalette.Light: QColor("#45494f"), QPalette.Midlight: QColor("#3a3e44"), QPalette.Mid: QColor("#25282c"),
        QPalette.Dark: QColor("#1a1c1f"), QPalette.Shadow: QColor("#0d0e10"),
        QPalette.Highlight: QColor("#3d7fd9"), QPalette.HighlightedText: QColor("#ffffff"),
        QPalette.Link: QColor("#6fb1ff"), QPalette.LinkVisited: QColor("#b18cff"),
    }
    for role, colour in roles.items():
        p.setColor(role, colour)
    for role in (QPalette.WindowText, QPalette.Text, QPalette.ButtonText, QPalette.HighlightedText):
        p.setColor(QPalette.Disabled, role, disabled)
    p.setColor(QPalette.Disabled, QPalette.Highlight, QColor("#4a4e55"))
    return p


# The colour Fusion darkens into the outline of check boxes and radio buttons (it uses the window colour, whose
# darker shade vanishes on the dark theme's base: the runs list's check boxes could not be seen).
INDICATOR_WINDOW = {"light": None, "dark": QColor("#a3abb5")}


class ThemedStyle(QProxyStyle):
    """Fusion, with check box and radio button outlines that stand out from the theme's base colour."""

    def __init__(self, name):
        super().__init__(QStyleFactory.create("Fusion"))
        self.indicator_window = INDICATOR_WINDOW[name]

    def drawPrimitive(self, element, option, painter, widget=None):
        indicator = element in (QStyle.PE_IndicatorCheckBox, QStyle.PE_IndicatorRadioButton)
        if indicator and self.indicator_window is not None:
            option = type(option)(option)
            option.palette.setColor(QPalette.Window, self.indicator_window)
        super().drawPrimitive(element, option, painter, widget)


def apply_theme(app, name):
    """Fusion style with the palette of ``name``; remembered as the app's current theme."""
    if name not in THEMES:
        raise ValueError(f"unknown theme {name!r}; expected one of {', '.join(THEMES)}")
    app.setStyle(ThemedStyle(name))
    app.setPalette(palette(name))
    app.setProperty("layerlab_theme", name)


def current_theme(app=None):
    app = app or QApplication.instance()
    name = app.property("layerlab_theme") if app is not None else None
    return name if name in THEMES else DEFAULT_THEME


def saved_theme():
    name = QSettings().value(_SETTINGS_KEY, DEFAULT_THEME)
    return name if name in THEMES else DEFAULT_THEME


def save_theme(name):
    QSettings().setValue(_SETTINGS_KEY, name)
